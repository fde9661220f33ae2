// decode -> a per-frame operation -> encode, with the audio and the timing of the source:
// every frame keeps its pts (variable frame rate stays variable) and the audio streams are
// copied packet for packet.
//
//   framepipe::transform_video("in.mp4", "out.mp4", framepipe::FrameOps::parse("gray,canny=50:150"));
//   framepipe::transform_video("in.mp4", "out.mp4", [](framepipe::Frame& f) { /* your code */ });
#pragma once

#include <functional>
#include <string>

#include "framepipe/image/frame_ops.hpp"
#include "framepipe/reader/video_reader.hpp"
#include "framepipe/sinks/video_writer.hpp"

namespace framepipe {

// Edits one frame in place (RGB, or BGR with reader.image.pix = Bgr); it may change its
// size, the same way for every frame.
using FrameFunction = std::function<void(Frame&)>;

struct TransformOptions {
  ReaderOptions reader;       // image.pix rgb (default) or bgr: what the function sees
  VideoWriterOptions writer;  // codec, crf, preset; writer.input follows reader.image.pix
  bool keep_audio = true;     // copy the source's audio streams
};

struct TransformResult {
  int64_t frames = 0;
  int64_t audio_packets = 0;
  std::string audio_transcoded;     // streams the output container could not take as they were
  std::string audio_transcoded_to;  // what they became: "AAC" (MP4), "Opus" (WebM), ...
  std::string audio_skipped;     // streams left out (not even AAC could be made)
};

// `progress(done, total)` is called after each frame when given.
TransformResult transform_video(const std::string& input, const std::string& output, const FrameFunction& fn,
                                const TransformOptions& options = {},
                                const std::function<void(int64_t, int64_t)>& progress = {});
TransformResult transform_video(const std::string& input, const std::string& output, const FrameOps& ops,
                                const TransformOptions& options = {},
                                const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace framepipe
