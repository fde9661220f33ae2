#include "media/demuxer.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <mutex>

extern "C" {
#include <libavdevice/version.h>
#include <libavutil/opt.h>
}

namespace framepipe {

namespace {
constexpr int kIoBufferSize = 1 << 16;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace


int Demuxer::read_memory(void* opaque, uint8_t* buf, int size) {
  auto* m = static_cast<MemoryInput*>(opaque);
  const auto total = static_cast<int64_t>(m->bytes->size());
  const int64_t left = total - m->pos;
  if (left <= 0) return AVERROR_EOF;
  const int n = static_cast<int>(std::min<int64_t>(left, size));
  std::memcpy(buf, m->bytes->data() + m->pos, static_cast<size_t>(n));
  m->pos += n;
  return n;
}

int64_t Demuxer::seek_memory(void* opaque, int64_t offset, int whence) {
  auto* m = static_cast<MemoryInput*>(opaque);
  const auto total = static_cast<int64_t>(m->bytes->size());
  whence &= ~AVSEEK_FORCE;
  int64_t target;
  switch (whence) {
    case AVSEEK_SIZE: return total;
    case SEEK_SET: target = offset; break;
    case SEEK_CUR: target = m->pos + offset; break;
    case SEEK_END: target = total + offset; break;
    default: return AVERROR(EINVAL);
  }
  if (target < 0 || target > total) return AVERROR(EINVAL);
  m->pos = target;
  return target;
}

int Demuxer::interrupt(void* opaque) {
  auto* self = static_cast<Demuxer*>(opaque);
  const int64_t deadline = self->deadline_ns_.load(std::memory_order_relaxed);
  return deadline != 0 && now_ns() > deadline ? 1 : 0;
}

void Demuxer::arm_deadline(int ms) {
  deadline_ns_.store(ms > 0 ? now_ns() + int64_t{ms} * 1000000 : 0, std::memory_order_relaxed);
}

class ProbedStreams {
 public:
  explicit ProbedStreams(const AVFormatContext* fmt) : format_(fmt->iformat->name) {
    for (unsigned i = 0; i < fmt->nb_streams; ++i) {
      const AVStream* st = fmt->streams[i];
      Stream s{av::CodecParameters(avcodec_parameters_alloc()), st->avg_frame_rate, st->r_frame_rate,
               st->start_time, st->duration};
      if (!s.par || avcodec_parameters_copy(s.par.get(), st->codecpar) < 0)
        throw Error(ErrorKind::Internal, "out of memory keeping the stream parameters of '" + std::string(fmt->url) + "'");
      streams_.push_back(std::move(s));
    }
    start_time_ = fmt->start_time;
    duration_ = fmt->duration;
    bit_rate_ = fmt->bit_rate;
  }

  // Whether a probe of `fmt` may be copied: its container's header says everything (MP4 and
  // QuickTime). Elsewhere streams are found, parameters filled in or timestamps made up by
  // reading packets (MPEG-TS, raw streams, AVI, Matroska's lacing).
  static bool copyable(const AVFormatContext* fmt) {
    return std::strcmp(fmt->iformat->name, "mov,mp4,m4a,3gp,3g2,mj2") == 0;
  }

  // Copies the probed parameters into `fmt`, freshly opened (no probe yet); false where they
  // may not fit it: another container, or other streams.
  bool apply(AVFormatContext* fmt) const {
    if (format_ != fmt->iformat->name || fmt->nb_streams != streams_.size()) return false;
    for (unsigned i = 0; i < fmt->nb_streams; ++i) {
      const AVCodecParameters* have = fmt->streams[i]->codecpar;
      const AVCodecParameters* probed = streams_[i].par.get();
      if (have->codec_type != probed->codec_type || have->codec_id != probed->codec_id) return false;
    }
    for (unsigned i = 0; i < fmt->nb_streams; ++i) {
      AVStream* st = fmt->streams[i];
      const Stream& s = streams_[i];
      if (avcodec_parameters_copy(st->codecpar, s.par.get()) < 0) return false;
      st->avg_frame_rate = s.avg_frame_rate;
      st->r_frame_rate = s.r_frame_rate;
      st->start_time = s.start_time;
      st->duration = s.duration;
    }
    fmt->start_time = start_time_;
    fmt->duration = duration_;
    fmt->bit_rate = bit_rate_;
    return true;
  }

