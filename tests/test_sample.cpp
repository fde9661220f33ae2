// Sampling against what ffprobe says (timestamps, key_frame flags), MMAction2's SampleFrames
// formula worked by hand, scene cuts made at known frames, and the ffmpeg CLI's frames.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>

#include "framepipe/error.hpp"
#include "framepipe/reader/video_reader.hpp"
#include "framepipe/sample/sampling.hpp"
#include "framepipe/tensor/tensor.hpp"
#include "support/media_set.hpp"
#include "support/reference.hpp"

namespace {

using framepipe::SampleKind;
using framepipe::SampleSpec;
using framepipe::VideoReader;

// --- the grammar ---------------------------------------------------------------------------

TEST(SampleSpec, ParsesEveryKind) {
  EXPECT_EQ(SampleSpec::parse("all").kind, SampleKind::All);
  EXPECT_EQ(SampleSpec::parse("every:30").every, 30);
  EXPECT_DOUBLE_EQ(SampleSpec::parse("fps:2.5").fps, 2.5);
  EXPECT_EQ(SampleSpec::parse("keyframes").kind, SampleKind::Keyframes);
  EXPECT_EQ(SampleSpec::parse("indices:4,-1,2").indices, (std::vector<int64_t>{4, -1, 2}));
  EXPECT_EQ(SampleSpec::parse("times:0.5,1").times, (std::vector<double>{0.5, 1.0}));
  const SampleSpec sc = SampleSpec::parse("scene:30:10");
  EXPECT_EQ(sc.scene.method, framepipe::SceneMethod::Content);
  EXPECT_DOUBLE_EQ(sc.scene.threshold, 30);
  EXPECT_EQ(sc.scene.min_len, 10);
  const SampleSpec sd = SampleSpec::parse("scene");
  EXPECT_DOUBLE_EQ(sd.scene.threshold, 27);  // PySceneDetect's defaults
  EXPECT_EQ(sd.scene.min_len, 15);
  EXPECT_EQ(SampleSpec::parse("scene-adaptive").scene.method, framepipe::SceneMethod::Adaptive);
  const SampleSpec c = SampleSpec::parse("clips:16:2:4:sliding:8:end=drop");
  EXPECT_EQ(c.clip_len, 16);
  EXPECT_EQ(c.interval, 2);
  EXPECT_EQ(c.count, 4);
  EXPECT_EQ(c.mode, framepipe::ClipMode::Sliding);
  EXPECT_EQ(c.stride, 8);
  EXPECT_EQ(c.end, framepipe::ClipEnd::Drop);
  EXPECT_EQ(SampleSpec::parse("clips:8:1:2:random:seed=9").seed, 9u);
  // to_string() parses back to the same plan.
  for (const char* text : {"every:3", "keyframes", "clips:16:2:4:uniform:end=repeat-last", "scene-adaptive:2.5:8",
                           "clips:4:1:0:sliding:3:end=loop", "indices:1,2,3"})
    EXPECT_EQ(SampleSpec::parse(SampleSpec::parse(text).to_string()).to_string(), SampleSpec::parse(text).to_string())
        << text;
}

TEST(SampleSpec, BadSpecsAreConfigErrorsThatShowTheGrammar) {
  for (const char* text : {"", "bogus", "every", "every:0", "every:x", "fps:-1", "fps:", "indices:", "indices:1,a",
                           "times:nan", "scene:0", "scene:27:0", "clips:16", "clips:0:1:1", "clips:4:0:1",
                           "clips:4:1:0", "clips:4:1:2:sideways", "clips:4:1:2:uniform:end=wrap", "all:3",
                           "keyframes:1"}) {
    try {
      SampleSpec::parse(text);
      ADD_FAILURE() << "'" << text << "' parsed";
    } catch (const framepipe::ConfigError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(std::string("'") + text + "'"), std::string::npos) << msg;
      EXPECT_NE(msg.find("clips:LEN:INTERVAL:COUNT"), std::string::npos) << msg;
    }
  }
}

// --- clips: MMAction2's SampleFrames, worked by hand -------------------------------------

std::vector<int64_t> clip_plan(const std::string& spec, int64_t n) {
  const SampleSpec s = SampleSpec::parse(spec);
  return framepipe::clip_frames(s, framepipe::clip_offsets(s, n), n);
}

