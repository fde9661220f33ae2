#include "media/decoder.hpp"

#include <algorithm>
#include <cstring>
#include <string>

extern "C" {
#include <libavutil/hwcontext.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
}

#include "media/hw_device.hpp"

namespace framepipe {

namespace {

// Picture buffers start zeroed for decoders that do not conceal what they lose (HEVC, VP9,
// FFV1, ...): given damaged data they leave parts of a picture undecoded, and what showed
// there was whatever an earlier picture left in a recycled buffer, different after a seek
// than in a stream (fuzz/regressions/fuzz_access: an FFV1 slice header that covers part of
// the frame, and no error reported). Zeroed, the same damaged data gives the same picture
// however it is reached. The decoders built on FFmpeg's error resilience (H.264, MPEG-1/2/4,
// H.263, VC-1 and kin) conceal every block they lose; zeroing costs ~4% of a 1080p decode,
// so they are spared.
int zeroed_buffer(AVCodecContext* ctx, AVFrame* frame, int flags) {
  const int r = avcodec_default_get_buffer2(ctx, frame, flags);
  if (r < 0) return r;
  for (int i = 0; i < AV_NUM_DATA_POINTERS && frame->buf[i]; ++i)
    std::memset(frame->buf[i]->data, 0, frame->buf[i]->size);
  return 0;
}

// The concealing decoders' buffers, zeroed once the stream has shown damage: concealing a
// block whose reference is gone, H.264 has been seen to take what a recycled buffer held, so
// two decodes of one damaged TS differed (fuzz/regressions/fuzz_access). Undamaged streams
// pay nothing. The first damaged picture's buffer is taken before its damage is found, so
// where the index already knows the file is damaged the reader zeroes every buffer from the
// start (DecoderOptions::zero_buffers): otherwise that picture showed what the buffer pool
// handed back, which depends on when the caller let go of earlier frames (streamed, by index
// and by the decoding index gave three different frame 4s: fuzz/regressions/fuzz_access).
int zeroed_after_damage(AVCodecContext* ctx, AVFrame* frame, int flags) {
  const auto* reported = static_cast<const av::DamageCounter*>(ctx->opaque);
  if (reported && reported->count() > 0) return zeroed_buffer(ctx, frame, flags);
  return avcodec_default_get_buffer2(ctx, frame, flags);
}

// Whether a picture decoded into a zeroed buffer has a block its decoder never wrote: a 16x16
// block (the smallest HEVC CTU, so wholly inside one CTU) that is zero in every plane. Zero
// luma with zero chroma lies outside what any RGB converts to, in either range, so a decoded
// picture does not show it. One luma sample a block is read; a zero one has its block read
// whole. Monochrome pictures (no chroma to tell black from unwritten) are never judged.
bool has_undecoded_area(const AVFrame* f) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(f->format));
  if (!d || d->nb_components < 3 || (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_HWACCEL)) ||
      !(d->flags & AV_PIX_FMT_FLAG_PLANAR) || !f->data[0] || !f->data[1] || !f->data[2])
    return false;
  const int bps = d->comp[0].step;  // bytes per sample (1, or 2 above 8 bits)
  auto zero = [](const uint8_t* row, int bytes) {
    for (int i = 0; i < bytes; ++i)
      if (row[i]) return false;
    return true;
  };
  auto block_zero = [&](int plane, int x, int y, int w, int h) {
    for (int r = y; r < y + h; ++r)
      if (!zero(f->data[plane] + static_cast<ptrdiff_t>(r) * f->linesize[plane] + static_cast<ptrdiff_t>(x) * bps,
                w * bps))
        return false;
    return true;
  };
  const int cw = d->log2_chroma_w, ch = d->log2_chroma_h;
  for (int y = 0; y < f->height; y += 16) {
    const int h = std::min(16, f->height - y);
    for (int x = 0; x < f->width; x += 16) {
      const int w = std::min(16, f->width - x);
      const int sx = x + std::min(4, w - 1), sy = y + std::min(4, h - 1);
      const uint8_t* s = f->data[0] + static_cast<ptrdiff_t>(sy) * f->linesize[0] + static_cast<ptrdiff_t>(sx) * bps;
      if (!zero(s, bps)) continue;
      const int cx = x >> cw, cy = y >> ch;
      const int cwid = std::max(1, AV_CEIL_RSHIFT(x + w, cw) - cx), chei = std::max(1, AV_CEIL_RSHIFT(y + h, ch) - cy);
      if (block_zero(0, x, y, w, h) && block_zero(1, cx, cy, cwid, chei) && block_zero(2, cx, cy, cwid, chei))
        return true;
    }
  }
  return false;
}

