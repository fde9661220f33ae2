// Which frames to take. The simple rules the foundation's CLI needs; the sampling layer
// grows from here (scene, clips, ...).
#pragma once

#include <cstdint>
#include <vector>

#include "framepipe/media/frame_index.hpp"

namespace framepipe {

// 0, n, 2n, ... < size.
std::vector<int64_t> sample_every(int64_t size, int64_t n);
// The frame on screen at each tick t0 + k / fps (t0: the first frame's time) up to the end,
// from the index's timestamps, so variable frame rate is handled; consecutive ticks that
// land on the same frame yield it once.
std::vector<int64_t> sample_fps(const FrameIndex& index, double fps);

}  // namespace framepipe