TEST(Clips, UniformOffsetsFollowSampleFrames) {
  // n=100, 16 frames every 2 (span 32), 4 clips: avg = 69/4 = 17.25, offsets
  // int(17.25 k + 8.625) = 8, 25, 43, 60.
  const SampleSpec s = SampleSpec::parse("clips:16:2:4:uniform");
  EXPECT_EQ(framepipe::clip_offsets(s, 100), (std::vector<int64_t>{8, 25, 43, 60}));
  const auto f = clip_plan("clips:16:2:4", 100);
  ASSERT_EQ(f.size(), 64u);
  for (int64_t j = 0; j < 16; ++j) EXPECT_EQ(f[static_cast<size_t>(j)], 8 + 2 * j);
  EXPECT_EQ(f.back(), 60 + 30);
  // n=40, 8 frames every 1, 3 clips: avg = 33/3 = 11 -> 5, 16, 27.
  EXPECT_EQ(framepipe::clip_offsets(SampleSpec::parse("clips:8:1:3"), 40), (std::vector<int64_t>{5, 16, 27}));
}

TEST(Clips, PastTheEndLoopsRepeatsOrDrops) {
  // n=20 is shorter than one clip (8 frames every 4 = span 32): every offset is 0.
  EXPECT_EQ(clip_plan("clips:8:4:2:uniform:end=loop", 20),
            (std::vector<int64_t>{0, 4, 8, 12, 16, 0, 4, 8, 0, 4, 8, 12, 16, 0, 4, 8}));
  EXPECT_EQ(clip_plan("clips:8:4:1:uniform:end=repeat-last", 20), (std::vector<int64_t>{0, 4, 8, 12, 16, 16, 16, 16}));
  EXPECT_TRUE(clip_plan("clips:8:4:2:uniform:end=drop", 20).empty());
}

TEST(Clips, SlidingWalksWithItsStride) {
  EXPECT_EQ(clip_plan("clips:3:1:0:sliding:4:end=drop", 10), (std::vector<int64_t>{0, 1, 2, 4, 5, 6}));
  EXPECT_EQ(clip_plan("clips:3:1:0:sliding:4:end=loop", 10), (std::vector<int64_t>{0, 1, 2, 4, 5, 6, 8, 9, 0}));
  EXPECT_EQ(clip_plan("clips:3:1:1:sliding:4", 10), (std::vector<int64_t>{0, 1, 2}));  // COUNT caps
  // Default stride: back to back.
  EXPECT_EQ(clip_plan("clips:2:2:0:sliding:end=drop", 9), (std::vector<int64_t>{0, 2, 4, 6}));
}

TEST(Clips, RandomDrawsOneOffsetPerSegmentFromItsSeed) {
  // Train-time rule: avg = floor(69 / 4) = 17, offset k in [17 k, 17 k + 17).
  const SampleSpec s7 = SampleSpec::parse("clips:16:2:4:random:seed=7");
  const auto a = framepipe::clip_offsets(s7, 100);
  ASSERT_EQ(a.size(), 4u);
  for (int64_t k = 0; k < 4; ++k) {
    EXPECT_GE(a[static_cast<size_t>(k)], 17 * k);
    EXPECT_LT(a[static_cast<size_t>(k)], 17 * k + 17);
  }
  EXPECT_EQ(framepipe::clip_offsets(s7, 100), a) << "same seed, same clips";
  std::set<std::vector<int64_t>> draws;
  for (int seed = 0; seed < 8; ++seed)
    draws.insert(framepipe::clip_offsets(SampleSpec::parse("clips:16:2:4:random:seed=" + std::to_string(seed)), 100));
  EXPECT_GT(draws.size(), 4u) << "seeds draw different clips";
  // Few frames: sorted draws from [0, n - span], then evenly spread, then zeros.
  const auto b = framepipe::clip_offsets(SampleSpec::parse("clips:4:2:30:random:seed=1"), 40);  // avg 33/30 = 1
  for (size_t k = 0; k < b.size(); ++k) EXPECT_EQ(b[k], static_cast<int64_t>(k)) << "segments of one frame";
  const auto c = framepipe::clip_offsets(SampleSpec::parse("clips:4:2:8:random:seed=1"), 40);  // avg 33/8=4
  for (size_t k = 0; k < c.size(); ++k) EXPECT_TRUE(c[k] >= 4 * static_cast<int64_t>(k) && c[k] < 4 * static_cast<int64_t>(k) + 4);
  const auto d = framepipe::clip_offsets(SampleSpec::parse("clips:4:2:55:random:seed=3"), 60);  // avg 53/55 = 0
  ASSERT_EQ(d.size(), 55u);
  EXPECT_TRUE(std::is_sorted(d.begin(), d.end()));
  EXPECT_LE(d.back(), 60 - 8);
  // n = 8 = span: avg = 1/4 -> 0 and n <= max(count, span): round(k * 0.25).
  EXPECT_EQ(framepipe::clip_offsets(SampleSpec::parse("clips:4:2:4:random"), 8), (std::vector<int64_t>{0, 0, 0, 1}));
  // Shorter than a clip: zeros.
  EXPECT_EQ(framepipe::clip_offsets(SampleSpec::parse("clips:4:2:3:random"), 5), (std::vector<int64_t>{0, 0, 0}));
}

