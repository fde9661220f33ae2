// Per-frame image operations, chained and spelled as text, for `framepipe transform --ops`:
//
//   auto ops = framepipe::FrameOps::parse("resize=640x360,gaussian=5,canny=50:150");
//   ops.apply(frame, framepipe::PixelFormat::Rgb);     // in place; the size may change
//
// Every operation takes and gives H x W x 3 (gray and canny give grey in all three channels),
// so any chain can be encoded.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "framepipe/image/geometry.hpp"
#include "framepipe/image/pixel_format.hpp"
#include "framepipe/media/frame.hpp"

namespace framepipe {

class FrameOps {
 public:
  // Throws ConfigError naming the operation and showing grammar().
  static FrameOps parse(const std::string& text);
  static const char* grammar();
  // `order`: the frame's channel order (gray weights the channels by it).
  void apply(Frame& frame, PixelFormat order = PixelFormat::Rgb) const;
  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }

  struct Op;

 private:
  std::vector<std::shared_ptr<const Op>> ops_;
};

// Fits an 8-bit frame whose channels are already in opt.pix order into g's canvas as the
// decoder's fused resize does (g.src_rect scaled into g.dst_rect, the rest the pad colour),
// with opt.interpolation; for frames that must exist at two sizes (a live run's annotated
// copy at the source size, the model's input at its own). dst's buffer is reused.
void resize_frame(const Frame& src, const Geometry& g, const ImageOptions& opt, Frame& dst);

}  // namespace framepipe
