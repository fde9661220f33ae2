// The results of a run as one file (DESIGN.md, Results): JSON Lines, or CSV when the name ends
// in .csv, both from the same result objects, so the two hold the same rows. Written as a
// part file and renamed when the run is complete (a device or FIFO straight through); "-" is
// stdout; "" no file. Every line also
// goes to a callback, when there is one.
#pragma once

#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/part_file.hpp"
#include "framepipe/sinks/result_path.hpp"

namespace framepipe {

// Keys in the order DESIGN.md names them: video, frame, pts, t, then the payload.
using ResultLine = nlohmann::ordered_json;

// What the writer puts in the file for one result: its JSON line (strings that are not UTF-8
// carry U+FFFD), and its CSV rows under the CSV header (none for embeddings).
std::string result_json(const ResultLine& j);
std::vector<std::string> result_csv_rows(const ResultLine& j);
const char* result_csv_header();

class ResultWriter {
 public:
  ResultWriter(std::string path, std::function<void(const std::string&)> callback);
  void line(const ResultLine& j);
  void flush();
  // Complete: the part file becomes the file. Not: it stays, whole lines only.
  void close(bool complete);
  // The part file a run that did not complete leaves ("" for stdout, no file, or no line
  // written: then no part file is left).
  std::string kept_part() const;
  // A line could not be written (or the callback threw): what follows would not reach it.
  bool broken() const { return broken_; }

 private:
  std::ostream& out();
  std::string path_;
  PartFile file_;
  std::function<void(const std::string&)> callback_;
  std::ofstream stream_;
  bool csv_ = false, closed_ = false, committed_ = false, broken_ = false;
  int64_t lines_ = 0;  // results written to the file
};

}  // namespace framepipe
