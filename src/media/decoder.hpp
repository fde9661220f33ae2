// Decoder: the send/receive loop, written once. Pulls packets from a Demuxer as it needs
// them, drains every frame a packet yields (never one frame per packet assumed), flushes at
// the end, and counts damage instead of stopping (unless strict).
#pragma once

#include <atomic>
#include <cstdint>

#include "media/av.hpp"
#include "media/demuxer.hpp"

namespace framepipe {

struct DecoderOptions {
  int threads = 0;      // 0: FFmpeg's choice, as the ffmpeg CLI
  bool strict = false;  // a corrupt packet or frame is a DecodeError
};

class Decoder {
 public:
  Decoder(Demuxer& demuxer, const DecoderOptions& options);

  // The next frame in presentation order into `frame` (unreferenced first); false at the end.
  bool next(AVFrame* frame);
  // Forget buffered frames and the end-of-stream state; call after every seek.
  void flush();
  AVCodecContext* context() const { return ctx_.get(); }
  // Damage met so far: packets the decoder rejected, frames flagged corrupt, and errors the
  // decoder reported while concealing them.
  int64_t damage() const { return corrupt_packets_.load() + corrupt_frames_.load() + reported_.count(); }

 private:
  Demuxer& demuxer_;
  DecoderOptions options_;
  av::DamageCounter reported_;  // declared before ctx_: outlives the context that reports to it
  av::CodecContext ctx_;
  av::PacketPtr packet_;
  static constexpr int kMaxDrainErrors = 64;  // a decoder failing every frame at the end
  bool draining_ = false;
  int drain_errors_ = 0;
  int64_t damage_seen_ = 0;  // for strict mode: damage already accounted for
  bool finished_ = false;
  std::atomic<int64_t> corrupt_packets_{0};  // atomic: read while a read-ahead thread decodes
  std::atomic<int64_t> corrupt_frames_{0};
};

// FFmpeg-version helpers for frame fields that moved between releases.
int64_t frame_timestamp(const AVFrame* f);  // best-effort pts (AV_NOPTS_VALUE if none)
int64_t frame_duration(const AVFrame* f);
int64_t frame_packet_pos(const AVFrame* f);
bool frame_is_key(const AVFrame* f);

}  // namespace framepipe
