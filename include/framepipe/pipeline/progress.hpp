// A one-line progress display on stderr, only when stderr is a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace framepipe {

class Progress {
 public:
  // total <= 0: unknown; enabled false: never draws (a caller that reports otherwise)
  Progress(std::string label, int64_t total, bool enabled = true);
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

}  // namespace framepipe
