// An output file or stream: its streams, the header, packets interleaved by time, the trailer.
// A file is written under its part name (common/part_file.hpp): the name asked for appears
// only when finish() has written the trailer.
#pragma once

#include <string>

#include "common/part_file.hpp"
#include "media/av.hpp"

namespace framepipe {

class Muxer {
 public:
  // The container comes from the file name (.mp4, .mkv, .ts, .m3u8, ...) or a network URL's
  // scheme (rtmp/rtmps: FLV; srt, udp, tcp: MPEG-TS; rtsp: publishing): a ConfigError where
  // none fits. `format`: the container by its FFmpeg name (mp4, matroska, mpegts, flv, ...).
  // A URL, or an HLS playlist (whose segments appear as they close; `hls_window` > 0 keeps
  // that many, deleting older ones), is written straight through, under its own name.
  explicit Muxer(const std::string& path, const std::string& format = "", int hls_window = 0);
  ~Muxer();  // a muxer never finished removes its part file
  Muxer(const Muxer&) = delete;
  Muxer& operator=(const Muxer&) = delete;

  AVFormatContext* format() const { return out_.get(); }
  const std::string& path() const { return file_.path(); }
  bool global_header() const { return (out_->oformat->flags & AVFMT_GLOBALHEADER) != 0; }
  // Whether the container holds `codec` as it is: false only where FFmpeg knows it does not
  // (a container that keeps no list, as MPEG-TS, is asked when its header is written).
  bool holds(AVCodecID codec) const;
  AVStream* add_stream();
  void start();  // creates the file, writes the header
  bool started() const { return started_; }
  // `packet` from time base `from` into stream `stream` (its reference is taken).
  void write(AVPacket* packet, AVRational from, int stream);
  // The trailer; the file gets its name (complete) or keeps its part name (a run that stopped
  // early: whole and playable, but not to be taken for the finished file). A muxer never
  // started leaves nothing.
  void finish(bool complete = true);

 private:
  [[noreturn]] void fail(int err, const std::string& what) const;
  PartFile file_;
  av::FormatOutput out_;
  AVDictionary* header_options_ = nullptr;  // the container's options, for its header
  bool started_ = false, finished_ = false;
};

}  // namespace framepipe
