// transform_video with the caller's own per-frame function: the output, as the ffmpeg CLI
// decodes it, is the function of the input, at every source timestamp.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "framepipe/error.hpp"
#include "framepipe/pipeline/transform.hpp"
#include "support/reference.hpp"

using namespace framepipe;

TEST(Transform, UserFunctionRunsOnEveryFrameWithItsTimestamp) {
  const std::string src = fpt::media("h264_audio.mp4");
  const std::string dst = fpt::temp_dir("transform") + "/inverted.mp4";
  int64_t calls = 0;
  auto result = transform_video(src, dst, [&](Frame& f) {
    ++calls;
    for (auto& v : f.pixels) v = static_cast<uint8_t>(255 - v);
  });
  EXPECT_EQ(result.frames, 100);
  EXPECT_EQ(calls, 100);
  EXPECT_GT(result.audio_packets, 0);
  const auto& in = fpt::ffprobe(src);
  const auto& out = fpt::ffprobe(dst);
  ASSERT_EQ(out.frames.size(), in.frames.size());
  for (size_t i = 0; i < in.frames.size(); ++i)
    EXPECT_NEAR(out.seconds(out.frames[i].pts), in.seconds(in.frames[i].pts), 1e-6) << "frame " << i;
  auto a = fpt::reference_frames(src, {7});
  auto b = fpt::reference_frames(dst, {7});
  double diff = 0;
  for (size_t k = 0; k < a[7].size(); ++k) diff += std::abs(int(b[7][k]) - (255 - int(a[7][k])));
  EXPECT_LT(diff / double(a[7].size()), 4.0) << "mean difference from the inverted source";
}

TEST(Transform, AFunctionThatChangesSizeMidwayIsAClearErrorAndTheFileStaysPlayable) {
  const std::string dst = fpt::temp_dir("transform_size") + "/bad.mp4";
  try {
    transform_video(fpt::media("h264_bframes.mp4"), dst, [](Frame& f) {
      if (f.info.index == 10) {
        f.width /= 2;
        f.pixels.resize(f.size_bytes());
      }
    });
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("frame 10 came out 160x240 after 320x240"), std::string::npos) << e.what();
  }
  // The writer finished what it had: ten frames, a valid file.
  ASSERT_TRUE(std::filesystem::exists(dst));
  EXPECT_EQ(fpt::ffprobe(dst).frames.size(), 10u);
}
