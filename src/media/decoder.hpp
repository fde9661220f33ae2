// Decoder: the send/receive loop, written once. Pulls packets from a Demuxer as it needs
// them, drains every frame a packet yields (never one frame per packet assumed), flushes at
// the end, and counts damage instead of stopping.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "media/av.hpp"
#include "media/demuxer.hpp"

namespace framepipe {

struct DecoderOptions {
  int threads = 0;  // 0: FFmpeg's choice, as the ffmpeg CLI
  // Where `device` cannot take the codec, an UnsupportedError instead of the CPU. (Damage is
  // never fatal here: the reader judges which reports concern frames it hands out.)
  bool device_only = false;
  // A stream larger than this (width x height) is refused at open, and FFmpeg refuses a
  // frame past it mid-stream (AVCodecContext::max_pixels); 0: FFmpeg's own limit only.
  int64_t max_pixels = int64_t{8192} * 8192;
  // A CUDA device (media/hw_device.hpp), borrowed: the stream is decoded there where FFmpeg's
  // hwaccel takes its codec, and frames come back to host memory. Where it does not take the
  // codec, the CPU decodes, or with `device_only` that is an UnsupportedError. nullptr: the CPU.
  AVBufferRef* device = nullptr;
  // Every picture buffer zeroed, whatever the codec (a file known to be damaged): see
  // zeroed_after_damage in decoder.cpp.
  bool zero_buffers = false;
  // Frames and their timestamps are wanted, not their pixels (the index's check of the first
  // frames): the loop filter is skipped.
  bool timing_only = false;
};

class Decoder {
 public:
  Decoder(Demuxer& demuxer, const DecoderOptions& options);

  // The next frame in presentation order into `frame` (unreferenced first); false at the end.
  bool next(AVFrame* frame);
  // Forget buffered frames and the end-of-stream state; call after every seek.
  void flush();
  // While set, packets before the last of `pts` (sorted) whose pts is not in it are decoded
  // with skip_frame = NONREF: frames nothing references are skipped, the frames produced are
  // exact, but not all frames are produced. nullptr: decode everything.
  void set_wanted(const std::vector<int64_t>* pts) { wanted_ = pts; }
  // While set, packets before the last wanted one other than the wanted key frames are never
  // sent to the decoder (a request for key frames only): they are recorded as skipped, as above.
  void set_key_only(bool on) { key_only_ = on; }
  // The source pts of every frame (sorted), from the index: a packet whose pts is none of them
  // yields no frame of its own (the second field of a field-coded picture, PAFF) and
  // completes the picture of the packet before it, so it is sent, or skipped, as that one
  // was. nullptr: every packet is judged on its own.
  void set_frame_pts(std::shared_ptr<const std::vector<int64_t>> pts) { frame_pts_ = std::move(pts); }
  int64_t packets_skipped() const { return packets_skipped_.load(); }
  // Whether the frame with this pts may have been skipped: its packet went in under an
  // earlier wanted set and the output has not passed it. Continuing forward cannot then
  // produce it; only a seek (which forgets all this) can.
  bool may_have_skipped(int64_t pts) const { return skipped_.count(pts) != 0; }
  bool skipped_pending() const { return !skipped_.empty(); }
  // Whether any packet went in skipped (or not at all) since the decoder opened or flushed.
  bool skipped_any() const { return skipped_any_; }
  // Frames the decoder holds in flight (frame threads and reordering): decoding forward
  // over fewer than these costs less than a seek, which throws them away.
  // Whether FFmpeg decodes several frames at once here (frame threads): their concealment of
  // damaged data depends on timing, so two decodes of one damaged file can differ.
  bool on_device() const { return on_device_; }  // decoding on the DecoderOptions::device
  bool frame_threaded() const { return (ctx_->active_thread_type & FF_THREAD_FRAME) != 0; }
  int in_flight_depth() const { return std::max(1, ctx_->thread_count) + ctx_->has_b_frames + 1; }
  // Whether a flush leaves state that a later picture can read: FFmpeg's HEVC decoder keeps
  // its motion-field pools, and the CTUs a silently damaged picture never decodes (a slice
  // that ends early is no error there) predict from what a pool buffer held, so the same
  // group decoded after a flush and after a fresh open differ (test_damage, hevc.mp4 seed
  // 234). A seek opens a fresh decoder for these, as the ffmpeg CLI's -ss does.
  bool flush_keeps_state() const { return ctx_->codec_id == AV_CODEC_ID_HEVC; }
  // Damage met so far: packets the decoder rejected, frames flagged corrupt, and errors the
  // decoder reported while concealing them.
  int64_t damage() const { return corrupt_packets_.load() + corrupt_frames_.load() + reported_.count(); }
  // Of those, packets (or frames) the decoder refused with an error: pictures lost, not concealed.
  int64_t refused() const { return corrupt_packets_.load(); }

