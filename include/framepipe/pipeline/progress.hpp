// Progress on stderr: on a terminal a bar redrawn in place; anywhere else (a log file, a
// notebook, a pipe) a plain line every `interval` seconds and one at the end, so a job's
// log shows how it went.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace framepipe {

// Where a job with several parts (a video each) stands: `done` of `total` (0: unknown) rows
// in the part named `label`, at `rate` rows a second, `eta` seconds to go (< 0: unknown);
// `finished` once, at the part's end.
struct ProgressUpdate {
  std::string label;
  int64_t done = 0, total = 0;
  double rate = 0, eta = -1;
  bool finished = false;
};

class Progress {
 public:
  // total <= 0: unknown; enabled false: never draws (a caller that reports otherwise).
  // `interval`: seconds between lines where stderr is not a terminal.
  // `unit`: what is counted ("rows", "frames").
  Progress(std::string label, int64_t total, bool enabled = true, double interval = 10, std::string unit = "rows");
  ~Progress();
  void update(int64_t done);
  void finish();
  ProgressUpdate state() const;  // rate and ETA so far

 private:
  std::string label_, unit_;
  int64_t total_;
  bool enabled_, terminal_;
  double interval_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_;
  int64_t done_ = 0;
  void draw();
};

// Draws updates as Progress lines, one per part: a job's on_progress.
class ProgressDisplay {
 public:
  explicit ProgressDisplay(double interval = 10) : interval_(interval) {}
  void operator()(const ProgressUpdate& u);

 private:
  double interval_;
  std::shared_ptr<Progress> line_;  // shared: a std::function holding this display is copyable
};

}  // namespace framepipe
