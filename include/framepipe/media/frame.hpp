// Decoded, converted frames as handed to users: pixels plus provenance.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace framepipe {

// Where a frame came from. `t` is pts * time_base, the value ffprobe prints as pts_time.
struct FrameInfo {
  int64_t index = -1;
  int64_t pts = 0;
  double t = 0;
  bool keyframe = false;
};

// One frame, H x W x C uint8, rows packed (stride = W * C). Reused by reader calls that take
// it by reference: its buffer only grows, so a loop allocates once.
struct Frame {
  FrameInfo info;
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;

  size_t size_bytes() const { return static_cast<size_t>(width) * height * channels; }
  const uint8_t* data() const { return pixels.data(); }
  uint8_t* data() { return pixels.data(); }
};

// N frames of one size in one contiguous N x H x W x C buffer.
struct Batch {
  std::vector<FrameInfo> info;
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;

  size_t size() const { return info.size(); }
  size_t frame_bytes() const { return static_cast<size_t>(width) * height * channels; }
  const uint8_t* frame_data(size_t k) const { return pixels.data() + k * frame_bytes(); }
  uint8_t* frame_data(size_t k) { return pixels.data() + k * frame_bytes(); }
};

}  // namespace framepipe