// --- plans over real files against ffprobe ------------------------------------------------

class SampleConformance : public ::testing::TestWithParam<fpt::MediaCase> {
 protected:
  std::string path() const { return fpt::media(GetParam().file); }
};

TEST_P(SampleConformance, KeyframesAreFfprobesAndDecodeNothingElse) {
  const fpt::Probe& probe = fpt::ffprobe(path());
  const auto ref = fpt::reference_md5(path());
  std::vector<int64_t> expected;
  for (size_t i = 0; i < probe.frames.size(); ++i)
    if (probe.frames[i].key) expected.push_back(static_cast<int64_t>(i));
  VideoReader reader(path());
  const auto plan = framepipe::plan_sample(SampleSpec::parse("keyframes"), reader);
  ASSERT_EQ(plan.frames, expected);
  const framepipe::Batch b = reader.frames(plan.frames);
  for (size_t k = 0; k < plan.frames.size(); ++k)
    EXPECT_EQ(fpt::md5(b.frame_data(k), b.frame_bytes()), ref[static_cast<size_t>(plan.frames[k])]) << plan.frames[k];
  const auto st = reader.stats();
  // Skipping needs pts in presentation order; damaged groups are decoded whole (exactness first).
  if (reader.index().timestamps_reliable() && reader.index().source_pts_rise() && !reader.index().any_damaged() &&
      expected.size() >= 2 && expected.size() * 2 < probe.frames.size()) {
    EXPECT_GT(st.packets_skipped, 0);
    // Key frames, plus what the decoder holds in flight after the last one.
    EXPECT_LE(st.frames_decoded, static_cast<int64_t>(expected.size()) + 8);
  }
}

TEST_P(SampleConformance, EveryAndClipFramesAreExact) {
  const auto ref = fpt::reference_md5(path());
  VideoReader reader(path());
  for (const char* spec : {"every:7", "clips:4:3:3:uniform", "clips:5:2:2:random:seed=3:end=repeat-last"}) {
    const auto plan = framepipe::plan_sample(SampleSpec::parse(spec), reader);
    if (std::string(spec) == "every:7") {
      ASSERT_EQ(plan.frames.size(), (ref.size() + 6) / 7);
      for (size_t k = 0; k < plan.frames.size(); ++k) EXPECT_EQ(plan.frames[k], static_cast<int64_t>(7 * k));
    }
    const framepipe::Batch b = reader.frames(plan.frames);
    for (size_t k = 0; k < plan.frames.size(); ++k) {
      EXPECT_EQ(b.info[k].index, plan.frames[k]);
      EXPECT_EQ(fpt::md5(b.frame_data(k), b.frame_bytes()), ref[static_cast<size_t>(plan.frames[k])])
          << spec << " frame " << plan.frames[k];
    }
  }
}