 private:
  struct Stream {
    av::CodecParameters par;
    AVRational avg_frame_rate, r_frame_rate;
    int64_t start_time, duration;
  };
  std::string format_;
  std::vector<Stream> streams_;
  int64_t start_time_ = 0, duration_ = 0, bit_rate_ = 0;
};

namespace {
bool is_network(const Source& s) { return is_stream_location(s.location) && !s.in_memory(); }
bool is_device(const Source& s) { return is_device_location(s.location) && !s.in_memory(); }
bool is_http(const std::string& location) {
  return location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0;
}
bool is_rtsp(const std::string& location) {
  return location.rfind("rtsp://", 0) == 0 || location.rfind("rtsps://", 0) == 0;
}
}  // namespace

Demuxer::Demuxer(const Source& source, const DemuxerOptions& options)
    : source_(source), options_(options), network_(is_network(source)) {
  av::init_logging();
  if (network_) {
    static std::once_flag net_once;
    std::call_once(net_once, [] { avformat_network_init(); });
  }
  std::string location = source.location;
  const AVInputFormat* input_format = device_format(location);
  check_options(input_format);
  open(location, input_format, open_options());
  choose_stream();
}

// A V4L2 camera is opened through libavdevice, its location without the v4l2:// scheme.
// libavdevice is loaded here, not linked: it brings SDL, PulseAudio, JACK and X11, whose start
// cost every command ~0.03 s and 18 MiB.
const AVInputFormat* Demuxer::device_format(std::string& location) const {
  if (!is_device(source_)) return nullptr;
  static std::once_flag dev_once;
  static std::string dev_error;
  std::call_once(dev_once, [] {
    const std::string so = "libavdevice.so." + std::to_string(LIBAVDEVICE_VERSION_MAJOR);
    void* lib = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    auto register_all = lib ? reinterpret_cast<void (*)()>(dlsym(lib, "avdevice_register_all")) : nullptr;
    if (register_all) register_all();
    else dev_error = so + ": " + (lib ? "no avdevice_register_all" : dlerror());
  });
  if (!dev_error.empty())
    throw UnsupportedError("cannot open '" + source_.name() + "': cannot load libavdevice (" + dev_error + ")");
  const AVInputFormat* f = av_find_input_format("v4l2");
  if (!f) throw UnsupportedError("cannot open '" + source_.name() + "': this FFmpeg has no v4l2 input");
  if (location.rfind("v4l2://", 0) == 0) location.erase(0, 7);
  return f;
}

// Options that can be refused before anything is opened (or allocated).
void Demuxer::check_options(const AVInputFormat* device) const {
  if (network_ && is_rtsp(source_.location)) {
    static const char* const transports[] = {"tcp", "udp", "udp_multicast", "http", "https"};
    if (std::find(std::begin(transports), std::end(transports), options_.rtsp_transport) == std::end(transports))
      throw ConfigError("cannot open '" + source_.name() + "': RTSP transport '" + options_.rtsp_transport +
                        "' is not one of tcp, udp, udp_multicast, http, https");
  }
  if (!device) return;
  for (const auto& kv : options_.input_options) {  // no camera needed to tell a misspelt option
    const AVClass* generic = avformat_get_class();
    const AVClass* v4l2 = device->priv_class;
    if (!av_opt_find(&generic, kv.first.c_str(), nullptr, 0, AV_OPT_SEARCH_FAKE_OBJ) &&
        !(v4l2 && av_opt_find(&v4l2, kv.first.c_str(), nullptr, 0, AV_OPT_SEARCH_FAKE_OBJ)))
      throw ConfigError("cannot open '" + source_.name() + "': the V4L2 input has no option '" + kv.first +
                        "' (a camera takes video_size, framerate, input_format, pixel_format, standard, ...)");
  }
}

AVDictionary* Demuxer::open_options() const {
  AVDictionary* opts = nullptr;
  if (network_ && !is_device(source_)) {
    // Protocol-level timeouts as a second line behind the interrupt callback.
    const std::string us = std::to_string(int64_t{options_.read_timeout_ms} * 1000);
    av_dict_set(&opts, "rw_timeout", us.c_str(), 0);
    if (is_rtsp(source_.location)) av_dict_set(&opts, "rtsp_transport", options_.rtsp_transport.c_str(), 0);
  }
  if (options_.live) av_dict_set(&opts, "fpsprobesize", "0", 0);
  for (const auto& [key, value] : options_.input_options) av_dict_set(&opts, key.c_str(), value.c_str(), 0);
  return opts;
}

void Demuxer::open(const std::string& location, const AVInputFormat* format, AVDictionary* opts) {
  av::Dictionary leftover(opts);
  const bool network = network_, device = is_device(source_);
  av::FormatAlloc ctx(avformat_alloc_context());
  if (!ctx) throw Error(ErrorKind::Internal, "out of memory opening '" + source_.name() + "'");
  ctx->interrupt_callback.callback = &Demuxer::interrupt;
  ctx->interrupt_callback.opaque = this;
  log_.attach(ctx.get());
  if (source_.in_memory()) {
    if (source_.memory->empty()) throw OpenError("cannot open '" + source_.name() + "': the buffer is empty");
    memory_ = std::make_unique<MemoryInput>(MemoryInput{source_.memory, 0});
    io_ = av::make_memory_io(kIoBufferSize, memory_.get(), &Demuxer::read_memory, &Demuxer::seek_memory);
    ctx->pb = io_.get();
    ctx->flags |= AVFMT_FLAG_CUSTOM_IO;
  }
  arm_deadline(network ? options_.open_timeout_ms : 0);
  // avformat_open_input frees the context on failure (never a custom pb), so hand it over.
  AVFormatContext* raw = ctx.release();
  opts = leftover.release();
  int ret = avformat_open_input(&raw, source_.in_memory() ? nullptr : location.c_str(), format, &opts);
  leftover.reset(opts);
  if (ret < 0) {
    const bool transient = network && !device && (ret == AVERROR_EXIT || ret == AVERROR(ETIMEDOUT) ||
                                                   ret == AVERROR(ECONNREFUSED) || ret == AVERROR(EIO));
    av::throw_error(transient ? ErrorKind::Transient : ErrorKind::Open, ret,
                    device ? "cannot open the V4L2 device" : "cannot open", source_.name());
  }
  fmt_.reset(raw);
  // What no one took: the format and the protocol have no such option (a typo, or one of
  // another input's). The user's are refused rather than ignored.
  for (const auto& kv : options_.input_options) {
    if (av_dict_get(leftover.get(), kv.first.c_str(), nullptr, 0))
      throw ConfigError("cannot open '" + source_.name() + "': neither its format (" + raw->iformat->name +
                        ") nor its protocol takes the option '" + kv.first + "'");
  }
  if (options_.probed && options_.probed->apply(fmt_.get())) {
    copied_probe_ = true;
    probed_ = options_.probed;
    arm_deadline(0);
    return;
  }
  std::vector<AVDictionary*> probe_options(fmt_->nb_streams, nullptr);
  if (options_.max_pixels > 0)
    for (AVDictionary*& d : probe_options) av_dict_set_int(&d, "max_pixels", av::decoder_pixel_limit(options_.max_pixels), 0);
  ret = avformat_find_stream_info(fmt_.get(), probe_options.empty() ? nullptr : probe_options.data());
  for (AVDictionary*& d : probe_options) av_dict_free(&d);
  if (ret < 0)
    av::throw_error(network ? ErrorKind::Transient : ErrorKind::Open, ret, "cannot read stream information from",
                    source_.name());
  if (ProbedStreams::copyable(fmt_.get())) probed_ = std::make_shared<const ProbedStreams>(fmt_.get());
  arm_deadline(0);
}

void Demuxer::choose_stream() {
  if (options_.stream >= 0) {
    if (options_.stream >= static_cast<int>(fmt_->nb_streams) ||
        fmt_->streams[options_.stream]->codecpar->codec_type != AVMEDIA_TYPE_VIDEO)
      throw OpenError("'" + source_.name() + "' has no video stream " + std::to_string(options_.stream));
    video_index_ = options_.stream;
  } else {
    const int ret = av_find_best_stream(fmt_.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    video_index_ = ret >= 0 ? ret : -1;
  }
  if (video_index_ < 0 && options_.require_video) throw OpenError("'" + source_.name() + "' has no video stream");
  // Do not let the demuxer hand us packets of streams we never look at.
  if (options_.every_stream) return;
  for (unsigned i = 0; i < fmt_->nb_streams; ++i)
    if (static_cast<int>(i) != video_index_) fmt_->streams[i]->discard = AVDISCARD_ALL;
}

Demuxer::~Demuxer() = default;

void Demuxer::set_other_packets(std::function<void(AVPacket*)> tap) {
  other_packets_ = std::move(tap);
  for (unsigned i = 0; i < fmt_->nb_streams; ++i)
    if (static_cast<int>(i) != video_index_)
      fmt_->streams[i]->discard = other_packets_ ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
}

bool Demuxer::read_any(AVPacket* packet) {
  const bool network = network_;
  arm_deadline(network ? options_.read_timeout_ms : 0);
  const int ret = av_read_frame(fmt_.get(), packet);
  if (ret == AVERROR_EOF) {
    at_end_ = true;
    return false;
  }
  if (ret < 0) {
    if (network) av::throw_error(ErrorKind::Transient, ret, "reading from", source_.name());
    // A damaged or truncated file ends where it can no longer be read; said, not hidden.
    if (cut_short_.empty()) {
      const int64_t at = fmt_->pb ? avio_tell(fmt_->pb) : -1, size = fmt_->pb ? avio_size(fmt_->pb) : -1;
      cut_short_ = "reading stopped at byte " + std::to_string(at) + " of " + std::to_string(size) + " (" +
                   av::error_text(ret) + ")";
    }
    return false;
  }
  at_start_ = false;
  return true;
}

bool Demuxer::read_video(AVPacket* packet) {
  for (;;) {
    if (!read_any(packet)) return false;
    if (packet->stream_index == video_index_) {
      if (video_read_ >= 0) ++video_read_;
      if (landing_) {
        landing_ = false;
        landing_pts_ = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
      }
      return true;
    }
    if (other_packets_) other_packets_(packet);
    av_packet_unref(packet);
  }
}

bool Demuxer::seek(int64_t ts) {
  int ret = av_seek_frame(fmt_.get(), video_index_, ts, AVSEEK_FLAG_BACKWARD);
  if (ret < 0) return false;
  at_start_ = false;
  at_end_ = false;
  video_read_ = -1;
  landing_pts_ = AV_NOPTS_VALUE;
  landing_ = true;
  return true;
}

std::string Demuxer::cut_short() const {
  if (!cut_short_.empty()) return cut_short_;
  if (std::string said = log_.cut_short(); !said.empty()) return said;
  const AVStream* st = video_stream();
  const bool sample_table = fmt_->iformat && std::strstr(fmt_->iformat->name, "mov") != nullptr;
  if (at_end_ && sample_table && st && video_read_ >= 0 && st->nb_frames > video_read_)
    return "its sample table lists " + std::to_string(st->nb_frames) + " video samples, the file holds " +
           std::to_string(video_read_);
  // MPEG-TS claims no length; a muxer writes whole transport packets (188 bytes, 192 in M2TS,
  // 204 with FEC), so a file that ends inside one was cut. (One cut on a packet's edge
  // cannot be told from a whole file.)
  const bool ts = fmt_->iformat && std::strcmp(fmt_->iformat->name, "mpegts") == 0;
  const int64_t size = ts && at_end_ && fmt_->pb && !(fmt_->flags & AVFMT_FLAG_CUSTOM_IO) ? avio_size(fmt_->pb) : -1;
  if (size > 0 && size % 188 && size % 192 && size % 204)
    return "it ends inside a transport packet (" + std::to_string(size) + " bytes: " + std::to_string(size % 188) +
           " over a whole number of 188-byte packets)";
  return {};
}

}  // namespace framepipe

namespace framepipe {

bool Demuxer::live() const {
  if (source_.in_memory() || !is_stream_location(source_.location)) return false;
  if (!is_http(source_.location)) return true;
  const bool seekable = fmt_->pb && (fmt_->pb->seekable & AVIO_SEEKABLE_NORMAL);
  return fmt_->duration == AV_NOPTS_VALUE && !seekable;
}

bool is_live_input(const std::string& location, const InputOptions& options) {
  if (!is_stream_location(location)) return false;
  if (!is_http(location)) return true;
  // The container's header and the server's answer are enough (no stream probing, which on
  // a live stream would wait for seconds of it).
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "rw_timeout", "10000000", 0);
  for (const auto& [key, value] : options) av_dict_set(&opts, key.c_str(), value.c_str(), 0);
  AVFormatContext* raw = nullptr;
  const int r = avformat_open_input(&raw, location.c_str(), nullptr, &opts);
  av_dict_free(&opts);
  if (r < 0) av::throw_error(ErrorKind::Open, r, "cannot open", location);
  const bool seekable = raw->pb && (raw->pb->seekable & AVIO_SEEKABLE_NORMAL);
  const bool live = raw->duration == AV_NOPTS_VALUE && !seekable;
  avformat_close_input(&raw);
  return live;
}

}  // namespace framepipe
