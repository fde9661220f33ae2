// The one place that owns libav* lifetimes. Every libav object framepipe holds is one of
// these unique_ptrs; nothing else calls an av_*_free function. Also: FFmpeg error codes to
// framepipe exceptions, with av_strerror text, what was being done, and to which input.
#pragma once

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/frame.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
#include <libavutil/audio_fifo.h>
}

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "framepipe/error.hpp"

namespace framepipe::av {

struct FormatInputDeleter {
  void operator()(AVFormatContext* p) const { avformat_close_input(&p); }
};
struct FormatAllocDeleter {  // a context not (yet) opened by avformat_open_input
  void operator()(AVFormatContext* p) const { avformat_free_context(p); }
};
struct FormatOutputDeleter {  // an output context and the file it opened
  void operator()(AVFormatContext* p) const {
    if (p->pb && !(p->oformat->flags & AVFMT_NOFILE)) avio_closep(&p->pb);
    avformat_free_context(p);
  }
};
struct CodecContextDeleter {
  void operator()(AVCodecContext* p) const { avcodec_free_context(&p); }
};
struct FrameDeleter {
  void operator()(AVFrame* p) const { av_frame_free(&p); }
};
struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsDeleter {
  void operator()(SwsContext* p) const { sws_freeContext(p); }
};
// A custom AVIOContext owns its buffer separately (FFmpeg may have replaced it).
struct IOContextDeleter {
  void operator()(AVIOContext* p) const {
    if (p) av_freep(&p->buffer);
    avio_context_free(&p);
  }
};
struct SwrDeleter {
  void operator()(SwrContext* p) const { swr_free(&p); }
};
struct AudioFifoDeleter {
  void operator()(AVAudioFifo* p) const { av_audio_fifo_free(p); }
};
struct CodecParametersDeleter {
  void operator()(AVCodecParameters* p) const { avcodec_parameters_free(&p); }
};
struct DictionaryDeleter {
  void operator()(AVDictionary* p) const { av_dict_free(&p); }
};

struct AvFreeDeleter {
  void operator()(void* p) const { av_free(p); }
};
using AlignedBytes = std::unique_ptr<uint8_t, AvFreeDeleter>;  // av_malloc'd, SIMD-aligned
using FormatInput = std::unique_ptr<AVFormatContext, FormatInputDeleter>;
using FormatAlloc = std::unique_ptr<AVFormatContext, FormatAllocDeleter>;
using FormatOutput = std::unique_ptr<AVFormatContext, FormatOutputDeleter>;
using Dictionary = std::unique_ptr<AVDictionary, DictionaryDeleter>;
using CodecContext = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using CodecParameters = std::unique_ptr<AVCodecParameters, CodecParametersDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using SwsPtr = std::unique_ptr<SwsContext, SwsDeleter>;
using IOContext = std::unique_ptr<AVIOContext, IOContextDeleter>;
using SwrPtr = std::unique_ptr<SwrContext, SwrDeleter>;
using AudioFifo = std::unique_ptr<AVAudioFifo, AudioFifoDeleter>;

FramePtr make_frame();
// A read-only custom IO context over callbacks, with its buffer.
IOContext make_memory_io(int buffer_size, void* opaque, int (*read)(void*, uint8_t*, int),
                         int64_t (*seek)(void*, int64_t, int));
PacketPtr make_packet();

// Unrefs a packet when the scope ends, whatever path leaves it.
class ScopedPacketUnref {
 public:
  explicit ScopedPacketUnref(AVPacket* p) : p_(p) {}
  ~ScopedPacketUnref() { av_packet_unref(p_); }
  ScopedPacketUnref(const ScopedPacketUnref&) = delete;
  ScopedPacketUnref& operator=(const ScopedPacketUnref&) = delete;

 private:
  AVPacket* p_;
};

std::string error_text(int errnum);

// Throws an exception of `kind` reading "<what> '<input>': <av_strerror text>".
[[noreturn]] void throw_error(ErrorKind kind, int errnum, const std::string& what,
                              const std::string& input);

// Returns ret when >= 0, throws otherwise.
inline int check(int ret, ErrorKind kind, const std::string& what, const std::string& input) {
  if (ret < 0) throw_error(kind, ret, what, input);
  return ret;
}

// FFmpeg version differences live behind these helpers.
// The display matrix's rotation as ffprobe prints it: degrees counter-clockwise that a
// player turns the decoded picture (90: shown turned a quarter to the left). 0 if none.
int display_rotation(const AVStream* stream);
// The stream's display matrix (nine 16.16/2.30 values, as ISO/IEC 14496-12 lays them out), or
// nullptr where it has none.
const int32_t* display_matrix(const AVStream* stream);
// AVCodecContext::max_pixels for a limit of `max_pixels` on pictures (0: none): FFmpeg
// checks its buffers' aligned size against it (a picture 160 wide takes 192 at 64-byte
// alignment, and codecs round up to whole blocks), so the decoder gets room for that, on a
// picture of w x h where known and on a square of the limit's area. Without the room a
// picture just within the limit failed to decode, every frame, in silence.
int64_t decoder_pixel_limit(int64_t max_pixels, int w = 0, int h = 0);
const char* color_space_name(AVColorSpace v);
const char* color_range_name(AVColorRange v);
const char* color_primaries_name(AVColorPrimaries v);
const char* color_transfer_name(AVColorTransferCharacteristic v);
int channel_count(const AVCodecParameters* par);
// How long a frame is shown, in its time base (AVFrame::pkt_duration before FFmpeg 6,
// AVFrame::duration from then on). Encoders pass it to their packets; a muxer needs it for
// the last frame.
void set_frame_duration(AVFrame* frame, int64_t duration);
std::string channel_layout_name(const AVCodecParameters* par);

// Quiets libav's own logging unless FRAMEPIPE_AV_LOG is set (errors reach users as
// exceptions), and counts what decoders report as damage: many decoders conceal a damaged
// frame and only log it. A DamageCounter attached to a codec context (through its opaque
// field, which frame-thread copies share) receives every error-level message it logs.
void init_logging();

class DamageCounter {
 public:
  DamageCounter();
  ~DamageCounter();
  DamageCounter(const DamageCounter&) = delete;
  DamageCounter& operator=(const DamageCounter&) = delete;
  void attach(AVCodecContext* ctx) { ctx->opaque = this; }
  int64_t count() const { return count_.load(std::memory_order_relaxed); }
  void add() { count_.fetch_add(1, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> count_{0};
};

// What a demuxer says in its log about the file ending early, which it does not say otherwise:
// FFmpeg's Matroska demuxer logs "File ended prematurely" and returns the end of the stream,
// as at a clean end. Attached to a format context through its opaque field.
class ContainerLog {
 public:
  ContainerLog();
  ~ContainerLog();
  ContainerLog(const ContainerLog&) = delete;
  ContainerLog& operator=(const ContainerLog&) = delete;
  void attach(AVFormatContext* ctx) { ctx->opaque = this; }
  std::string cut_short() const;  // the demuxer's words, "" if it said nothing of the kind
  void note(int level, const char* text);

 private:
  mutable std::mutex mu_;
  std::string said_;
};

}  // namespace framepipe::av
