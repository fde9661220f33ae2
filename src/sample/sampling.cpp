#include "framepipe/sample/sampling.hpp"

#include <cmath>
#include <string>

#include "framepipe/error.hpp"

namespace framepipe {

std::vector<int64_t> sample_every(int64_t size, int64_t n) {
  if (n <= 0) throw ConfigError("every: N must be positive, got " + std::to_string(n));
  std::vector<int64_t> out;
  for (int64_t i = 0; i < size; i += n) out.push_back(i);
  return out;
}

std::vector<int64_t> sample_fps(const FrameIndex& index, double fps) {
  if (!(fps > 0) || !std::isfinite(fps)) throw ConfigError("fps: F must be a positive number, got " + std::to_string(fps));
  std::vector<int64_t> out;
  if (index.empty()) return out;
  const double t0 = index.time_of(0), end = index.end_seconds();
  for (int64_t k = 0;; ++k) {
    const double t = t0 + static_cast<double>(k) / fps;
    if (t >= end) break;
    const int64_t i = index.frame_at(t);
    if (i >= 0 && (out.empty() || out.back() != i)) out.push_back(i);
  }
  return out;
}

}  // namespace framepipe