// HEVC's buffers: zeroed, and each picture held for the check above (Decoder::PictureWatch).
int zeroed_and_watched(AVCodecContext* ctx, AVFrame* frame, int flags) {
  const int r = zeroed_buffer(ctx, frame, flags);
  if (r < 0) return r;
  auto* watch = static_cast<Decoder::PictureWatch*>(static_cast<av::DamageCounter*>(ctx->opaque));
  av::FramePtr held = av::make_frame();
  if (av_frame_ref(held.get(), frame) < 0) return 0;  // out of memory: this picture goes unwatched
  const std::lock_guard<std::mutex> lock(watch->mutex);
  watch->pictures.push_back(std::move(held));
  return 0;
}

// NVDEC's frames where the stream offers them; otherwise (a size or profile NVDEC cannot take)
// the first software format, which FFmpeg's own decoder then produces.
AVPixelFormat device_format(AVCodecContext*, const AVPixelFormat* formats) {
  for (const AVPixelFormat* p = formats; *p != AV_PIX_FMT_NONE; ++p)
    if (*p == AV_PIX_FMT_CUDA) return *p;
  for (const AVPixelFormat* p = formats; *p != AV_PIX_FMT_NONE; ++p) {
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(*p);
    if (d && !(d->flags & AV_PIX_FMT_FLAG_HWACCEL)) return *p;
  }
  return AV_PIX_FMT_NONE;
}

}  // namespace

Decoder::Decoder(Demuxer& demuxer, const DecoderOptions& options)
    : demuxer_(demuxer), options_(options), packet_(av::make_packet()) {
  AVStream* st = demuxer.video_stream();
  const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
  if (!codec)
    throw UnsupportedError("no decoder for codec '" + std::string(avcodec_get_name(st->codecpar->codec_id)) +
                           "' of '" + demuxer.name() + "'");
  ctx_.reset(avcodec_alloc_context3(codec));
  if (!ctx_) throw Error(ErrorKind::Internal, "out of memory creating a decoder for '" + demuxer.name() + "'");
  av::check(avcodec_parameters_to_context(ctx_.get(), st->codecpar), ErrorKind::Open,
            "cannot configure the decoder for", demuxer.name());
  ctx_->pkt_timebase = st->time_base;
  const int64_t pixels = int64_t{st->codecpar->width} * st->codecpar->height;
  if (options.max_pixels > 0 && pixels > options.max_pixels)
    throw UnsupportedError("'" + demuxer.name() + "' is " + std::to_string(st->codecpar->width) + "x" +
                           std::to_string(st->codecpar->height) + " (" + std::to_string(pixels) +
                           " pixels), over the limit of " + std::to_string(options.max_pixels) +
                           " (max_pixels; raise it to read this video)");
  if (options.max_pixels > 0)
    ctx_->max_pixels = av::decoder_pixel_limit(options.max_pixels, st->codecpar->width, st->codecpar->height);
  reported_.attach(ctx_.get());
  // 0 is FFmpeg's own choice (cores + 1 frame threads), the ffmpeg CLI's default. Damaged
  // frames are concealed differently with other thread counts, so the default keeps
  // framepipe equal to the CLI on the same machine; more threads can be faster on few cores.
  ctx_->thread_count = options.threads;
  ctx_->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
  bool conceals = false;
  switch (codec->id) {
    case AV_CODEC_ID_H264:
    case AV_CODEC_ID_MPEG1VIDEO:
    case AV_CODEC_ID_MPEG2VIDEO:
    case AV_CODEC_ID_MPEG4:
    case AV_CODEC_ID_H263:
    case AV_CODEC_ID_H263P:
    case AV_CODEC_ID_FLV1:
    case AV_CODEC_ID_MSMPEG4V1:
    case AV_CODEC_ID_MSMPEG4V2:
    case AV_CODEC_ID_MSMPEG4V3:
    case AV_CODEC_ID_WMV1:
    case AV_CODEC_ID_WMV2:
    case AV_CODEC_ID_WMV3:
    case AV_CODEC_ID_VC1:
    case AV_CODEC_ID_RV10:
    case AV_CODEC_ID_RV20: conceals = true; break;
    default: break;
  }
  if (options.device && decodes_on_cuda(codec)) {
    ctx_->hw_device_ctx = av_buffer_ref(options.device);
    if (!ctx_->hw_device_ctx) throw Error(ErrorKind::Internal, "out of memory for a decoding device");
    ctx_->get_format = device_format;
    on_device_ = true;
    host_ = av::make_frame();
  } else if (options.device && options.device_only) {
    throw UnsupportedError("'" + demuxer.name() + "': FFmpeg's hwaccel does not decode " + codec->name +
                           " on a CUDA device (strict: no fallback to the CPU)");
  }
  // (Device frames live in device memory: they are never zeroed here.)
  if ((codec->capabilities & AV_CODEC_CAP_DR1) && !on_device_) {
    watch_pictures_ = codec->id == AV_CODEC_ID_HEVC;
    ctx_->get_buffer2 = watch_pictures_                      ? zeroed_and_watched
                        : conceals && !options.zero_buffers ? zeroed_after_damage
                                                            : zeroed_buffer;
  }
  if (options.timing_only) ctx_->skip_loop_filter = AVDISCARD_ALL;
  av::check(avcodec_open2(ctx_.get(), codec, nullptr), ErrorKind::Unsupported,
            "cannot open the " + std::string(codec->name) + " decoder for", demuxer.name());
}

