// The writer's policy: which encoder and settings, the colour tags of the contract, frame
// durations, where the audio comes from. Encoding, muxing and copying the audio are media's
// (media/encoder.hpp, media/muxer.hpp, media/audio_copy.hpp).
#include "framepipe/sinks/video_writer.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <vector>

extern "C" {
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
}

#include "common/part_file.hpp"
#include "framepipe/error.hpp"
#include "image/pixel_converter.hpp"
#include "media/audio_copy.hpp"
#include "media/encoder.hpp"
#include "media/muxer.hpp"

namespace framepipe {

namespace {

// The colour contract: BT.709 above 576 lines, BT.601 otherwise; limited range; tagged.
// RGB formats (a lossless codec's gbrp) are tagged as RGB, full range.
void set_colour(AVCodecContext* c) {
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(c->pix_fmt);
  if (d && (d->flags & AV_PIX_FMT_FLAG_RGB)) {
    c->colorspace = AVCOL_SPC_RGB;
    c->color_range = AVCOL_RANGE_JPEG;
    return;
  }
  const bool hd = c->height > 576;
  c->colorspace = hd ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M;
  c->color_primaries = hd ? AVCOL_PRI_BT709 : AVCOL_PRI_SMPTE170M;
  c->color_trc = hd ? AVCOL_TRC_BT709 : AVCOL_TRC_SMPTE170M;
  c->color_range = AVCOL_RANGE_MPEG;
}

av::Dictionary encoder_options(const VideoWriterOptions& o) {
  AVDictionary* d = nullptr;
  if (o.codec == "libx264" || o.codec == "libx265" || o.codec == "libx264rgb") {
    if (o.bitrate <= 0) av_dict_set(&d, "crf", std::to_string(o.crf).c_str(), 0);
    av_dict_set(&d, "preset", o.preset.c_str(), 0);
    if (!o.tune.empty()) av_dict_set(&d, "tune", o.tune.c_str(), 0);
  }
  return av::Dictionary(d);
}

bool takes(const AVCodec* codec, AVPixelFormat fmt) {
  if (!codec->pix_fmts) return true;  // the encoder keeps no list
  for (const AVPixelFormat* p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; ++p)
    if (*p == fmt) return true;
  return false;
}

// What the encoder is given: the format asked for, else the lossless codecs' RGB, else 4:2:0
// (4:4:4 at odd sizes, which 4:2:0 cannot hold), else the encoder's first.
AVPixelFormat encoded_format(const AVCodec* codec, const VideoWriterOptions& o, int width, int height,
                             const std::string& path) {
  if (!o.pix_fmt.empty()) {
    const AVPixelFormat f = av_get_pix_fmt(o.pix_fmt.c_str());
    if (f == AV_PIX_FMT_NONE) throw ConfigError("video writer " + path + ": no pixel format '" + o.pix_fmt + "'");
    if (!takes(codec, f)) {
      std::string list;
      for (const AVPixelFormat* p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; ++p)
        list += std::string(list.empty() ? "" : ", ") + av_get_pix_fmt_name(*p);
      throw ConfigError("video writer " + path + ": " + o.codec + " does not take " + o.pix_fmt + " (it takes " + list + ")");
    }
    return f;
  }
  for (const char* lossless : {"ffv1", "ffvhuff", "huffyuv", "utvideo", "libx264rgb"})
    if (o.codec == lossless)
      for (AVPixelFormat f : {AV_PIX_FMT_GBRP, AV_PIX_FMT_BGR0, AV_PIX_FMT_RGB24, AV_PIX_FMT_BGR24})
        if (takes(codec, f)) return f;
  const AVPixelFormat f = (width % 2 || height % 2) ? AV_PIX_FMT_YUV444P : AV_PIX_FMT_YUV420P;
  if (takes(codec, f) || !codec->pix_fmts) return f;
  return codec->pix_fmts[0];
}

}  // namespace

struct VideoWriter::Impl {
  std::string path;
  VideoWriterOptions opt;
  std::unique_ptr<Muxer> mux;
  std::unique_ptr<Encoder> enc;
  std::unique_ptr<AudioCopy> audio;  // audio from a file or a live source's relay
  AVStream* video = nullptr;
  // A keyframe forced every this many seconds (0: the encoder's choice): an HLS playlist's
  // segments are cut at keyframes, 2 s apart.
  double key_every = 0, next_key = 0, seconds_per_tick = 0;
  PixelConverter to_yuv;
  av::FramePtr frame = av::make_frame();
  int64_t frames = 0, last_pts = INT64_MIN;
  std::map<int64_t, int64_t> durations;  // pts -> duration of frames the encoder still holds
  bool closed = false;
  // A network destination that drops (a write fails): frames are dropped while it is down and
  // it is opened again after 1, 2, 4 ... 30 s, with a fresh encoder (a keyframe first) and the
  // audio going on from there; each outage is noted (outages()). Files fail as before.
  int size_w = 0, size_h = 0;
  Rational tb{1, 1};
  bool network = false, down = false;
  std::chrono::steady_clock::time_point retry_at;
  double backoff = 1, down_at = 0;
  int64_t dropped = 0;
  int tries = 0;
  std::vector<std::string> outages;
  void open_output();  // muxer, encoder, streams, audio; the header
  void went_down(double t, const std::string& why);
  bool reconnect(double t);  // whether it takes frames again

