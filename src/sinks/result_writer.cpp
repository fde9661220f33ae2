#include "sinks/result_writer.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <vector>

#include "common/json_text.hpp"
#include "framepipe/error.hpp"

namespace framepipe {

namespace {

// CSV: one row per class (classifiers), per box (detectors), per event and per gap, under
// one header; frame, pts and t name where each row was taken (a clip's first frame).
constexpr const char* kCsvHeader = "video,kind,frame,pts,t,label,score,x1,y1,x2,y2,track,start,end";

std::string csv_field(const ResultLine& v) {
  if (v.is_null()) return "";
  if (v.is_string()) {
    // Quoted (RFC 4180: quotes doubled; commas and line breaks inside stay data), with bytes
    // that are not UTF-8 as U+FFFD, as in the JSON form.
    std::string s = ResultLine::parse(json_text(v)).get<std::string>(), out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  }
  return json_text(v);
}

// The first of an array (a clip's first frame), or the value itself.
ResultLine first_of(const ResultLine& j, const char* key) {
  if (!j.contains(key)) return nullptr;
  const ResultLine& v = j.at(key);
  return v.is_array() ? (v.empty() ? ResultLine(nullptr) : v.front()) : v;
}

struct CsvRow {
  const char* kind;
  ResultLine label, score, box, track, start, end;
};

std::string csv_row(const ResultLine& j, const CsvRow& r) {
  // Appended field by field: GCC 12 reports a false -Wrestrict on chains of operator+.
  std::string s;
  auto field = [&s](const std::string& f) {
    if (!s.empty()) s += ',';
    s += f;
  };
  field(csv_field(j.at("video")));
  field(r.kind);
  field(csv_field(first_of(j, j.contains("frame") ? "frame" : "frames")));
  field(csv_field(first_of(j, "pts")));
  field(csv_field(first_of(j, "t")));
  field(csv_field(r.label));
  field(csv_field(r.score));
  for (size_t k = 0; k < 4; ++k) field(r.box.is_array() ? csv_field(r.box[k]) : std::string());
  field(csv_field(r.track));
  field(csv_field(r.start));
  field(csv_field(r.end));
  return s;
}

std::vector<std::string> csv_rows(const ResultLine& j) {
  std::vector<std::string> out;
  const ResultLine none = nullptr;
  if (j.contains("classes")) {
    const ResultLine& cls = j.contains("smoothed") ? j.at("smoothed") : j.at("classes");
    for (const auto& c : cls) out.push_back(csv_row(j, {"class", c.at("label"), c.at("score"), none, none, none, none}));
  } else if (j.contains("objects")) {
    for (const auto& o : j.at("objects"))
      out.push_back(csv_row(j, {"object", o.at("label"), o.at("score"), o.at("box"), o.value("track", none), none, none}));
  } else if (j.contains("segment")) {
    const ResultLine& s = j.at("segment");
    out.push_back(csv_row(j, {"segment", s.at("label"), s.at("score"), none, none, s.at("start"), s.at("end")}));
  } else if (j.contains("gap")) {
    const ResultLine& g = j.at("gap");
    out.push_back(csv_row(j, {"gap", g.at("reason"), none, none, none, g.at("start"), g.at("end")}));
  } else if (j.contains("error")) {
    out.push_back(csv_row(j, {"error", j.at("error"), none, none, none, none, none}));
  }
  return out;  // embeddings have no CSV form: use JSON Lines
}

}  // namespace

std::string result_json(const ResultLine& j) { return json_text(j); }
std::vector<std::string> result_csv_rows(const ResultLine& j) { return csv_rows(j); }
const char* result_csv_header() { return kCsvHeader; }

namespace {

bool is_file(const std::string& path) { return !path.empty() && path != "-"; }

}  // namespace

void check_results_path(const std::string& path) {
  if (!is_file(path) || is_stream_path(path)) return;  // stdout, a device, a FIFO: JSON Lines unless .csv
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".jsonl" || ext == ".ndjson" || ext == ".csv") return;
  throw ConfigError("results file '" + path + "': framepipe does not write " +
                    (ext.empty() ? std::string("a file without an extension") : "'" + ext + "' files") +
                    "; it writes .jsonl (JSON Lines, also .ndjson) or .csv, or '-' for standard output");
}

ResultWriter::ResultWriter(std::string path, std::function<void(const std::string&)> callback)
    : path_(std::move(path)), file_(path_), callback_(std::move(callback)) {
  check_results_path(path_);
  csv_ = std::filesystem::path(path_).extension() == ".csv";
  if (is_file(path_)) {
    stream_.open(file_.part(), std::ios::trunc);
    if (!stream_) throw IoError("cannot write results to '" + file_.part() + "': " + std::strerror(errno), errno);
  }
  if (csv_) out() << kCsvHeader << '\n';
}

void ResultWriter::line(const ResultLine& j) {
  struct Mark {  // an exception out of here (the file, the callback) leaves the writer broken
    bool& broken;
    bool done = false;
    ~Mark() { broken = broken || !done; }
  } mark{broken_};
  const std::string text = result_json(j);
  if (!path_.empty()) {
    std::ostream& o = out();
    if (csv_) {
      for (const auto& r : csv_rows(j)) o << r << '\n';
    } else {
      o << text << '\n';
    }
    if (!o) throw IoError("cannot write results to '" + file_.part() + "': " + std::strerror(errno ? errno : EIO), errno);
    ++lines_;
  }
  if (callback_) callback_(text);
  mark.done = true;
}

void ResultWriter::flush() {
  if (!path_.empty()) out().flush();
}

void ResultWriter::close(bool complete) {
  if (path_.empty() || closed_) return;
  if (path_ == "-") {
    std::cout.flush();
    return;
  }
  closed_ = true;
  stream_.close();
  if (!complete) {
    // Nothing to keep: a run that wrote no result (it failed to open its input, say) leaves no
    // empty part file behind, and says nothing was kept.
    if (lines_ == 0 && !file_.direct()) file_.discard();
    return;
  }
  file_.commit();
  committed_ = true;
}

std::string ResultWriter::kept_part() const {
  return is_file(path_) && !file_.direct() && closed_ && !committed_ && lines_ > 0 ? file_.part() : std::string();
}

std::ostream& ResultWriter::out() { return path_ == "-" ? std::cout : stream_; }

}  // namespace framepipe
