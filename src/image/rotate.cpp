#include "image/rotate.hpp"

#include <cmath>
#include <cstring>
#include <string>

extern "C" {
#include <libavutil/pixdesc.h>
}

#include "framepipe/error.hpp"

namespace framepipe {

int upright_turn(double ccw) {
  if (std::isnan(ccw)) return 0;
  double cw = -ccw;  // as ffmpeg 5.1's get_rotation()
  cw -= 360 * std::floor(cw / 360 + 0.9 / 360);
  for (int turn : {90, 180, 270})
    if (std::fabs(cw - turn) < 1.0) return turn;
  return 0;
}

namespace {

// One plane, `bpp` bytes a pixel, w x h in the source.
void turn_plane(const uint8_t* s, int ss, uint8_t* d, int ds, int w, int h, int bpp, int clockwise) {
  if (clockwise == 180) {
    for (int y = 0; y < h; ++y) {
      const uint8_t* srow = s + static_cast<ptrdiff_t>(h - 1 - y) * ss;
      uint8_t* drow = d + static_cast<ptrdiff_t>(y) * ds;
      for (int x = 0; x < w; ++x) std::memcpy(drow + x * bpp, srow + (w - 1 - x) * bpp, static_cast<size_t>(bpp));
    }
    return;
  }
  // The output is h wide and w high. clock: out(x, y) = in(y, h-1-x); cclock: in(w-1-y, x).
  for (int y = 0; y < w; ++y) {
    uint8_t* drow = d + static_cast<ptrdiff_t>(y) * ds;
    const int sx = clockwise == 90 ? y : w - 1 - y;
    for (int x = 0; x < h; ++x) {
      const int sy = clockwise == 90 ? h - 1 - x : x;
      std::memcpy(drow + x * bpp, s + static_cast<ptrdiff_t>(sy) * ss + sx * bpp, static_cast<size_t>(bpp));
    }
  }
}

}  // namespace

void rotate_frame(const AVFrame* src, int clockwise, AVFrame* dst) {
  const auto fmt = static_cast<AVPixelFormat>(src->format);
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(fmt);
  if (!d || (d->flags & (AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_PAL)))
    throw UnsupportedError(std::string("cannot rotate frames of pixel format '") + (d ? d->name : "?") + "'");
  const bool swap = clockwise != 180;
  if (swap && d->log2_chroma_w != d->log2_chroma_h)  // 4:2:2 turned would need 4:4:0
    throw UnsupportedError(std::string("cannot turn frames of pixel format '") + d->name +
                           "' by 90 degrees (its chroma is subsampled unevenly); open with autorotate off");
  const int w = swap ? src->height : src->width, h = swap ? src->width : src->height;
  if (dst->width != w || dst->height != h || dst->format != src->format || !dst->buf[0]) {
    av_frame_unref(dst);
    dst->width = w;
    dst->height = h;
    dst->format = src->format;
    if (av_frame_get_buffer(dst, 0) < 0) throw Error(ErrorKind::Internal, "out of memory for a rotated frame");
  }
  const bool yuv = !(d->flags & AV_PIX_FMT_FLAG_RGB);
  for (int p = 0; p < 4 && src->data[p]; ++p) {
    int bpp = 0;
    bool chroma = false;
    for (int c = 0; c < d->nb_components; ++c)
      if (d->comp[c].plane == p) {
        bpp = std::max(bpp, d->comp[c].step);
        chroma = chroma || (yuv && (c == 1 || c == 2));
      }
    if (bpp == 0) continue;
    const int pw = chroma ? AV_CEIL_RSHIFT(src->width, d->log2_chroma_w) : src->width;
    const int ph = chroma ? AV_CEIL_RSHIFT(src->height, d->log2_chroma_h) : src->height;
    turn_plane(src->data[p], src->linesize[p], dst->data[p], dst->linesize[p], pw, ph, bpp, clockwise);
  }
  av_frame_copy_props(dst, src);
}

}  // namespace framepipe