  void open(int width, int height, Rational time_base);
  void open_encoder(int width, int height, Rational time_base);
  void add_video_stream();
  void write_packet(AVPacket* packet);
  void finish(bool complete = true);
};

void VideoWriter::Impl::open(int width, int height, Rational time_base) {
  if (width <= 0 || height <= 0)
    throw ConfigError("video writer " + path + ": bad size " + std::to_string(width) + "x" + std::to_string(height));
  if (time_base.num <= 0 || time_base.den <= 0) throw ConfigError("video writer " + path + ": bad time base");
  if (!opt.audio_from.empty() && opt.audio_relay)
    throw ConfigError("video writer " + path + ": audio from a file or from a live source, not both");
  size_w = width;
  size_h = height;
  tb = time_base;
  network = path.find("://") != std::string::npos && is_stream_path(path);
  seconds_per_tick = static_cast<double>(time_base.num) / time_base.den;
  open_output();
  const AVCodecContext* c = enc->context();
  frame->format = c->pix_fmt;
  frame->width = width;
  frame->height = height;
  if (int r = av_frame_get_buffer(frame.get(), 0); r < 0)
    av::throw_error(ErrorKind::Io, r, "cannot allocate a frame for", path);
}

void VideoWriter::Impl::open_output() {
  mux = std::make_unique<Muxer>(path, opt.format, opt.hls_window);
  open_encoder(size_w, size_h, tb);
  add_video_stream();
  if (std::string(mux->format()->oformat->name) == "hls" && opt.gop == 0) key_every = 2.0;
  if (opt.audio_relay) audio = std::make_unique<AudioCopy>(*mux, opt.audio_relay);
  else if (!opt.audio_from.empty()) audio = std::make_unique<AudioCopy>(*mux, opt.audio_from);
  mux->start();
}

void VideoWriter::Impl::went_down(double t, const std::string& why) {
  audio.reset();
  enc.reset();
  mux.reset();  // closes the connection
  durations.clear();
  down = true;
  down_at = t;
  tries = 0;
  backoff = 1;
  retry_at = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  char at[32];
  std::snprintf(at, sizeof at, "%.2f", t);
  outages.push_back(std::string("dropped at ") + at + " s (" + why + ")");
}

bool VideoWriter::Impl::reconnect(double t) {
  const auto now = std::chrono::steady_clock::now();
  if (now < retry_at) return false;
  ++tries;
  try {
    open_output();
    if (audio && !opt.audio_relay) audio->skip_until(t);
  } catch (const Error&) {
    audio.reset();
    enc.reset();
    mux.reset();
    backoff = std::min(backoff * 2, 30.0);
    retry_at = now + std::chrono::milliseconds(static_cast<int64_t>(backoff * 1000));
    return false;
  }
  down = false;
  char at[96];
  std::snprintf(at, sizeof at, ", back at %.2f s after %d tries (%lld frames not sent)", t, tries,
                static_cast<long long>(dropped));
  outages.back() += at;
  dropped = 0;
  return true;
}

void VideoWriter::Impl::open_encoder(int width, int height, Rational time_base) {
  const AVCodec* codec = avcodec_find_encoder_by_name(opt.codec.c_str());
  if (!codec) throw UnsupportedError("video writer " + path + ": this FFmpeg has no encoder '" + opt.codec + "'");
  if (!mux->holds(codec->id))
    throw ConfigError("video writer " + path + ": a " + mux->format()->oformat->name + " file cannot hold " +
                      avcodec_get_name(codec->id) + " video (" + opt.codec + "); write .mp4, .mkv, .mov or .ts, or choose an " +
                      "encoder it holds (WebM: libvpx-vp9)");
  av::CodecContext ctx(avcodec_alloc_context3(codec));
  AVCodecContext* c = ctx.get();
  c->width = width;
  c->height = height;
  c->time_base = AVRational{time_base.num, time_base.den};
  c->pix_fmt = encoded_format(codec, opt, width, height, path);
  set_colour(c);
  c->thread_count = opt.threads;
  if (opt.bitrate > 0) c->bit_rate = opt.bitrate;
  if (opt.gop > 0) c->gop_size = opt.gop;
  if (mux->global_header()) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  av::Dictionary options = encoder_options(opt);
  enc = std::make_unique<Encoder>(std::move(ctx), codec, options, path);
}

void VideoWriter::Impl::add_video_stream() {
  video = mux->add_stream();
  video->time_base = enc->context()->time_base;
  if (int r = avcodec_parameters_from_context(video->codecpar, enc->context()); r < 0)
    av::throw_error(ErrorKind::Io, r, "cannot set up the video stream of", path);
  if (opt.display_matrix == std::array<int32_t, 9>{}) return;
  auto* matrix =
      reinterpret_cast<int32_t*>(av_stream_new_side_data(video, AV_PKT_DATA_DISPLAYMATRIX, sizeof(int32_t) * 9));
  if (!matrix) av::throw_error(ErrorKind::Io, AVERROR(ENOMEM), "cannot add a display matrix to", path);
  std::copy(opt.display_matrix.begin(), opt.display_matrix.end(), matrix);
}

void VideoWriter::Impl::write_packet(AVPacket* packet) {
  // Not every encoder carries the frame's duration over to its packet (FFmpeg 5.1's libx264
  // does not); the muxer needs it for the last frame.
  if (auto d = durations.find(packet->pts); d != durations.end()) {
    if (packet->duration == 0) packet->duration = d->second;
    durations.erase(d);
  }
  const AVRational from = enc->context()->time_base;
  const int64_t ts = packet->dts != AV_NOPTS_VALUE ? packet->dts : packet->pts;
  // The audio up to this packet's time goes first, so the file interleaves by time.
  if (audio && ts != AV_NOPTS_VALUE) audio->copy_until(av_rescale_q(ts, from, video->time_base) * av_q2d(video->time_base));
  mux->write(packet, from, video->index);
}

void VideoWriter::Impl::finish(bool complete) {
  if (closed) return;
  closed = true;
  if (!mux) return;  // a network destination down at the end: nothing to finish
  try {
    // Frames the encoder still holds are written even when none has come out yet (x264's
    // look-ahead keeps the first few): a run that fails at its second frame keeps its first.
    if (mux->started() || frames > 0) {
      enc->send(nullptr, [this](AVPacket* p) { write_packet(p); });
      if (audio) audio->finish();
    }
    mux->finish(complete);
  } catch (const IoError& e) {
    if (!network) throw;
    outages.push_back(std::string("dropped at the end (") + e.what() + ")");
  }
}

VideoWriter::VideoWriter(std::string path, int width, int height, Rational time_base, VideoWriterOptions options)
    : impl_(std::make_unique<Impl>()) {
  av::init_logging();
  impl_->path = std::move(path);
  impl_->opt = std::move(options);
  try {
    impl_->open(width, height, time_base);
  } catch (...) {
    impl_->closed = true;  // the muxer, never started, removes its part file
    throw;
  }
}

VideoWriter::~VideoWriter() {
  try {
    impl_->finish();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "framepipe: %s\n", e.what());
  }
}

