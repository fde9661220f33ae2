#include "image/rotate.hpp"

#include <cmath>
#include <cstring>
#include <string>

extern "C" {
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
}

#include "framepipe/error.hpp"

namespace framepipe {

Upright upright_of(const int32_t* m) {
  Upright u;
  if (!m) return u;
  // ffmpeg 5.1's get_rotation(): clockwise degrees in [-0.9, 359.1); NaN for a degenerate matrix
  double cw = -av_display_rotation_get(m);
  cw -= 360 * std::floor(cw / 360 + 0.9 / 360);
  if (std::fabs(cw - 90) < 1.0) {
    u.swap = true;                 // transpose: cclock_flip when m[3] > 0, else clock
    u.mirror_y = !(m[3] > 0);
  } else if (std::fabs(cw - 180) < 1.0) {
    u.mirror_x = m[0] < 0;         // hflip
    u.mirror_y = m[4] < 0;         // vflip
  } else if (std::fabs(cw - 270) < 1.0) {
    u.swap = true;                 // transpose: clock_flip when m[3] < 0, else cclock
    u.mirror_x = true;
    u.mirror_y = m[3] < 0;
  } else if (std::fabs(cw) > 1.0) {
    u.degrees = cw;                // the rotate filter (false for NaN, as in the CLI)
  } else {
    u.mirror_y = m[4] < 0;         // vflip
  }
  return u;
}

std::string Upright::filters() const {
  if (degrees != 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "rotate=%g", degrees);
    return buf;
  }
  if (swap) {
    const char* dir = mirror_x ? (mirror_y ? "clock_flip" : "cclock") : (mirror_y ? "clock" : "cclock_flip");
    return std::string("transpose=") + dir;
  }
  if (mirror_x && mirror_y) return "hflip,vflip";
  return mirror_x ? "hflip" : mirror_y ? "vflip" : "";
}

bool turns_planes(int pixel_format, const Upright& u) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(pixel_format));
  return d && !(u.swap && d->log2_chroma_w != d->log2_chroma_h);
}

int transpose_input_format(int pixel_format) {
  const AVPixFmtDescriptor* src = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(pixel_format));
  if (!src) return -1;
  const int has_alpha = src->nb_components % 2 == 0;
  AVPixelFormat best = AV_PIX_FMT_NONE;
  for (int f = 0; const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(f)); ++f)
    if (!(d->flags & (AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_BITSTREAM)) &&
        d->log2_chroma_w == d->log2_chroma_h)
      best = av_find_best_pix_fmt_of_2(best, static_cast<AVPixelFormat>(f), static_cast<AVPixelFormat>(pixel_format),
                                       has_alpha, nullptr);
  return best;
}

namespace {

// One plane of w x h pixels, BPP bytes each, into its upright place.
template <int BPP>
void turn_plane(const uint8_t* s, ptrdiff_t ss, uint8_t* d, ptrdiff_t ds, int w, int h, int bpp, const Upright& u) {
  const int ow = u.swap ? h : w, oh = u.swap ? w : h;
  const int step = BPP ? BPP : bpp;
  for (int y = 0; y < oh; ++y) {
    uint8_t* drow = d + y * ds;
    for (int x = 0; x < ow; ++x) {
      int sx = u.swap ? y : x, sy = u.swap ? x : y;
      if (u.mirror_x) sx = w - 1 - sx;
      if (u.mirror_y) sy = h - 1 - sy;
      std::memcpy(drow + static_cast<ptrdiff_t>(x) * step, s + sy * ss + static_cast<ptrdiff_t>(sx) * step,
                  static_cast<size_t>(step));
    }
  }
}

}  // namespace

void ensure_frame_buffer(AVFrame* f, int w, int h, int format) {
  if (f->width == w && f->height == h && f->format == format && f->buf[0]) return;
  av_frame_unref(f);
  f->width = w;
  f->height = h;
  f->format = format;
  if (av_frame_get_buffer(f, 0) < 0) throw Error(ErrorKind::Internal, "out of memory for a frame to turn upright");
}

void rotate_frame(const AVFrame* src, const Upright& u, AVFrame* dst) {
  const auto fmt = static_cast<AVPixelFormat>(src->format);
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(fmt);
  if (!d || (d->flags & (AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_PAL)))
    throw UnsupportedError(std::string("cannot turn frames of pixel format '") + (d ? d->name : "?") + "' upright");
  if (!u.planar()) throw Error(ErrorKind::Internal, "rotate_frame: '" + u.filters() + "' is no pixel shuffle");
  if (!turns_planes(src->format, u))  // 4:2:2 turned would need 4:4:0
    throw UnsupportedError(std::string("cannot turn frames of pixel format '") + d->name +
                           "' by 90 degrees (its chroma is subsampled unevenly); convert them first");
  ensure_frame_buffer(dst, u.swap ? src->height : src->width, u.swap ? src->width : src->height, src->format);
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
    auto turn = bpp == 1 ? turn_plane<1> : bpp == 2 ? turn_plane<2> : bpp == 3 ? turn_plane<3> : turn_plane<0>;
    turn(src->data[p], src->linesize[p], dst->data[p], dst->linesize[p], pw, ph, bpp, u);
  }
  av_frame_copy_props(dst, src);
}

}  // namespace framepipe
