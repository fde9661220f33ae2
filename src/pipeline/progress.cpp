#include "framepipe/pipeline/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace framepipe {

Progress::Progress(std::string label, int64_t total, bool enabled, double interval, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      enabled_(enabled),
      terminal_(::isatty(STDERR_FILENO) == 1),
      interval_(interval) {
  start_ = last_ = std::chrono::steady_clock::now();
}

Progress::~Progress() { finish(); }

void Progress::update(int64_t done) {
  done_ = done;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const auto every = terminal_ ? std::chrono::duration<double>(0.2) : std::chrono::duration<double>(interval_);
  if (now - last_ < every) return;
  last_ = now;
  draw();
}

ProgressUpdate Progress::state() const {
  ProgressUpdate u;
  u.label = label_;
  u.done = done_;
  u.total = total_;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  u.rate = secs > 0 ? done_ / secs : 0;
  u.eta = total_ > 0 && u.rate > 0 ? (total_ - done_) / u.rate : -1;
  u.finished = finished_;
  return u;
}

void Progress::draw() {
  const ProgressUpdate u = state();
  const char* lead = terminal_ ? "\r" : "framepipe: ";
  const char* tail = terminal_ ? "   " : "\n";
  if (total_ > 0) {
    const double share = static_cast<double>(done_) / static_cast<double>(total_);
    std::string bar;
    if (terminal_) {  // [#########.........]
      const int width = 24, filled = std::clamp(static_cast<int>(share * width + 0.5), 0, width);
      bar.assign(static_cast<size_t>(width + 3), '.');  // filled in place: GCC 12 warns falsely on chains of +
      bar.front() = '[';
      for (int i = 0; i < filled; ++i) bar[static_cast<size_t>(1 + i)] = '#';
      bar[static_cast<size_t>(width + 1)] = ']';
      bar.back() = ' ';
    }
    std::fprintf(stderr, "%s%s: %s%lld/%lld %s (%.0f%%), %.1f %s/s, ETA %.0f s%s", lead, label_.c_str(), bar.c_str(),
                 static_cast<long long>(done_), static_cast<long long>(total_), unit_.c_str(), 100.0 * share, u.rate,
                 unit_.c_str(), u.eta < 0 ? 0.0 : u.eta, tail);
  } else {
    std::fprintf(stderr, "%s%s: %lld %s, %.1f %s/s%s", lead, label_.c_str(), static_cast<long long>(done_), unit_.c_str(),
                 u.rate, unit_.c_str(), tail);
  }
  std::fflush(stderr);
}

void Progress::finish() {
  if (!enabled_ || finished_) return;
  finished_ = true;
  draw();
  if (terminal_) std::fputc('\n', stderr);
}

void ProgressDisplay::operator()(const ProgressUpdate& u) {
  if (!line_) line_ = std::make_shared<Progress>(u.label, u.total, true, interval_);
  line_->update(u.done);
  if (!u.finished) return;
  line_->finish();
  line_.reset();
}

}  // namespace framepipe
