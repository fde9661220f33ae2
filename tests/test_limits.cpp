// Resource limits (issue 19): a header that claims more than a machine has, or a request that
// would take it, is refused with a typed error before the memory is taken; counts the header
// exaggerates are measured, not trusted; nothing loops for ever on a hostile number.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "framepipe/image/geometry.hpp"
#include "framepipe/reader/video_reader.hpp"
#include "framepipe/sample/sampling.hpp"
#include "support/error_of.hpp"
#include "support/reference.hpp"

namespace {

using framepipe::VideoReader;

using fpt::error_of;
using fpt::has;

std::string temp_file(const std::string& name, const std::string& bytes) {
  const auto p = std::filesystem::temp_directory_path() / ("framepipe_limits_" + name);
  std::ofstream(p, std::ios::binary) << bytes;
  return p.string();
}

int64_t peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

// A Y4M header is a line of text: it can claim any size in a few bytes.
TEST(Limits, HeaderClaimingTooManyPixelsIsRefusedAtOpen) {
  const std::string path = temp_file("9000.y4m", "YUV4MPEG2 W9000 H9000 F25:1 Ip A1:1 C420jpeg\nFRAME\nabc");
  const std::string msg = error_of<framepipe::UnsupportedError>([&] { VideoReader r(path); });
  EXPECT_TRUE(has(msg, path) && has(msg, "9000x9000") && has(msg, "max_pixels")) << msg;
  // Raised, the same header opens (and the frame, 6 bytes of 121 MB, is then a decode matter).
  framepipe::ReaderOptions o;
  o.max_pixels = int64_t{9000} * 9000;
  o.index = framepipe::IndexMode::Header;
  EXPECT_NO_THROW({ VideoReader r(path, o); });
  std::filesystem::remove(path);
}

TEST(Limits, MaxPixelsBelowARealVideoNamesTheLimit) {
  framepipe::ReaderOptions o;
  o.max_pixels = 1000;
  const std::string path = fpt::media("h264_audio.mp4");
  const std::string msg = error_of<framepipe::UnsupportedError>([&] { VideoReader r(path, o); });
  EXPECT_TRUE(has(msg, path) && has(msg, "over the limit of 1000")) << msg;
}

// A decompression bomb: one PNG frame of 10000 x 10000 of one colour is a few hundred KB on
// disk and 300 MB as RGB. Refused at open, before any frame buffer exists.
TEST(Limits, DecompressionBombIsRefusedBeforeDecoding) {
  const auto path = std::filesystem::temp_directory_path() / "framepipe_limits_bomb.mkv";
  const std::string cmd = "ffmpeg -v error -y -f lavfi -i color=c=gray:s=10000x10000:d=0.04:r=25 -frames:v 1 -c:v png '" +
                          path.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ASSERT_LT(std::filesystem::file_size(path), 4u << 20);
  const int64_t before = peak_rss_mib();
  const std::string msg = error_of<framepipe::UnsupportedError>([&] { VideoReader r(path.string()); });
  EXPECT_TRUE(has(msg, path.string()) && has(msg, "max_pixels")) << msg;
  EXPECT_LT(peak_rss_mib() - before, 100) << "memory was taken for the frame";
  std::filesystem::remove(path);
}

// An AVI header that says 10^9 frames (avih and strh patched): the count is measured, and a
// header-mode reader's estimate is never turned into an allocation.
TEST(Limits, BillionFramesInTheHeaderAreMeasuredNotTrusted) {
  std::ifstream is(fpt::media("mpeg4_bframes.avi"), std::ios::binary);
  std::string avi((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
  for (const auto& [tag, off] : {std::pair<std::string, size_t>{"avih", 16}, {"strh", 32}}) {
    const size_t at = avi.find(tag);
    ASSERT_NE(at, std::string::npos);
    const uint32_t billion = 1000000000;
    std::memcpy(&avi[at + 8 + off], &billion, 4);
  }
  const std::string path = temp_file("billion.avi", avi);
  EXPECT_EQ(framepipe::probe(path, /*header_only=*/true).video.frames_header, 1000000000);
  const framepipe::MediaInfo m = framepipe::probe(path);
  EXPECT_EQ(m.video.frames, static_cast<int64_t>(fpt::ffprobe(fpt::media("mpeg4_bframes.avi")).frames.size()));

  framepipe::ReaderOptions o;
  o.index = framepipe::IndexMode::Header;
  VideoReader r(path, o);
  EXPECT_FALSE(r.size_is_exact());
  const int64_t claimed = r.size();
  const std::string msg = error_of<framepipe::OutOfRangeError>([&] { (void)r.range(0, claimed); });
  EXPECT_TRUE(has(msg, "out of range")) << msg;
  EXPECT_LT(peak_rss_mib(), 1024) << "the claimed count was allocated";
  std::filesystem::remove(path);
}

TEST(Limits, BatchOverTheBudgetIsRefusedBeforeAllocating) {
  framepipe::ReaderOptions o;
  o.batch_bytes = 1 << 20;  // 1 MiB
  VideoReader r(fpt::media("h264_audio.mp4"), o);
  const std::vector<int64_t> many(static_cast<size_t>(1 + (1 << 20) / (r.out_width() * r.out_height() * 3)), 0);
  const std::string msg = error_of<framepipe::ConfigError>([&] { (void)r.frames(many); });
  EXPECT_TRUE(has(msg, "batch_bytes") && has(msg, "h264_audio.mp4")) << msg;
  EXPECT_NO_THROW((void)r.frames({0, 1}));
}

TEST(Limits, OutputSizePastTheLimitIsAConfigError) {
  framepipe::ImageOptions img;
  img.width = 100000;
  img.height = 100000;
  const std::string msg = error_of<framepipe::ConfigError>([&] { (void)framepipe::make_geometry(64, 48, img); });
  EXPECT_TRUE(has(msg, "100000x100000") && has(msg, "limit")) << msg;
  img.width = 2000000000;  // one side: the other from the aspect, without overflowing an int
  img.height = 0;
  EXPECT_TRUE(has(error_of<framepipe::ConfigError>([&] { (void)framepipe::make_geometry(64, 48, img); }), "limit"));
}

// Specs whose numbers are hostile plan in bounded time and memory (fuzz/regressions/fuzz_sample).
TEST(Limits, HostileSampleSpecsPlanInBoundedWork) {
  VideoReader r(fpt::media("h264_audio.mp4"));
  const framepipe::FrameIndex& idx = r.index();
  const auto fps = framepipe::plan_sample(framepipe::SampleSpec::parse("fps:9223372036854775807"), idx);
  EXPECT_EQ(static_cast<int64_t>(fps.frames.size()), idx.size());  // every frame once, in order
  for (size_t k = 0; k < fps.frames.size(); ++k) EXPECT_EQ(fps.frames[k], static_cast<int64_t>(k));
  framepipe::StreamSampler live(framepipe::SampleSpec::parse("fps:1e300"));
  framepipe::FrameInfo f;
  f.t = 0;
  EXPECT_TRUE(live.accept(f));
  f.t = 3.6e6;  // an hour-long gap
  EXPECT_TRUE(live.accept(f));  // (an unbounded plan would meet ctest's timeout, not a clock here)
  const std::string msg = error_of<framepipe::ConfigError>(
      [&] { (void)framepipe::plan_sample(framepipe::SampleSpec::parse("clips:64:1:1000000000"), idx); });
  EXPECT_TRUE(has(msg, "over the limit")) << msg;
}

}  // namespace
