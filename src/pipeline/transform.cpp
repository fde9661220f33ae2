#include "framepipe/pipeline/transform.hpp"

#include <memory>

#include "framepipe/error.hpp"

namespace framepipe {

TransformResult transform_video(const std::string& input, const std::string& output, const FrameFunction& fn,
                                const TransformOptions& options, const std::function<void(int64_t, int64_t)>& progress) {
  if (options.reader.image.pix == PixelFormat::Gray)
    throw ConfigError("transform: frames are handed over as rgb or bgr, not gray (use the gray operation)");
  VideoReader reader(Source(input), options.reader);  // next() reads ahead on its own thread
  const Rational tb = reader.info().video.time_base;
  VideoWriterOptions wo = options.writer;
  wo.input = options.reader.image.pix;
  if (options.keep_audio && !reader.source().in_memory()) wo.audio_from = input;
  // Frames come upright unless asked as stored: then the output keeps the rotation to show.
  if (!options.reader.autorotate) wo.display_matrix = reader.info().video.display_matrix;
  RisingClock clock;  // every frame written, at rising times, whatever the source's pts do
  std::unique_ptr<VideoWriter> writer;  // opened at the first frame, when the output size is known
  TransformResult result;
  Frame frame;
  const int64_t total = reader.size();
  int out_w = 0, out_h = 0;
  while (reader.next(frame)) {
    const FrameInfo info = frame.info;
    fn(frame);
    if (frame.channels != 3 || frame.pixels.size() < frame.size_bytes())
      throw ConfigError("transform: the frame function must leave an H x W x 3 frame");
    if (!writer) {
      out_w = frame.width, out_h = frame.height;
      writer = std::make_unique<VideoWriter>(output, out_w, out_h, tb, wo);
    } else if (frame.width != out_w || frame.height != out_h) {
      throw ConfigError("transform: frame " + std::to_string(info.index) + " came out " + std::to_string(frame.width) +
                        "x" + std::to_string(frame.height) + " after " + std::to_string(out_w) + "x" +
                        std::to_string(out_h) + "; every frame must come out the same size");
    }
    writer->write(frame.data(), clock.next(info.pts));
    ++result.frames;
    if (progress) progress(result.frames, total);
  }
  if (!writer) throw DecodeError("transform: " + input + " gave no frame to write");
  writer->close();
  result.audio_packets = writer->audio_packets_copied();
  result.audio_skipped = writer->audio_skipped();
  result.audio_transcoded = writer->audio_transcoded();
  result.audio_transcoded_to = writer->audio_transcoded_to();
  return result;
}

TransformResult transform_video(const std::string& input, const std::string& output, const FrameOps& ops,
                                const TransformOptions& options, const std::function<void(int64_t, int64_t)>& progress) {
  const PixelFormat order = options.reader.image.pix;
  return transform_video(input, output, [&](Frame& f) { ops.apply(f, order); }, options, progress);
}

}  // namespace framepipe