int64_t Decoder::PictureWatch::passed_by(const AVFrame* out) {
  const std::lock_guard<std::mutex> lock(mutex);
  const auto it = std::find_if(pictures.begin(), pictures.end(),
                               [out](const av::FramePtr& p) { return p->data[0] == out->data[0]; });
  if (it == pictures.end()) return 0;
  int64_t undecoded = 0;
  for (auto p = pictures.begin(); p != it + 1; ++p) undecoded += has_undecoded_area(p->get()) ? 1 : 0;
  pictures.erase(pictures.begin(), it + 1);
  return undecoded;
}

void Decoder::PictureWatch::clear() {
  const std::lock_guard<std::mutex> lock(mutex);
  pictures.clear();
}

void Decoder::flush() {
  avcodec_flush_buffers(ctx_.get());
  reported_.clear();
  skipped_.clear();
  skipped_any_ = false;
  last_sent_ = true;
  last_discard_ = AVDISCARD_DEFAULT;
  draining_ = false;
  drain_errors_ = 0;
  finished_ = false;
}

// A frame decoded on the device, to host memory (NV12 / P010); from here on it is any frame.
void Decoder::to_host(AVFrame* frame) {
  av_frame_unref(host_.get());
  av::check(av_hwframe_transfer_data(host_.get(), frame, 0), ErrorKind::Decode,
            "cannot copy a decoded frame from the device for", demuxer_.name());
  av_frame_copy_props(host_.get(), frame);
  av_frame_unref(frame);
  av_frame_move_ref(frame, host_.get());
}

