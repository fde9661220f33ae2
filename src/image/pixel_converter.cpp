#include "image/pixel_converter.hpp"

extern "C" {
#include <libavutil/pixdesc.h>
}

#include <algorithm>
#include <cstring>
#include <string>

namespace framepipe {

ColorMatrix resolve_matrix(AVColorSpace space, int height, ColorMatrix requested) {
  if (requested != ColorMatrix::Auto) return requested;
  switch (space) {
    case AVCOL_SPC_BT709: return ColorMatrix::Bt709;
    case AVCOL_SPC_BT470BG:
    case AVCOL_SPC_SMPTE170M: return ColorMatrix::Bt601;
    case AVCOL_SPC_BT2020_NCL:
    case AVCOL_SPC_BT2020_CL: return ColorMatrix::Bt2020;
    case AVCOL_SPC_SMPTE240M: return ColorMatrix::Smpte240m;
    case AVCOL_SPC_FCC: return ColorMatrix::Fcc;
    default: return height > 576 ? ColorMatrix::Bt709 : ColorMatrix::Bt601;
  }
}

ColorRange resolve_range(AVColorRange range, AVPixelFormat format, ColorRange requested) {
  if (requested != ColorRange::Auto) return requested;
  if (range == AVCOL_RANGE_JPEG) return ColorRange::Full;
  if (range == AVCOL_RANGE_MPEG) return ColorRange::Limited;
  switch (format) {
    case AV_PIX_FMT_YUVJ420P:
    case AV_PIX_FMT_YUVJ422P:
    case AV_PIX_FMT_YUVJ444P:
    case AV_PIX_FMT_YUVJ440P:
    case AV_PIX_FMT_YUVJ411P: return ColorRange::Full;
    default: return ColorRange::Limited;
  }
}

namespace {

int sws_colorspace(ColorMatrix m) {
  switch (m) {
    case ColorMatrix::Bt709: return SWS_CS_ITU709;
    case ColorMatrix::Bt2020: return SWS_CS_BT2020;
    case ColorMatrix::Smpte240m: return SWS_CS_SMPTE240M;
    case ColorMatrix::Fcc: return SWS_CS_FCC;
    default: return SWS_CS_ITU601;
  }
}

int sws_interpolation(Interpolation i) {
  switch (i) {
    case Interpolation::Bilinear: return SWS_BILINEAR;
    case Interpolation::Area: return SWS_AREA;
    case Interpolation::Lanczos: return SWS_LANCZOS;
    case Interpolation::Nearest: return SWS_POINT;
    default: return SWS_BICUBIC;  // ffmpeg's scale filter default
  }
}

AVPixelFormat av_format(PixelFormat p) {
  switch (p) {
    case PixelFormat::Bgr: return AV_PIX_FMT_BGR24;
    case PixelFormat::Gray: return AV_PIX_FMT_GRAY8;
    default: return AV_PIX_FMT_RGB24;
  }
}

// swscale's own test before it warns of unaligned destinations (and may take slower paths).
bool aligned(const void* p, size_t stride) {
  return (reinterpret_cast<uintptr_t>(p) % 16) == 0 && stride % 16 == 0;
}

void fill_padding(const Geometry& g, const ImageOptions& opt, uint8_t* dst, size_t stride) {
  const int c = channels(opt.pix);
  const auto px = pad_pixel(opt);
  const Rect& r = g.dst_rect;
  for (int y = 0; y < g.out_height; ++y) {
    uint8_t* row = dst + static_cast<size_t>(y) * stride;
    const bool inside_rows = y >= r.y && y < r.y + r.height;
    for (int x = 0; x < g.out_width; ++x) {
      if (inside_rows && x == r.x) {
        x = r.x + r.width - 1;  // skip the picture itself
        continue;
      }
      std::memcpy(row + static_cast<size_t>(x) * c, px.data(), static_cast<size_t>(c));
    }
  }
}

}  // namespace

void PixelConverter::rebuild(const Key& key) {
  const auto src_fmt = static_cast<AVPixelFormat>(key.src_fmt);
  const auto dst_fmt = static_cast<AVPixelFormat>(key.dst_fmt);
  sws_.reset(sws_getContext(key.src_rect.width, key.src_rect.height, src_fmt, key.dst_rect.width,
                            key.dst_rect.height, dst_fmt, key.flags, nullptr, nullptr, nullptr));
  if (!sws_) {
    const char* name = av_get_pix_fmt_name(src_fmt);
    throw UnsupportedError(std::string("cannot convert pixel format '") + (name ? name : "?") + "' " +
                           std::to_string(key.src_rect.width) + "x" + std::to_string(key.src_rect.height) +
                           " to " + av_get_pix_fmt_name(dst_fmt));
  }
  // As ffmpeg's scale filter does: input matrix and range as resolved; RGB output is full
  // range, and so is grey output (for models, 0 is black and 255 white).
  const int* coeffs = sws_getCoefficients(sws_colorspace(key.matrix));
  sws_setColorspaceDetails(sws_.get(), coeffs, key.range == ColorRange::Full ? 1 : 0, coeffs, 1, 0, 1 << 16,
                           1 << 16);
  key_ = key;
  ++rebuilds_;
}

void PixelConverter::convert(const AVFrame* src, const Geometry& g, const ImageOptions& opt, uint8_t* dst,
                             size_t dst_stride) {
  const auto fmt = static_cast<AVPixelFormat>(src->format);
  Key key;
  key.src_w = src->width;
  key.src_h = src->height;
  key.src_fmt = src->format;
  key.src_rect = g.src_rect;
  key.dst_rect = g.dst_rect;
  key.dst_fmt = av_format(opt.pix);
  key.flags = sws_interpolation(opt.interpolation);
  key.matrix = resolve_matrix(src->colorspace, src->height, opt.matrix);
  key.range = resolve_range(src->color_range, fmt, opt.range);
  if (!sws_ || !(key == key_)) rebuild(key);

  // Source: the crop rectangle, addressed by offsetting each plane's pointer.
  const uint8_t* planes[4] = {src->data[0], src->data[1], src->data[2], src->data[3]};
  if (g.src_rect.x != 0 || g.src_rect.y != 0) {
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(fmt);
    for (int c = 0; c < d->nb_components; ++c) {
      const AVComponentDescriptor& comp = d->comp[c];
      const bool chroma = (c == 1 || c == 2) && !(d->flags & AV_PIX_FMT_FLAG_RGB);
      const int x = chroma ? g.src_rect.x >> d->log2_chroma_w : g.src_rect.x;
      const int y = chroma ? g.src_rect.y >> d->log2_chroma_h : g.src_rect.y;
      planes[comp.plane] = src->data[comp.plane] + static_cast<ptrdiff_t>(y) * src->linesize[comp.plane] +
                           static_cast<ptrdiff_t>(x) * comp.step;
    }
  }

  const int c = channels(opt.pix);
  if (g.dst_rect.width != g.out_width || g.dst_rect.height != g.out_height) fill_padding(g, opt, dst, dst_stride);
  uint8_t* target = dst + static_cast<size_t>(g.dst_rect.y) * dst_stride + static_cast<size_t>(g.dst_rect.x) * c;
  const size_t row_bytes = static_cast<size_t>(g.dst_rect.width) * c;

  // swscale's SIMD paths want aligned rows; packed user buffers (W*3 bytes a row) often are
  // not, so those go through an aligned scratch image and are copied out.
  uint8_t* out = target;
  int out_stride = static_cast<int>(dst_stride);
  if (!aligned(target, dst_stride)) {
    const size_t stride = (row_bytes + 63) & ~size_t{63};
    const size_t need = stride * static_cast<size_t>(g.dst_rect.height) + 64;
    if (need > scratch_size_) {
      scratch_.reset(static_cast<uint8_t*>(av_malloc(need)));
      if (!scratch_) throw Error(ErrorKind::Internal, "out of memory for a conversion buffer");
      scratch_size_ = need;
    }
    out = scratch_.get();
    out_stride = static_cast<int>(stride);
  }
  uint8_t* out_planes[4] = {out, nullptr, nullptr, nullptr};
  int out_strides[4] = {out_stride, 0, 0, 0};
  // sws_scale takes the slice starting at the top of the (cropped) source.
  const int h = sws_scale(sws_.get(), planes, src->linesize, 0, g.src_rect.height, out_planes, out_strides);
  if (h <= 0) throw DecodeError("pixel conversion failed for a " + std::to_string(src->width) + "x" +
                                std::to_string(src->height) + " frame");
  if (out != target)
    for (int y = 0; y < g.dst_rect.height; ++y)
      std::memcpy(target + static_cast<size_t>(y) * dst_stride, out + static_cast<size_t>(y) * out_stride, row_bytes);
}

void PixelConverter::pack(const uint8_t* src, PixelFormat order, ColorMatrix matrix, AVFrame* dst) {
  Key key;
  key.src_w = dst->width;
  key.src_h = dst->height;
  key.src_fmt = order == PixelFormat::Bgr ? AV_PIX_FMT_BGR24 : order == PixelFormat::Gray ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24;
  key.dst_fmt = dst->format;
  key.flags = SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT;
  key.matrix = matrix;
  key.range = ColorRange::Limited;
  if (!sws_ || !(key == key_)) rebuild_pack(key);
  const uint8_t* planes[1] = {src};
  const int stride[1] = {dst->width * (order == PixelFormat::Gray ? 1 : 3)};
  sws_scale(sws_.get(), planes, stride, 0, dst->height, dst->data, dst->linesize);
}

void PixelConverter::rebuild_pack(const Key& key) {
  sws_.reset(sws_getContext(key.src_w, key.src_h, static_cast<AVPixelFormat>(key.src_fmt), key.src_w, key.src_h,
                            static_cast<AVPixelFormat>(key.dst_fmt), key.flags, nullptr, nullptr, nullptr));
  if (!sws_) throw UnsupportedError("no conversion from packed RGB to " +
                                    std::string(av_get_pix_fmt_name(static_cast<AVPixelFormat>(key.dst_fmt))));
  const int* coeffs = sws_getCoefficients(sws_colorspace(key.matrix));
  sws_setColorspaceDetails(sws_.get(), coeffs, 1, coeffs, 0, 0, 1 << 16, 1 << 16);
  key_ = key;
  ++rebuilds_;
}

}  // namespace framepipe
