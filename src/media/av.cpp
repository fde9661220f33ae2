#include "media/av.hpp"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
}

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_set>

namespace framepipe::av {

FramePtr make_frame() {
  FramePtr f(av_frame_alloc());
  if (!f) throw Error(ErrorKind::Internal, "out of memory allocating an AVFrame");
  return f;
}

PacketPtr make_packet() {
  PacketPtr p(av_packet_alloc());
  if (!p) throw Error(ErrorKind::Internal, "out of memory allocating an AVPacket");
  return p;
}

IOContext make_memory_io(int buffer_size, void* opaque, int (*read)(void*, uint8_t*, int),
                         int64_t (*seek)(void*, int64_t, int)) {
  auto* buffer = static_cast<uint8_t*>(av_malloc(static_cast<size_t>(buffer_size)));
  if (!buffer) throw Error(ErrorKind::Internal, "out of memory allocating an IO buffer");
  AVIOContext* io = avio_alloc_context(buffer, buffer_size, 0, opaque, read, nullptr, seek);
  if (!io) {
    av_free(buffer);
    throw Error(ErrorKind::Internal, "out of memory allocating an IO context");
  }
  return IOContext(io);
}

std::string error_text(int errnum) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  if (av_strerror(errnum, buf, sizeof buf) < 0) return "unknown FFmpeg error " + std::to_string(errnum);
  return buf;
}

void throw_error(ErrorKind kind, int errnum, const std::string& what, const std::string& input) {
  std::string msg = what + " '" + input + "': " + error_text(errnum);
  const int os = errnum < 0 && errnum > -4096 ? -errnum : 0;  // AVERROR(errno); FFmpeg's own codes are tags
  switch (kind) {
    case ErrorKind::Open: throw OpenError(msg, os);
    case ErrorKind::Decode: throw DecodeError(msg, os);
    case ErrorKind::Unsupported: throw UnsupportedError(msg, os);
    case ErrorKind::Io: throw IoError(msg, os);
    case ErrorKind::Transient: throw TransientError(msg, os);
    default: throw Error(kind, msg, os);
  }
}

const int32_t* display_matrix(const AVStream* stream) {
  // FFmpeg 5.1: the display matrix is stream side data (6.1 moves it to codecpar).
  size_t size = 0;
  const uint8_t* data = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size);
  return data && size >= 9 * sizeof(int32_t) ? reinterpret_cast<const int32_t*>(data) : nullptr;
}

int64_t decoder_pixel_limit(int64_t max_pixels, int w, int h) {
  if (max_pixels <= 0) return 0;
  auto padded = [](int64_t side) { return (side + 63) / 64 * 64 + 192; };
  const auto side = static_cast<int64_t>(std::sqrt(static_cast<double>(max_pixels)));
  return std::max({max_pixels, padded(side) * padded(side), padded(w) * padded(h)});
}

int display_rotation(const AVStream* stream) {
  const int32_t* m = display_matrix(stream);
  if (!m) return 0;
  const double ccw = av_display_rotation_get(m);
  return std::isnan(ccw) ? 0 : static_cast<int>(ccw);  // truncated, as ffprobe prints it (29 for 29.9998)
}

static const char* or_unknown(const char* s) { return s ? s : "unknown"; }
const char* color_space_name(AVColorSpace v) { return or_unknown(av_color_space_name(v)); }
const char* color_range_name(AVColorRange v) { return or_unknown(av_color_range_name(v)); }
const char* color_primaries_name(AVColorPrimaries v) { return or_unknown(av_color_primaries_name(v)); }
const char* color_transfer_name(AVColorTransferCharacteristic v) { return or_unknown(av_color_transfer_name(v)); }

int channel_count(const AVCodecParameters* par) { return par->ch_layout.nb_channels; }

void set_frame_duration(AVFrame* frame, int64_t duration) {
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(57, 30, 100)
  frame->duration = duration;
#else
  frame->pkt_duration = duration;
#endif
}