bool Decoder::next(AVFrame* frame) {
  av_frame_unref(frame);
  if (finished_) return false;
  for (;;) {
    int ret = avcodec_receive_frame(ctx_.get(), frame);
    if (ret >= 0) {
      if (frame->hw_frames_ctx) to_host(frame);
      if ((frame->flags & AV_FRAME_FLAG_CORRUPT) || frame->decode_error_flags) ++corrupt_frames_;
      if (watch_pictures_) corrupt_frames_ += reported_.passed_by(frame);
      // Output is in pts order: anything skipped before this frame is behind us now.
      if (!skipped_.empty() && frame->pts != AV_NOPTS_VALUE)
        skipped_.erase(skipped_.begin(), skipped_.upper_bound(frame->pts));
      return true;
    }
    if (ret == AVERROR_EOF) {
      finished_ = true;
      return false;
    }
    if (ret != AVERROR(EAGAIN)) {
      // One frame failed (frame-threaded decoders report a bad packet's error late, even
      // while draining): count it and go on; later frames are still there to receive.
      ++corrupt_packets_;
      if (draining_ && ++drain_errors_ > kMaxDrainErrors) {
        finished_ = true;
        return false;
      }
      if (draining_) continue;
    }
    if (draining_) {
      // Draining never asks for input; a decoder that does has nothing more to give.
      finished_ = true;
      return false;
    }
    if (!demuxer_.read_video(packet_.get())) {
      draining_ = true;
      avcodec_send_packet(ctx_.get(), nullptr);
      continue;
    }
    av::ScopedPacketUnref unref(packet_.get());
    // Empty packets (AVI "drop frame" placeholders) carry nothing; sending one would read as
    // a flush request.
    if (packet_->size == 0) continue;
    const bool before_last_wanted = wanted_ && !wanted_->empty() && packet_->pts != AV_NOPTS_VALUE &&
                                    packet_->pts < wanted_->back();
    const bool continues = frame_pts_ && packet_->pts != AV_NOPTS_VALUE &&
                           !std::binary_search(frame_pts_->begin(), frame_pts_->end(), packet_->pts);
    // Key frames only: before the last wanted, only the wanted keyframes go in. An unwanted
    // one would be decoded for nothing, and where a seek landed a group early (MPEG-TS, by
    // dts) an open GOP's keyframe fed after it puts the wanted one out of order.
    const bool unwanted_key = key_only_ && before_last_wanted &&
                              (!(packet_->flags & AV_PKT_FLAG_KEY) ||
                               !std::binary_search(wanted_->begin(), wanted_->end(), packet_->pts));
    if (continues ? !last_sent_ : unwanted_key) {
      if (packet_->pts != AV_NOPTS_VALUE) skipped_.insert(packet_->pts);
      skipped_any_ = true;
      packets_skipped_.fetch_add(1, std::memory_order_relaxed);
      last_sent_ = false;
      continue;
    }
    // Frame threads take skip_frame per packet when it is submitted.
    // Past the last wanted frame nothing is skipped: those packets are read ahead for
    // reordering and frame threads, and the next request most likely wants them.
    const bool wanted = continues ? last_discard_ == AVDISCARD_DEFAULT
                                  : !before_last_wanted ||
                                        std::binary_search(wanted_->begin(), wanted_->end(), packet_->pts);
    ctx_->skip_frame = wanted ? AVDISCARD_DEFAULT : AVDISCARD_NONREF;
    last_sent_ = true;
    last_discard_ = ctx_->skip_frame;
    skipped_any_ = skipped_any_ || !wanted;
    if (!wanted && !(packet_->flags & AV_PKT_FLAG_KEY)) skipped_.insert(packet_->pts);
    ret = avcodec_send_packet(ctx_.get(), packet_.get());
    if (ret < 0 && ret != AVERROR_EOF) ++corrupt_packets_;
  }
}

int64_t frame_timestamp(const AVFrame* f) { return f->best_effort_timestamp; }
int64_t frame_duration(const AVFrame* f) { return f->pkt_duration; }  // AVFrame.duration from 6.0
int64_t frame_packet_pos(const AVFrame* f) { return f->pkt_pos; }
bool frame_is_key(const AVFrame* f) { return f->key_frame != 0; }

uint64_t frame_hash(const AVFrame* f) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(f->format));
  if (!d) return 1;
  uint64_t h = 0x9E3779B97F4A7C15ull;
  auto mix = [&h](uint64_t v) {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
  };
  // What the conversion reads besides the planes: a damaged SPS (VUI) decoded the same
  // pixels with another colour range after a seek than in the stream, and so other RGB
  // (fuzz/regressions/fuzz_access).
  mix(static_cast<uint64_t>(f->width) << 32 | static_cast<uint32_t>(f->height));
  mix(static_cast<uint64_t>(f->format) << 32 | static_cast<uint64_t>(f->colorspace) << 16 |
      static_cast<uint64_t>(f->color_range));
  for (int p = 0; p < 4 && f->data[p]; ++p) {
    const int bytes = av_image_get_linesize(static_cast<AVPixelFormat>(f->format), f->width, p);
    if (bytes <= 0) continue;
    const bool chroma = (p == 1 || p == 2) && !(d->flags & AV_PIX_FMT_FLAG_RGB);
    const int rows = chroma ? AV_CEIL_RSHIFT(f->height, d->log2_chroma_h) : f->height;
    for (int y = 0; y < rows; ++y) {
      const uint8_t* row = f->data[p] + static_cast<ptrdiff_t>(y) * f->linesize[p];
      int x = 0;
      for (; x + 8 <= bytes; x += 8) {
        uint64_t v;
        std::memcpy(&v, row + x, 8);
        mix(v);
      }
      uint64_t tail = 0;
      std::memcpy(&tail, row + x, static_cast<size_t>(bytes - x));
      mix(tail ^ static_cast<uint64_t>(bytes - x) << 56);
    }
  }
  return h ? h : 1;
}

}  // namespace framepipe
