// AudioReader: an audio stream's samples as float32, for models that hear.
//
//   framepipe::AudioReader audio("clip.mp4", {.sample_rate = 16000});  // mono by default
//   std::vector<float> s = audio.samples(0, 16000);                    // the first second
//   auto [a, b] = audio.range_between(t0, t1);                         // what plays in [t0, t1)
//
// Sample k is the k-th sample `ffmpeg -i X -f f32le -ac C -ar R -` writes (the same decoder,
// the same resampler with its defaults, flushed at the end); it plays at start() + k / rate,
// start() being the first decoded frame's pts. The whole stream is decoded at open and kept
// in memory (planar, channels x size() floats), up to max_samples per channel.
//
// Threads: every method is const and reads what the constructor decoded, so any thread may
// call any of them at once, without a lock (moving or destroying the reader excepted).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "framepipe/media/source.hpp"

namespace framepipe {

struct AudioOptions {
  int sample_rate = 0;   // 0: the stream's own
  bool mono = true;      // downmix to one channel, as -ac 1 does; false: the stream's channels
  int stream = -1;       // audio stream index; -1: FFmpeg's best audio stream
  // A bound on memory: more samples per channel is an UnsupportedError naming the file (the
  // default holds 2.3 hours at 48 kHz, 1.6 GB a channel).
  int64_t max_samples = 400'000'000;
};

class AudioReader {
 public:
  explicit AudioReader(const Source& source, const AudioOptions& options = {});
  ~AudioReader();
  AudioReader(AudioReader&&) noexcept;
  AudioReader& operator=(AudioReader&&) noexcept;

  int sample_rate() const;
  int channels() const;
  int64_t size() const;            // samples per channel
  double start() const;            // seconds at which sample 0 plays (the stream's clock)
  double duration() const;         // size() / sample_rate()
  int stream() const;              // the audio stream's index in the file
  const std::string& codec() const;
  const std::string& name() const;  // the source as given
  // Decode errors FFmpeg reported (and concealed or dropped) while decoding.
  int64_t damage_reports() const;

  // Channel c's samples, size() of them; channel c + 1's follow at channel(c) + size().
  const float* channel(int c) const;
  // Samples [begin, end) of every channel, planar: channels() x (end - begin). OutOfRangeError
  // unless 0 <= begin <= end <= size().
  std::vector<float> samples(int64_t begin, int64_t end) const;
  // The sample that plays at `seconds` (start() + k / rate, rounded to the nearest), clamped
  // to [0, size()].
  int64_t index_at(double seconds) const;
  double time_of(int64_t k) const { return start() + static_cast<double>(k) / sample_rate(); }
  // The samples that play during [t0, t1): [index_at(t0), index_at(t1)).
  std::pair<int64_t, int64_t> range_between(double t0, double t1) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace framepipe
