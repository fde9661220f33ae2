// A one-line progress display on stderr, only when stderr is a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace framepipe::cli {

class Progress {
 public:
  Progress(std::string label, int64_t total);  // total <= 0: unknown
  ~Progress();
  void update(int64_t done);
  void finish();

 private:
  std::string label_;
  int64_t total_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_;
  int64_t done_ = 0;
  void draw();
};

}  // namespace framepipe::cli
