// Where a source pixel lands in the output image, and back. One affine map per frame size:
//   out = src * scale + offset      (per axis)
// The resize modes of ImageOptions all reduce to a source rectangle scaled into an output
// rectangle inside an output canvas.
#pragma once

#include <array>
#include <cstdint>

#include "framepipe/image/pixel_format.hpp"

namespace framepipe {

struct Rect {
  int x = 0, y = 0, width = 0, height = 0;
  bool operator==(const Rect&) const = default;
};

struct Geometry {
  int src_width = 0, src_height = 0;
  int out_width = 0, out_height = 0;  // the canvas handed to the user
  Rect src_rect;                      // part of the source that is used (crop)
  Rect dst_rect;                      // where it is drawn in the canvas (letterbox)
  double scale_x = 1, scale_y = 1;    // dst_rect.width / src_rect.width, ...

  bool is_identity() const {
    return src_rect == Rect{0, 0, src_width, src_height} && dst_rect == src_rect &&
           out_width == src_width && out_height == src_height;
  }
  // Source pixel coordinates -> output coordinates, and the inverse.
  std::array<double, 2> to_output(double x, double y) const;
  std::array<double, 2> to_source(double x, double y) const;
  // Boxes [x1, y1, x2, y2]; to_source clamps to the source frame.
  std::array<double, 4> box_to_output(const std::array<double, 4>& b) const;
  std::array<double, 4> box_to_source(const std::array<double, 4>& b) const;
};

// The largest output size make_geometry accepts when one is asked for, 8192 x 8192 pixels (a
// frame of it is 192 MiB in RGB): a size option past it is a ConfigError, not an allocation
// that fails later. (A source's own size is bounded by ReaderOptions::max_pixels.)
inline constexpr int64_t kMaxOutputPixels = int64_t{8192} * 8192;

// chroma_align_x/y: source crops start on multiples of these so that subsampled chroma
// planes can be addressed by pointer offset (2 for 4:2:0).
Geometry make_geometry(int src_width, int src_height, const ImageOptions& opt,
                       int chroma_align_x = 1, int chroma_align_y = 1);

}  // namespace framepipe
