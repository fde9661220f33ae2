#include "framepipe/pipeline/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace framepipe {

Progress::Progress(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled && ::isatty(STDERR_FILENO) == 1) {
  start_ = last_ = std::chrono::steady_clock::now();
}

Progress::~Progress() { finish(); }

void Progress::update(int64_t done) {
  done_ = done;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  draw();
}

void Progress::draw() {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0 ? done_ / secs : 0;
  if (total_ > 0) {
    const double eta = rate > 0 ? (total_ - done_) / rate : 0;
    std::fprintf(stderr, "\r%s: %lld/%lld (%.0f%%) %.1f fps, ETA %.0f s   ", label_.c_str(),
                 static_cast<long long>(done_), static_cast<long long>(total_), 100.0 * done_ / total_, rate, eta);
  } else {
    std::fprintf(stderr, "\r%s: %lld %.1f fps   ", label_.c_str(), static_cast<long long>(done_), rate);
  }
  std::fflush(stderr);
}

void Progress::finish() {
  if (!enabled_ || finished_) return;
  finished_ = true;
  draw();
  std::fputc('\n', stderr);
}

void ProgressDisplay::operator()(const ProgressUpdate& u) {
  if (!line_) line_ = std::make_shared<Progress>(u.label, u.total);
  line_->update(u.done);
  if (!u.finished) return;
  line_->finish();
  line_.reset();
}

}  // namespace framepipe
