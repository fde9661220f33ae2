// A one-line progress display on stderr, only when stderr is a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
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

// Where a job with several parts (a video each) stands: `done` of `total` (0: unknown) in the
// part named `label`; `finished` once, at the part's end.
struct ProgressUpdate {
  std::string label;
  int64_t done = 0, total = 0;
  bool finished = false;
};

// Draws updates as Progress lines, one per part: a job's on_progress for a terminal.
class ProgressDisplay {
 public:
  void operator()(const ProgressUpdate& u);

 private:
  std::shared_ptr<Progress> line_;  // shared: a std::function holding this display is copyable
};

}  // namespace framepipe
