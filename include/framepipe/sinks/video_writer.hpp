// Encodes frames into a video file that keeps the source's timing and audio: every frame
// is written with the pts it had in the source (variable frame rate stays variable), and
// the source's audio streams are copied packet for packet, interleaved by time (re-encoded to
// AAC only where the container cannot hold them, e.g. PCM in MP4). The audio comes from a
// file (audio_from) or, for a live recording, from a LiveSource as it arrives (audio_relay).
//
//   framepipe::VideoWriterOptions o;
//   o.audio_from = "in.mp4";                                   // copy its audio
//   framepipe::VideoWriter out("annotated.mp4", w, h, reader.info().video.time_base, o);
//   while (reader.next(f)) { draw(f); out.write(f.data(), f.info.pts); }
//   out.close();                                               // or let it go out of scope
//
// Destinations: files (.mp4, .mkv, .mov, .ts, .webm, .nut, ...), an HLS playlist (.m3u8: its
// segments appear as they close), or a network URL: rtmp:// and rtmps:// (FLV), srt://,
// udp:// and tcp:// (MPEG-TS), rtsp:// (published to a server).
// A file is written as NAME.part.EXT and renamed to NAME.EXT by close(); a writer destroyed
// without close() (an exception, a signal that unwinds) still finishes the file with what
// was written, so an interrupted run leaves a valid, playable file.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "framepipe/image/pixel_format.hpp"
#include "framepipe/media/rational.hpp"

namespace framepipe {

class AudioRelay;  // a live stream's audio (see live_source.hpp)

struct VideoWriterOptions {
  std::string codec = "libx264";
  int crf = 20;                     // x264/x265 quality (lower is better); not with a bitrate
  int64_t bitrate = 0;              // a target in bits per second instead of crf (0: crf)
  std::string preset = "veryfast";
  // The encoded pixel format (yuv420p, yuv444p, gbrp, gray, ...), one the encoder takes.
  // Empty: yuv420p (yuv444p at an odd size), or gbrp for the lossless codecs (ffv1, ffvhuff,
  // utvideo, libx264rgb: bgr0), so that they give back the RGB written, exactly.
  std::string pix_fmt;
  int gop = 0;                      // frames from one keyframe to the next (0: the encoder's)
  std::string format;               // the container (mp4, matroska, mpegts, ...); empty: by name
                                    // or a URL's scheme (rtmp: flv; srt, udp, tcp: mpegts; rtsp)
  int hls_window = 0;               // an .m3u8 keeps the last N segments (0: all)
  std::string tune;                 // x264/x265 tune; "zerolatency": each frame is in the file at
                                    // once (no look-ahead), as a live recording wants
  int threads = 0;                  // encoder threads; 0: FFmpeg's choice
  PixelFormat input = PixelFormat::Rgb;  // what write() is given: rgb or bgr H x W x 3, or gray H x W
  std::string audio_from;           // copy this file's audio streams (empty: no audio)
  // Or copy a live stream's audio as it arrives (LiveSource::audio(), on the clock of the
  // frames' recording_offset); the writer takes what has come at each frame, the rest at close.
  std::shared_ptr<AudioRelay> audio_relay;
  // The output's display matrix (as VideoStreamInfo::display_matrix): for frames written as
  // stored (autorotate off), so players still show them upright. All 0: none (frames
  // written upright need none).
  std::array<int32_t, 9> display_matrix{};
};

// Output times that always rise, from source times that may not (a transport stream whose
// clock restarts, the pts of a damaged file). Where a time does not pass the last one given
// out, the rest of the stream is shifted to go on one frame step after it, as the ffmpeg CLI
// does at a timestamp discontinuity; times that rise pass through unchanged.
class RisingClock {
 public:
  int64_t next(int64_t pts);

 private:
  bool started_ = false;
  int64_t offset_ = 0, last_ = 0, step_ = 1;
};

class VideoWriter {
 public:
  // time_base: the unit of the pts given to write(); the source stream's, so every source pts
  // is kept.
  VideoWriter(std::string path, int width, int height, Rational time_base, VideoWriterOptions options = {});
  ~VideoWriter();
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  // One frame, H x W x 3 in options.input order (H x W for gray), rows packed. pts must increase.
  void write(const uint8_t* pixels, int64_t pts);
  // Flushes the encoder, copies the rest of the audio, finishes the file and renames it; not
  // `complete` (a run stopped early): the finished file keeps its part name.
  void close(bool complete = true);

  int64_t audio_packets_copied() const;
  // Audio streams of audio_from that the container cannot hold as they are: re-encoded to
  // AAC ("stream 1 (pcm_s16le)"), or, where even that cannot be done, left out.
  const std::string& audio_transcoded() const;
  const std::string& audio_transcoded_to() const;  // the codecs they became: "AAC", "Opus", ...
  const std::string& audio_skipped() const;
  // Live audio (audio_relay) that did not reach the file: packets over the relay's limit, and
  // streams of a later connection whose codec setup changed. Known after close().
  const std::string& audio_lost() const;
  const std::string& path() const;
  // A network destination's outages, one sentence each ("dropped at 3.20 s (...), back at
  // 6.48 s after 2 tries (80 frames not sent)"): while it is down, frames are dropped and it
  // is opened again after 1, 2, 4 ... 30 s; the writing never fails for it.
  const std::vector<std::string>& outages() const;

 private:
  static inline const std::string kNone;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace framepipe
