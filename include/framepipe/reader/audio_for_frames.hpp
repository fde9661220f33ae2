// Audio aligned to video: the samples that play while each frame is shown.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "framepipe/media/audio_reader.hpp"
#include "framepipe/reader/video_reader.hpp"

namespace framepipe {

// For each index, [first, end) of the audio samples that play while frame i is on screen:
// from its time to the next frame's (the last frame: to the end of the video stream), both
// on the container's clock, which the two streams share. Negative indices count from the end.
std::vector<std::pair<int64_t, int64_t>> audio_for_frames(VideoReader& video, const AudioReader& audio,
                                                          const std::vector<int64_t>& indices);

}  // namespace framepipe