 private:
  Demuxer& demuxer_;
  DecoderOptions options_;

 public:  // for the get_buffer2 callback
  // HEVC leaves the CTUs after a slice that ends early undecoded, and says nothing: their
  // pixels are the zeroed buffer's, but their motion field is whatever a recycled pool buffer
  // held, and pictures that take it as their collocated picture (TMVP) decode otherwise after
  // a seek than in a stream (test_damage, hevc.mp4 seed 202). Such a picture is found by its
  // undecoded blocks, all zero in every plane (a colour no RGB source gives), once it is
  // whole: a frame that comes out follows every picture decoded before it, so each picture
  // the decoder allocated (get_buffer2, in decoding order) is held until a frame at or after
  // it comes out, then looked at and let go. Each one found is damage, before any frame
  // decoded after it (which may predict from it) is handed out.
  struct PictureWatch : av::DamageCounter {
    std::mutex mutex;
    std::vector<av::FramePtr> pictures;  // allocated, not yet passed by the output
    // Undecoded pictures among those allocated up to and including `out`, which are let go.
    int64_t passed_by(const AVFrame* out);
    void clear();
  };

 private:
  PictureWatch reported_;  // declared before ctx_: outlives the context that reports to it
  bool watch_pictures_ = false;
  av::CodecContext ctx_;
  av::PacketPtr packet_;
  const std::vector<int64_t>* wanted_ = nullptr;
  bool key_only_ = false;
  bool on_device_ = false;
  av::FramePtr host_;  // a device frame copied to host memory
  void to_host(AVFrame* frame);
  std::shared_ptr<const std::vector<int64_t>> frame_pts_;
  bool last_sent_ = true;                      // the previous packet went to the decoder ...
  int last_discard_ = AVDISCARD_DEFAULT;       // ... with this skip_frame
  std::atomic<int64_t> packets_skipped_{0};
  std::set<int64_t> skipped_;  // pts sent with skip_frame NONREF, not yet passed by the output
  bool skipped_any_ = false;
  static constexpr int kMaxDrainErrors = 64;  // a decoder failing every frame at the end
  bool draining_ = false;
  int drain_errors_ = 0;
  bool finished_ = false;
  std::atomic<int64_t> corrupt_packets_{0};  // atomic: read while a read-ahead thread decodes
  std::atomic<int64_t> corrupt_frames_{0};
};

// FFmpeg-version helpers for frame fields that moved between releases.
int64_t frame_timestamp(const AVFrame* f);  // best-effort pts (AV_NOPTS_VALUE if none)
int64_t frame_duration(const AVFrame* f);
int64_t frame_packet_pos(const AVFrame* f);
bool frame_is_key(const AVFrame* f);
// A 64-bit hash of a decoded frame's pixels (every plane, row by row, padding left out):
// never 0, so that 0 can mean "no hash". Two decodes of one frame hash alike only if they
// gave the same picture.
uint64_t frame_hash(const AVFrame* f);

}  // namespace framepipe
