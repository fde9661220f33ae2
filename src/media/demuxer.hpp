// Demuxer: opens a path, URL or bytes in memory and reads packets of the chosen video stream.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "framepipe/media/source.hpp"
#include "media/av.hpp"

namespace framepipe {

// What probing an input (avformat_find_stream_info) found: its streams' parameters, taken
// from one demuxer (Demuxer::probed) to open the same input again without probing it. Only
// decoders read those opens (the index's first-frames check, the worker pool), and only where
// the container's header describes every stream and every packet's timestamps (mp4/mov); a
// probe costs ~15 ms of a 1080p H.264 file (it decodes a picture), a fifth of an open.
class ProbedStreams;

struct DemuxerOptions {
  int stream = -1;            // -1: best video stream
  int open_timeout_ms = 10000;
  int read_timeout_ms = 10000;
  bool require_video = true;  // throw OpenError when there is no video stream
  bool live = false;          // a live stream: no frame-rate probing before the first frame
  std::string rtsp_transport = "tcp";  // rtsp:// only: tcp, udp, udp_multicast, http or https
  InputOptions input_options;          // the user's, after ours (see ReaderOptions)
  bool every_stream = false;           // read every stream's packets (read_any), not just the video's
  // The decoders FFmpeg opens to probe the streams refuse pictures past this (a PNG bomb would
  // otherwise be decoded whole at open, before any check of ours); 0: FFmpeg's own limit.
  int64_t max_pixels = int64_t{8192} * 8192;
  // The same input as probed by another demuxer: its parameters are copied instead of
  // probing, where the container is one whose header says it all and whose streams are the
  // ones probed (else this demuxer probes).
  std::shared_ptr<const ProbedStreams> probed = nullptr;
};

class Demuxer {
 public:
  Demuxer(const Source& source, const DemuxerOptions& options);
  ~Demuxer();
  Demuxer(const Demuxer&) = delete;
  Demuxer& operator=(const Demuxer&) = delete;

  AVFormatContext* format() const { return fmt_.get(); }
  int video_index() const { return video_index_; }
  AVStream* video_stream() const { return video_index_ >= 0 ? fmt_->streams[video_index_] : nullptr; }
  const std::string& name() const { return source_.name(); }
  const Source& source() const { return source_; }

  // Next packet of the video stream; false at the end of the input. A read error in the
  // middle of a network stream is a TransientError; elsewhere the input ends there.
  bool read_video(AVPacket* packet);
  // Next packet of any stream read (every_stream: all of them); false at the end, as read_video().
  bool read_any(AVPacket* packet);
  // Packets of the other streams, which read_video() skips, go here as they are read (the
  // callback may take a reference; the packet is unreferenced after it returns). Those
  // streams are no longer discarded then.
  void set_other_packets(std::function<void(AVPacket*)> tap);
  // Seeks the video stream to the last keyframe at or before `ts` (stream time base).
  // Returns false where the input cannot seek there.
  bool seek(int64_t ts);
  bool at_start() const { return at_start_; }
  // The pts of the first video packet read since the last seek (AV_NOPTS_VALUE before one is
  // read): where the container's seek really landed, which can be past the keyframe asked for
  // (MPEG-TS searches timestamps, not keyframes).
  int64_t landing_pts() const { return landing_pts_; }
  // Why the file ended before its data did, as far as reading it showed: a read that failed,
  // the demuxer's own words (Matroska: "File ended prematurely"), or, read from the start to
  // the end, fewer video packets than an MP4/MOV sample table lists (a cut file keeps its
  // table at the front). "" where reading ended cleanly, or has not ended.
  std::string cut_short() const;
  // This input's streams as probed (or as copied), for DemuxerOptions::probed; null where
  // the container's probe may not be copied.
  const std::shared_ptr<const ProbedStreams>& probed() const { return probed_; }
  // Whether this demuxer copied its streams' parameters instead of probing.
  bool copied_probe() const { return copied_probe_; }
  // A live input (is_live_input): no end to scan to, nothing to seek.
  bool live() const;

 private:
  // The steps of opening, in order.
  const AVInputFormat* device_format(std::string& location) const;
  void check_options(const AVInputFormat* device) const;
  AVDictionary* open_options() const;
  void open(const std::string& location, const AVInputFormat* format, AVDictionary* opts);
  void choose_stream();
  struct MemoryInput {
    std::shared_ptr<const std::vector<uint8_t>> bytes;
    int64_t pos = 0;
  };
  static int read_memory(void* opaque, uint8_t* buf, int size);
  static int64_t seek_memory(void* opaque, int64_t offset, int whence);
  static int interrupt(void* opaque);
  void arm_deadline(int ms);

  Source source_;
  DemuxerOptions options_;
  bool network_;  // is_network(source_), asked once: it stat()s a path (a FIFO is a stream)
  std::atomic<int64_t> deadline_ns_{0};  // 0: no deadline
  // Declaration order is teardown order reversed: the format context goes first, then the
  // custom IO context it read from, then the memory behind that.
  std::unique_ptr<MemoryInput> memory_;
  av::IOContext io_;
  av::ContainerLog log_;  // what the demuxer logs about the file's end (before fmt_: outlives it)
  av::FormatInput fmt_;
  std::string cut_short_;  // why reading stopped before the end, where it was not the end
  int64_t video_read_ = 0;  // video packets read since the open (-1 after a seek: not from the start)
  bool at_end_ = false;     // reading met the end of the file
  int video_index_ = -1;
  std::function<void(AVPacket*)> other_packets_;
  bool at_start_ = true;
  int64_t landing_pts_ = AV_NOPTS_VALUE;
  bool landing_ = false;  // the next video packet read is where a seek landed
  bool copied_probe_ = false;
  std::shared_ptr<const ProbedStreams> probed_;
};

}  // namespace framepipe