// for_each hands over each frame once, as the CLI decodes it, one call at a time, whatever
// order the pool finishes them in; an exception from the callback stops it and comes back.
TEST_P(SampleConformance, ForEachHandsOverEveryFrameOnceAsTheCLIDecodesIt) {
  const auto ref = fpt::reference_md5(path());
  VideoReader reader(path());
  const auto n = static_cast<int64_t>(ref.size());
  for (const char* spec : {"every:7", "keyframes", "clips:4:3:3:uniform"}) {
    SCOPED_TRACE(spec);
    std::vector<int64_t> wanted = framepipe::plan_sample(SampleSpec::parse(spec), reader).frames;
    wanted.push_back(wanted.front());  // a duplicate, handed over once
    std::map<int64_t, int> seen;
    std::atomic<int> inside{0};
    bool overlapped = false;
    reader.for_each(wanted, [&](const framepipe::Frame& f) {
      overlapped |= inside.fetch_add(1) != 0;
      ++seen[f.info.index];
      ASSERT_TRUE(f.info.index >= 0 && f.info.index < n);
      ASSERT_EQ(f.size_bytes(), static_cast<size_t>(reader.out_width()) * reader.out_height() * reader.out_channels());
      EXPECT_EQ(fpt::md5(f.data(), f.size_bytes()), ref[static_cast<size_t>(f.info.index)]) << "frame " << f.info.index;
      inside.fetch_sub(1);
    });
    EXPECT_FALSE(overlapped) << "two calls at once";
    const std::set<int64_t> distinct(wanted.begin(), wanted.end());
    EXPECT_EQ(seen.size(), distinct.size());
    for (const auto& [i, times] : seen) EXPECT_TRUE(distinct.count(i) && times == 1) << i << " x" << times;
  }
  int calls = 0;
  EXPECT_THROW(reader.for_each({0, n / 2, n - 1},
                               [&](const framepipe::Frame&) {
                                 ++calls;
                                 throw std::runtime_error("the caller's own error");
                               }),
               std::runtime_error);
  EXPECT_EQ(calls, 1);
  EXPECT_THROW(reader.for_each({0, n}, [](const framepipe::Frame&) {}), framepipe::OutOfRangeError);
}

// for_each with Calls::Concurrent: the workers call at once (each call here waits for
// another to come in), and still each frame once, as the CLI decodes it; the first error
// comes back and stops the rest.
TEST(ForEach, ConcurrentCallsComeAtOnceAndHandOverEveryFrameOnce) {
  const std::string path = fpt::media("h264_bframes.mp4");
  const auto ref = fpt::reference_md5(path);
  framepipe::ReaderOptions opt;
  opt.workers = 2;
  VideoReader reader(path, opt);
  // Frames in every keyframe group, each reached by decoding from its keyframe: the pool's
  // two workers take the groups (keyframes alone would be read by one decoder).
  const std::vector<int64_t> wanted = framepipe::plan_sample(SampleSpec::parse("every:7"), reader).frames;
  ASSERT_GE(wanted.size(), 8u);
  std::mutex mu;
  std::condition_variable cv;
  int inside = 0, most = 0;
  std::map<int64_t, int> seen;
  reader.for_each(
      wanted,
      [&](const framepipe::Frame& f) {
        {
          std::unique_lock lock(mu);
          ++seen[f.info.index];
          most = std::max(most, ++inside);
          cv.notify_all();
          cv.wait_for(lock, std::chrono::seconds(10), [&] { return most >= 2; });
        }
        EXPECT_EQ(fpt::md5(f.data(), f.size_bytes()), ref[static_cast<size_t>(f.info.index)]) << "frame " << f.info.index;
        std::lock_guard lock(mu);
        --inside;
      },
      VideoReader::Calls::Concurrent);
  EXPECT_EQ(most, 2) << "two workers' calls never overlapped";
  EXPECT_GT(reader.stats().parallel_runs, 0);
  EXPECT_EQ(seen.size(), wanted.size());
  for (const auto& [i, times] : seen) EXPECT_EQ(times, 1) << "frame " << i;
  std::atomic<int> calls{0};
  EXPECT_THROW(reader.for_each(
                   wanted,
                   [&](const framepipe::Frame&) {
                     ++calls;
                     throw std::runtime_error("the caller's own error");
                   },
                   VideoReader::Calls::Concurrent),
               std::runtime_error);
  EXPECT_LE(calls.load(), 2) << "a worker called again after a call had thrown";
}

