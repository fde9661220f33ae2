#include "framepipe/reader/audio_for_frames.hpp"

#include <string>

#include "framepipe/error.hpp"

namespace framepipe {

std::vector<std::pair<int64_t, int64_t>> audio_for_frames(VideoReader& video, const AudioReader& audio,
                                                          const std::vector<int64_t>& indices) {
  const FrameIndex& index = video.index();
  std::vector<std::pair<int64_t, int64_t>> out;
  out.reserve(indices.size());
  for (int64_t i : indices) {
    const int64_t k = i < 0 ? i + index.size() : i;
    if (k < 0 || k >= index.size())
      throw OutOfRangeError(video.source().name() + ": frame " + std::to_string(i) + " is out of range [0, " +
                            std::to_string(index.size()) + ")");
    const double t0 = index.time_of(k);
    const double t1 = k + 1 < index.size() ? index.time_of(k + 1) : index.end_seconds();
    out.push_back(audio.range_between(t0, t1));
  }
  return out;
}

}  // namespace framepipe
