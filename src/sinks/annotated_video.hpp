// Annotated copies of a run's videos: the results drawn on the frames, written with the
// source's timestamps and its audio.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "framepipe/image/geometry.hpp"
#include "framepipe/media/frame.hpp"
#include "framepipe/post/prediction.hpp"
#include "framepipe/reader/video_reader.hpp"
#include "framepipe/sinks/video_writer.hpp"

namespace framepipe {

class AudioRelay;
class PreviewServer;

// What became of the source's audio in a copy, where not all of it was copied as it is: one
// sentence each.
std::vector<std::string> audio_notes(const VideoWriter& writer);

// A file's annotated copy: every source frame, with the latest result drawn on it. A second
// reader streams the video at its own size in step with the results (results come in frame
// order), so memory stays bounded.
class Annotator {
 public:
  // `out` empty: no file, only the pictures handed to `preview` (run --preview alone).
  // `format`, `hls_window`: as VideoWriterOptions'.
  Annotator(const std::string& video, std::string out, const ReaderOptions& base, PreviewServer* preview = nullptr,
            const std::string& format = "", int hls_window = 0);
  // Writes the frames before `index` with what was drawn so far, then takes the new result.
  void result(int64_t index, const Prediction& p);
  // Complete: the frames after the last result get it too. Interrupted: the video ends at the
  // last frame written. Returns the audio notes.
  std::vector<std::string> finish(bool complete);

 private:
  void advance_to(int64_t index);
  std::string out_;
  std::unique_ptr<VideoReader> reader_;
  std::unique_ptr<VideoWriter> writer_;
  PreviewServer* preview_;
  RisingClock clock_;
  Frame frame_;
  int64_t next_ = 0, last_ = -1;
  std::vector<Detection> objects_;
  std::vector<ClassScore> classes_;
};

// A live stream's annotated copy: the frames the model was given, at the source's size, with
// its results drawn, and the stream's audio, all on the recording's clock, so a reconnect
// that restarts the stream's clock follows on after a pause as long as the outage. Frames the
// queue dropped are not in it; the audio is all there.
class LiveAnnotator {
 public:
  // `out` empty: no file, only the pictures handed to `preview`.
  LiveAnnotator(std::string out, PixelFormat order, std::shared_ptr<AudioRelay> audio, PreviewServer* preview = nullptr,
                std::string format = "", int hls_window = 0);
  // `recording_offset`: seconds from the frame's connection clock to the recording's (the
  // same shift as that connection's audio). Boxes in `p` are mapped by `g` onto the frame.
  void frame(Frame& f, double recording_offset, const Prediction& p, const Geometry& g, Rational time_base);
  std::vector<std::string> finish();

 private:
  std::string out_;
  PixelFormat order_;
  std::shared_ptr<AudioRelay> audio_;
  PreviewServer* preview_;
  std::string format_;
  int hls_window_;
  std::unique_ptr<VideoWriter> writer_;
  bool started_ = false;
  int width_ = 0, height_ = 0;
  Rational time_base_;
  int64_t last_ = INT64_MIN + 1;
};

}  // namespace framepipe