// A loader's requests may span several batches (chunk_bytes): every batch still holds the
// ffmpeg CLI's frames in plan order, and the f32 tensors are (x / 255 - mean) / std of them,
// the same bits whatever the request size. Clips overlap across batches, so a chunk has
// frames more than once.
TEST_P(SampleConformance, TensorBatchesAreTheSameWhateverTheRequestSize) {
  const auto ref = fpt::reference_md5(path());
  VideoReader reader(path());
  const auto plan = framepipe::plan_sample(SampleSpec::parse("clips:4:3:7:uniform"), reader);
  const size_t frame = static_cast<size_t>(reader.out_width()) * reader.out_height() * reader.out_channels();
  const int64_t batch = 2;
  framepipe::TensorOptions u8;
  u8.dtype = framepipe::DType::U8;
  u8.layout = framepipe::Layout::NHWC;
  framepipe::TensorOptions f32;
  f32.layout = framepipe::Layout::NCTHW;
  f32.mean = {0.485f, 0.456f, 0.406f};
  f32.std = {0.229f, 0.224f, 0.225f};
  std::vector<std::vector<float>> first;  // f32 batches with one request a batch
  std::vector<std::vector<uint8_t>> checked;  // u8 batches found equal to the CLI's frames
  for (const size_t chunk : {size_t{0}, 2 * batch * 4 * frame, size_t{1} << 40}) {
    SCOPED_TRACE("chunk_bytes " + std::to_string(chunk));
    framepipe::TensorLoader bytes(reader, plan, u8, batch, true, chunk);
    framepipe::Tensor t;
    std::vector<framepipe::FrameInfo> rows;
    size_t k = 0;
    while (bytes.next(t, rows)) {
      if (chunk == 0) checked.emplace_back(t.data_as<uint8_t>(), t.data_as<uint8_t>() + t.numel());
      ASSERT_EQ(rows.size(), static_cast<size_t>(t.shape()[0] * 4));
      for (size_t j = 0; j < rows.size(); ++j, ++k) {
        ASSERT_EQ(rows[j].index, plan.frames[k]);
        EXPECT_EQ(fpt::md5(t.data_as<uint8_t>() + j * frame, frame), ref[static_cast<size_t>(plan.frames[k])])
            << "frame " << plan.frames[k];
      }
    }
    EXPECT_EQ(k, plan.frames.size());
    framepipe::TensorLoader floats(reader, plan, f32, batch, true, chunk);
    for (size_t b = 0; floats.next(t, rows); ++b) {
      const float* v = t.data_as<float>();
      std::vector<float> got(v, v + t.numel());
      if (chunk == 0) {
        // NCTHW of (x / 255 - mean) / std over the CLI's frames (NTHWC bytes), rounded once.
        ASSERT_LT(b, checked.size());
        const int64_t C = 3, T = 4, HW = reader.out_height() * reader.out_width();
        const int64_t N = t.shape()[0];
        size_t wrong = 0;
        for (int64_t n = 0; n < N; ++n)
          for (int64_t c = 0; c < C; ++c)
            for (int64_t tt = 0; tt < T; ++tt)
              for (int64_t p = 0; p < HW; ++p) {
                const double x = checked[b][static_cast<size_t>(((n * T + tt) * HW + p) * C + c)] / 255.0;
                const auto want = static_cast<float>((x - f32.mean[static_cast<size_t>(c)]) / f32.std[static_cast<size_t>(c)]);
                wrong += got[static_cast<size_t>(((n * C + c) * T + tt) * HW + p)] != want;
              }
        EXPECT_EQ(wrong, 0u) << "batch " << b;
        first.push_back(std::move(got));
      } else {
        EXPECT_TRUE(b < first.size() && got == first[b]) << "batch " << b;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Media, SampleConformance, ::testing::ValuesIn(fpt::conformance_set()),
                         [](const auto& p) { return fpt::case_name(p.param.file); });

// fps:F picks the frame on screen at each tick, from ffprobe's timestamps (variable frame rate).
TEST(SampleFps, VariableFrameRateFollowsFfprobeTimestamps) {
  for (const char* file : {"vfr.mkv", "vfr.mp4", "start_offset.mkv"}) {
    const fpt::Probe& p = fpt::ffprobe(fpt::media(file));
    ASSERT_FALSE(p.frames.empty());
    const double t0 = p.seconds(p.frames[0].pts);
    const double end = p.seconds(p.frames.back().pts + p.frames.back().duration);
    for (double fps : {1.0, 3.3, 7.0, 25.0, 60.0}) {
      std::vector<int64_t> expected;
      for (int64_t k = 0;; ++k) {
        const double t = t0 + static_cast<double>(k) / fps;
        if (t >= end) break;
        int64_t on_screen = 0;
        for (size_t i = 0; i < p.frames.size(); ++i)
          if (p.seconds(p.frames[i].pts) <= t) on_screen = static_cast<int64_t>(i);
        if (expected.empty() || expected.back() != on_screen) expected.push_back(on_screen);
      }
      VideoReader reader(fpt::media(file));
      SampleSpec s;
      s.kind = SampleKind::Fps;
      s.fps = fps;
      EXPECT_EQ(framepipe::plan_sample(s, reader).frames, expected) << file << " fps " << fps;
    }
  }
}

TEST(SampleTimes, TimesAndIndicesResolveAndOutOfRangeIsAnError) {
  const std::string path = fpt::media("vfr.mkv");
  const fpt::Probe& p = fpt::ffprobe(path);
  VideoReader reader(path);
  const int64_t n = reader.size();
  EXPECT_EQ(framepipe::plan_sample(SampleSpec::parse("indices:3,-1,0"), reader).frames,
            (std::vector<int64_t>{3, n - 1, 0}));
  const double t5 = p.seconds(p.frames[5].pts);
  EXPECT_EQ(framepipe::plan_sample(SampleSpec::parse("times:" + std::to_string(t5 + 1e-4)), reader).frames,
            (std::vector<int64_t>{5}));
  EXPECT_THROW(framepipe::plan_sample(SampleSpec::parse("indices:" + std::to_string(n)), reader),
               framepipe::OutOfRangeError);
  EXPECT_THROW(framepipe::plan_sample(SampleSpec::parse("times:1e6"), reader), framepipe::OutOfRangeError);
}

// --- scenes -------------------------------------------------------------------------------

TEST(SampleScene, FindsEveryCutWithinOneFrameAndNoneOnASteadyShot) {
  const std::vector<int64_t> cuts = {0, 40, 95, 135};  // where make-test-media.sh cut
  for (const char* spec : {"scene", "scene-adaptive"}) {
    VideoReader reader(fpt::media("scenes.mp4"));
    const auto plan = framepipe::plan_sample(SampleSpec::parse(spec), reader);
    ASSERT_EQ(plan.frames.size(), cuts.size()) << spec;
    for (size_t k = 0; k < cuts.size(); ++k) EXPECT_LE(std::abs(plan.frames[k] - cuts[k]), 1) << spec << " cut " << k;
    // Scenes tile the video, with ffprobe's times.
    const fpt::Probe& p = fpt::ffprobe(fpt::media("scenes.mp4"));
    ASSERT_EQ(plan.scenes.size(), cuts.size());
    for (size_t k = 0; k < plan.scenes.size(); ++k) {
      EXPECT_EQ(plan.scenes[k].start, plan.frames[k]);
      EXPECT_DOUBLE_EQ(plan.scenes[k].start_t, p.seconds(p.frames[static_cast<size_t>(plan.frames[k])].pts));
      EXPECT_EQ(plan.scenes[k].end, k + 1 < cuts.size() ? plan.frames[k + 1] : static_cast<int64_t>(p.frames.size()));
    }
    // vtest.avi: one fixed camera, people walking.
    VideoReader steady(fpt::media("real/vtest.avi"));
    EXPECT_EQ(framepipe::plan_sample(SampleSpec::parse(spec), steady).frames, (std::vector<int64_t>{0})) << spec;
  }
}

TEST(SampleScene, DetectorScoresAConstantFrameZeroAndMinLengthHolds) {
  framepipe::SceneOptions o;
  o.min_len = 3;
  framepipe::SceneDetector d(o);
  std::vector<uint8_t> black(64 * 48 * 3, 0), white(64 * 48 * 3, 255);
  EXPECT_EQ(d.push(0, black.data(), 64, 48), (std::vector<int64_t>{0}));
  EXPECT_TRUE(d.push(1, black.data(), 64, 48).empty());
  EXPECT_DOUBLE_EQ(d.last_score(), 0.0);
  EXPECT_TRUE(d.push(2, white.data(), 64, 48).empty()) << "2 frames after the last cut: too short";
  // White vs black in HSV: V differs by 255, H and S by 0 -> score 85.
  EXPECT_DOUBLE_EQ(d.last_score(), 85.0);
  EXPECT_EQ(d.push(3, black.data(), 64, 48), (std::vector<int64_t>{3}));
}

// --- live: deciding frame by frame ----------------------------------------------------------

TEST(StreamSampler, EveryAndKeyframesMatchThePlanWhileStreaming) {
  const std::string path = fpt::media("h264_bframes.mp4");
  for (const char* spec : {"every:5", "keyframes", "all"}) {
    VideoReader reader(path);
    framepipe::StreamSampler s(SampleSpec::parse(spec));
    std::vector<int64_t> got;
    framepipe::Frame f;
    while (reader.next(f))
      if (s.accept(f.info)) got.push_back(f.info.index);
    EXPECT_EQ(got, framepipe::plan_sample(SampleSpec::parse(spec), reader).frames) << spec;
  }
  EXPECT_THROW(framepipe::StreamSampler(SampleSpec::parse("clips:4:1:1")), framepipe::ConfigError);
}

}  // namespace
