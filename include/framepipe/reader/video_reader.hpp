// VideoReader: exact frames of one video stream by index, by time, in batches, or streamed.
//
//   framepipe::VideoReader reader("clip.mp4");
//   framepipe::Frame f = reader.frame(1234);          // RGB, H x W x 3
//   framepipe::Frame g = reader.frame_at(12.5);       // the frame on screen at 12.5 s
//   framepipe::Batch b = reader.frames({40, 3, 40});  // returned in the order asked
//
// Frame i is the i-th frame `ffmpeg -i X -vsync passthrough` decodes.
//
// Threads: every method may be called from any thread. One reader serves one call at a time
// (each takes the reader's lock, the getters included; stats() and damage_reports() also
// while next() decodes ahead on its own thread), so threads that share a reader take turns;
// readers opened one per thread decode at once and share nothing. source(), out_width(),
// out_height() and out_channels() are fixed at open and take no lock, so a for_each `fn`
// may call them; any other call from `fn` on its own reader waits for the for_each it runs
// under, for ever (its workers are other threads). The references info(), source(),
// options(), index() and geometry() return stay valid while the reader lives.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "framepipe/error.hpp"
#include "framepipe/image/geometry.hpp"
#include "framepipe/image/pixel_format.hpp"
#include "framepipe/media/frame_index.hpp"
#include "framepipe/media/media_info.hpp"
#include "framepipe/media/source.hpp"
#include "framepipe/media/frame.hpp"

namespace framepipe {

enum class IndexMode {
  Exact,   // at open, scan the packets and check their claims, decoding where they do not
           // hold (or load a fresh sidecar); counts are measured
  Decode,  // at open, decode every frame to build the index: the ground truth, at the cost
           // of a full decode (a sidecar made by a decode scan is used)
  Header,  // trust the header at open; counts are estimates until random access needs the
           // index, which is then built on first use
};

// "exact" | "decode" | "header"; a ConfigError names the choices otherwise.
IndexMode parse_index_mode(const std::string& s);
const char* to_string(IndexMode m);

// 8192 x 8192: every 8K format (7680x4320, DCI 8192x4320, 360-degree 8192x4096) and more.
inline constexpr int64_t kDefaultMaxPixels = int64_t{8192} * 8192;
// 8 GiB: 1,400 full-HD RGB frames in one batch.
inline constexpr int64_t kDefaultBatchBytes = int64_t{8} << 30;

struct ReaderOptions {
  ImageOptions image;
  int threads = 0;            // decoder threads; 0: FFmpeg's choice, as the ffmpeg CLI. More
                              // can be faster on few cores; damaged frames are then concealed
                              // differently (as in FFmpeg itself)
  IndexMode index = IndexMode::Exact;
  bool use_sidecar = true;    // load `<file>.fpidx` when present and fresh
  // Frames come out upright, turned as the stream's display matrix says (as the ffmpeg CLI
  // does); false: as stored. Boxes and sizes are then those of the upright frame.
  bool autorotate = true;
  // Where the video is decoded: "cpu", or "cuda" / "cuda:N" (NVDEC through FFmpeg's hwaccel;
  // frames are copied to host memory, so they are the CPU's, frame for frame). A codec NVDEC
  // does not take is decoded on the CPU (with `strict`, an UnsupportedError). Without an
  // NVIDIA driver or device, opening is an UnsupportedError that names what is missing.
  std::string device = "cpu";
  int stream = -1;            // video stream index; -1: FFmpeg's best video stream
  int open_timeout_ms = 10000;  // network sources only
  int read_timeout_ms = 10000;
  // A live stream (LiveSource sets it): open without probing the frame rate, which costs up
  // to a second of waiting before the first frame and is not used (time comes from pts).
  bool live = false;
  // rtsp:// sources: RTP over the RTSP connection (tcp, the default: no lost packets, so no
  // smeared frames reach a model), or udp, udp_multicast, http, https (tunnelled).
  std::string rtsp_transport = "tcp";
  // Given as the ffmpeg CLI's `-KEY VALUE` before -i (see InputOptions); they come after
  // framepipe's own, so they can override them. A sidecar index is not used with them.
  InputOptions input_options;
  // Damage in what a request hands out (reported before a frame, in the run that decoded it:
  // see "Damage accounting" in src/reader/reader_seek.cpp) is a DecodeError instead of counted.
  bool strict = false;
  // Only a packet the decoder refused (its picture lost) is: concealed damage is not. Decord's
  // rule, which its drop-in keeps.
  bool strict_lost = false;
  // Batches whose frames lie in separate keyframe groups are decoded by this many workers at
  // once, each with its own demuxer and single-threaded decoder. 0: one per core; 1: off.
  int workers = 0;
  // An index already built for this source (by another reader, or kept across a pickle):
  // used as is instead of scanning.
  std::shared_ptr<const FrameIndex> known_index;
  // Limits, so that a hostile header or a request is refused before memory is taken:
  // a video stream over max_pixels (width x height as the header claims, and as any frame
  // decodes) is an UnsupportedError at open, and a frame past it mid-stream is refused by the
  // decoder; a batch (frames(), range()) whose pixels would take more than batch_bytes is a
  // ConfigError (ask for fewer frames at once, or stream). 0: no limit.
  int64_t max_pixels = kDefaultMaxPixels;
  int64_t batch_bytes = kDefaultBatchBytes;
};

// What a reader has done so far: how much decoding its requests cost.
struct ReaderStats {
  int64_t frames_decoded = 0;   // frames the decoders produced (wanted or not)
  int64_t frames_returned = 0;  // frames converted and handed out
  int64_t seeks = 0;            // demuxer seeks (and reopens) to reach a target
  int64_t packets_skipped = 0;  // packets never sent to a decoder (key frames only requests)
  int64_t parallel_runs = 0;    // runs of frames decoded by the worker pool
};

class VideoReader {
 public:
  explicit VideoReader(const Source& source, const ReaderOptions& options = {});
  ~VideoReader();
  VideoReader(VideoReader&&) noexcept;
  VideoReader& operator=(VideoReader&&) noexcept;
  VideoReader(const VideoReader&) = delete;
  VideoReader& operator=(const VideoReader&) = delete;