void VideoWriter::write(const uint8_t* pixels, int64_t pts) {
  Impl& m = *impl_;
  if (m.closed) throw IoError("video writer " + m.path + ": write after close");
  if (pts <= m.last_pts)
    throw ConfigError("video writer " + m.path + ": pts " + std::to_string(pts) + " after " + std::to_string(m.last_pts) +
                      " (timestamps must increase)");
  const double t = static_cast<double>(pts) * m.seconds_per_tick;
  if (m.down && !m.reconnect(t)) {
    ++m.dropped;
    m.last_pts = pts;
    return;
  }
  if (int r = av_frame_make_writable(m.frame.get()); r < 0)
    av::throw_error(ErrorKind::Io, r, "cannot reuse a frame for", m.path);
  m.to_yuv.pack(pixels, m.opt.input, m.frame->height > 576 ? ColorMatrix::Bt709 : ColorMatrix::Bt601, m.frame.get());
  m.frame->pts = pts;
  m.frame->pict_type = AV_PICTURE_TYPE_NONE;
  if (m.key_every > 0 && static_cast<double>(pts) * m.seconds_per_tick + 1e-9 >= m.next_key) {
    m.frame->pict_type = AV_PICTURE_TYPE_I;  // libx264 makes it an IDR (closed GOP)
    m.next_key = static_cast<double>(pts) * m.seconds_per_tick + m.key_every;
  }
  // The next frame's time is not known yet: the gap to the previous one stands in for this
  // frame's duration (as the ffmpeg CLI does), so the last frame keeps its time on screen.
  const int64_t duration = m.frames > 0 ? pts - m.last_pts : 0;
  av::set_frame_duration(m.frame.get(), duration);
  m.durations[pts] = duration;
  try {
    m.enc->send(m.frame.get(), [&m](AVPacket* p) { m.write_packet(p); });
  } catch (const IoError& e) {
    if (!m.network) throw;
    m.went_down(t, e.what());
  }
  m.last_pts = pts;
  ++m.frames;
}

void VideoWriter::close(bool complete) { impl_->finish(complete); }

int64_t RisingClock::next(int64_t pts) {
  int64_t t = pts + offset_;
  if (started_ && t <= last_) {
    offset_ += last_ + step_ - t;
    t = last_ + step_;
  } else if (started_) {
    step_ = t - last_;
  }
  started_ = true;
  last_ = t;
  return t;
}

int64_t VideoWriter::audio_packets_copied() const { return impl_->audio ? impl_->audio->packets() : 0; }
const std::string& VideoWriter::audio_skipped() const { return impl_->audio ? impl_->audio->skipped() : kNone; }
const std::string& VideoWriter::audio_lost() const { return impl_->audio ? impl_->audio->lost() : kNone; }
const std::string& VideoWriter::audio_transcoded() const { return impl_->audio ? impl_->audio->transcoded() : kNone; }
const std::string& VideoWriter::audio_transcoded_to() const {
  return impl_->audio ? impl_->audio->transcoded_to() : kNone;
}
const std::string& VideoWriter::path() const { return impl_->path; }
const std::vector<std::string>& VideoWriter::outages() const { return impl_->outages; }

}  // namespace framepipe