std::string channel_layout_name(const AVCodecParameters* par) {
  char buf[128] = {0};
  if (av_channel_layout_describe(&par->ch_layout, buf, sizeof buf) < 0) return "unknown";
  return buf;
}

namespace {

// Counters alive now. The log callback touches a codec context's opaque only when it is one
// of these: other libav users in the process (OpenCV, say) keep their own opaque.
std::mutex& counters_mutex() {
  static std::mutex m;
  return m;
}
std::unordered_set<const void*>& live_counters() {
  static std::unordered_set<const void*> s;
  return s;
}
std::unordered_set<const void*>& live_container_logs() {
  static std::unordered_set<const void*> s;
  return s;
}
bool g_print_log = false;

// A decoder's report of damage: an error, or the error concealment's account of what it hid
// ("concealing 183 DC, 183 AC, 183 MV errors in B frame"), which FFmpeg logs at info level
// and alone when a damaged slice ends early without a parse error (test_damage found such a
// B-frame, concealed after a seek otherwise than in a stream).
bool reports_damage(int level, const char* fmt) {
  return level <= AV_LOG_ERROR || (level <= AV_LOG_INFO && fmt && std::strncmp(fmt, "concealing ", 11) == 0);
}

void log_callback(void* avcl, int level, const char* fmt, va_list vl) {
  if (reports_damage(level, fmt) && avcl && *static_cast<const AVClass**>(avcl) == avcodec_get_class()) {
    void* opaque = static_cast<AVCodecContext*>(avcl)->opaque;
    std::lock_guard<std::mutex> lock(counters_mutex());
    if (opaque && live_counters().count(opaque)) static_cast<DamageCounter*>(opaque)->add();
  }
  if (level <= AV_LOG_WARNING && fmt && avcl && *static_cast<const AVClass**>(avcl) == avformat_get_class()) {
    void* opaque = static_cast<AVFormatContext*>(avcl)->opaque;
    std::lock_guard<std::mutex> lock(counters_mutex());
    if (opaque && live_container_logs().count(opaque)) {
      char text[256];
      va_list copy;
      va_copy(copy, vl);
      std::vsnprintf(text, sizeof text, fmt, copy);
      va_end(copy);
      static_cast<ContainerLog*>(opaque)->note(level, text);
    }
  }
  if (g_print_log) av_log_default_callback(avcl, level, fmt, vl);
}

}  // namespace

DamageCounter::DamageCounter() {
  init_logging();
  std::lock_guard<std::mutex> lock(counters_mutex());
  live_counters().insert(this);
}

DamageCounter::~DamageCounter() {
  std::lock_guard<std::mutex> lock(counters_mutex());
  live_counters().erase(this);
}

ContainerLog::ContainerLog() {
  init_logging();
  std::lock_guard<std::mutex> lock(counters_mutex());
  live_container_logs().insert(this);
}

ContainerLog::~ContainerLog() {
  std::lock_guard<std::mutex> lock(counters_mutex());
  live_container_logs().erase(this);
}

// The demuxers' own words for a file cut short (FFmpeg 5.1): Matroska's "File ended
// prematurely". Other warnings are no claim about the file's end.
void ContainerLog::note(int, const char* text) {
  if (!std::strstr(text, "ended prematurely")) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (said_.empty()) {
    said_ = text;
    while (!said_.empty() && (said_.back() == '\n' || said_.back() == ' ')) said_.pop_back();
  }
}

std::string ContainerLog::cut_short() const {
  std::lock_guard<std::mutex> lock(mu_);
  return said_;
}

// FFmpeg has one log callback per process, and another library may set its own after ours:
// PyAV does when it is imported (torchvision imports it), and its callback takes Python's GIL,
// so a decoder thread logging while Python's thread waits for it to close deadlocked; ours
// also counts the decoder's damage reports. It is set again at each open, so it is the one
// in force whenever framepipe decodes.
void init_logging() {
  static std::once_flag once;
  std::call_once(once, [] { g_print_log = std::getenv("FRAMEPIPE_AV_LOG") != nullptr; });
  av_log_set_callback(&log_callback);
}

}  // namespace framepipe::av