  const MediaInfo& info() const;
  const Source& source() const;
  const ReaderOptions& options() const;
  // Number of frames: measured with IndexMode::Exact, the header's estimate otherwise.
  int64_t size() const;
  bool size_is_exact() const;
  const FrameIndex& index();  // builds it if the reader was opened with IndexMode::Header
  const Geometry& geometry() const;  // how source pixels map to output pixels
  int out_width() const;
  int out_height() const;
  int out_channels() const;

  Frame frame(int64_t i);
  void frame(int64_t i, Frame& out);
  // Any order, duplicates allowed; returned in the order asked. Decoded in sorted order,
  // each keyframe group at most once, seeking only where decoding forward costs more.
  Batch frames(const std::vector<int64_t>& indices);
  void frames(const std::vector<int64_t>& indices, Batch& out);
  // Writes into caller memory: N * out_height * out_width * out_channels bytes.
  void frames_into(const std::vector<int64_t>& indices, uint8_t* out, FrameInfo* info_out);
  // Each of the frames (a duplicate once) handed to `fn` as soon as it is decoded, in no set
  // order: keyframe groups decode at once on the worker pool and no worker waits for another's
  // frames, in a frame of memory per worker whatever the request. `fn` is called from the
  // caller's thread or a worker's, one frame at a time, or with Calls::Concurrent by each
  // worker as it has a frame, at once (a `fn` that encodes images then encodes on every
  // core; it guards what it shares); the frame is valid during the call. What `fn` throws
  // stops the request (the other workers at their next frame) and is rethrown here.
  enum class Calls { OneAtATime, Concurrent };
  void for_each(const std::vector<int64_t>& indices, const std::function<void(const Frame&)>& fn,
                Calls calls = Calls::OneAtATime);

  // The frame on screen at t seconds: largest pts with pts_time <= t.
  Frame frame_at(double seconds);
  Batch frames_at(const std::vector<double>& seconds);
  int64_t index_at(double seconds);  // throws OutOfRangeError outside [first pts, end]

  // Frames start, start+step, ... < stop (Python slice rules for negatives are the binding's).
  Batch range(int64_t start, int64_t stop, int64_t step = 1);

  // Streaming: seek(i) then next() returns frame i, i+1, ... in bounded memory. While
  // streaming, a thread decodes up to 4 frames ahead (stopped by any other access).
  void seek(int64_t i);
  bool next(Frame& out);  // false at the end

  // Damage met so far: packets the decoder rejected, frames flagged corrupt, and errors the
  // decoder reported while concealing damage. Decoding goes on past them unless strict.
  int64_t damage_reports() const;
  ReaderStats stats() const;

 private:
  friend struct ReaderInternals;  // the library's own access (src/reader/reader_internals.hpp)
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Opens, scans (unless header_only) and describes every stream.
MediaInfo probe(const Source& source, bool header_only = false);

// Scans `path` and writes its sidecar index `<path>.fpidx`; later opens load it while fresh.
// decode: build it by decoding every frame (the ground truth) instead of checking the packets.
FrameIndex write_index_sidecar(const std::string& path, int stream = -1, bool decode = false);

// The ConfigError for a request whose frames take `bytes` over options.batch_bytes (nothing
// where it is within the limit, or the limit is 0). `what` names the request ("a batch of 5
// frames of 160x120"), `advice` what to do instead.
void check_batch_bytes(const ReaderOptions& options, const std::string& source, const std::string& what,
                       int64_t bytes, const std::string& advice);

}  // namespace framepipe
