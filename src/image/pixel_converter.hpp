// PixelConverter: decoded frame -> 8-bit RGB / BGR / GRAY, with the resize of a Geometry fused
// into the same swscale pass. The swscale context is keyed by everything that shapes it and
// rebuilt only when the key changes. Without a resize the output is bit-exact with
//   ffmpeg -i X -vf scale=in_color_matrix=M:in_range=R -pix_fmt rgb24
// for the M and R that resolve_matrix/resolve_range choose.
#pragma once

#include <cstddef>
#include <cstdint>

#include "framepipe/image/geometry.hpp"
#include "framepipe/image/pixel_format.hpp"
#include "media/av.hpp"

namespace framepipe {

// The matrix and range the contract applies: explicit request, else the stream's own, else
// BT.709 above 576 lines / BT.601 otherwise; full range for yuvj* (MJPEG) or when tagged.
ColorMatrix resolve_matrix(AVColorSpace stream_space, int height, ColorMatrix requested);
ColorRange resolve_range(AVColorRange stream_range, AVPixelFormat format, ColorRange requested);

class PixelConverter {
 public:
  // Writes g.out_height rows of g.out_width * channels(opt.pix) bytes, dst_stride apart.
  void convert(const AVFrame* src, const Geometry& g, const ImageOptions& opt, uint8_t* dst, size_t dst_stride);
  // The other way, for an encoder: packed RGB or BGR rows of dst->width * 3 bytes (gray:
  // dst->width) into `dst`
  // (its format, size and buffers set), full range to limited with `matrix`'s coefficients.
  void pack(const uint8_t* src, PixelFormat order, ColorMatrix matrix, AVFrame* dst);
  int rebuilds() const { return rebuilds_; }  // how often the swscale context was (re)made

 private:
  struct Key {
    int src_w = 0, src_h = 0, src_fmt = -1;
    Rect src_rect, dst_rect;
    int dst_fmt = -1, flags = 0;
    ColorMatrix matrix = ColorMatrix::Auto;
    ColorRange range = ColorRange::Auto;
    bool operator==(const Key&) const = default;
  };
  void rebuild(const Key& key);
  void rebuild_pack(const Key& key);

  Key key_;
  av::SwsPtr sws_;
  av::AlignedBytes scratch_;
  size_t scratch_size_ = 0;
  int rebuilds_ = 0;
};

}  // namespace framepipe
