// VideoReader against the ffmpeg CLI: every frame streamed, random access, batches in any
// order with duplicates, time lookup, memory input. Exact: MD5 of every frame.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "framepipe/reader/video_reader.hpp"
#include "support/media_set.hpp"
#include "support/reference.hpp"

namespace {

using framepipe::Frame;
using framepipe::VideoReader;

std::string frame_md5(const Frame& f) { return fpt::md5(f.data(), f.size_bytes()); }

// Checks one returned frame against the reference; on mismatch writes the image out.
void expect_frame(const Frame& f, int64_t i, const std::vector<std::string>& ref, const fpt::Probe& probe,
                  const std::string& tag) {
  ASSERT_LT(static_cast<size_t>(i), ref.size());
  EXPECT_EQ(f.info.index, i);
  EXPECT_EQ(f.info.pts, probe.frames[static_cast<size_t>(i)].pts) << "pts of frame " << i;
  EXPECT_DOUBLE_EQ(f.info.t, probe.seconds(probe.frames[static_cast<size_t>(i)].pts));
  const std::string got = frame_md5(f);
  if (got != ref[static_cast<size_t>(i)]) {
    const std::string file = fpt::dump_image(tag + "_" + std::to_string(i), f.data(), f.width, f.height, f.channels);
    ADD_FAILURE() << "frame " << i << " differs from ffmpeg's (ours written to " << file << ")";
  }
}

class ReaderConformance : public ::testing::TestWithParam<fpt::MediaCase> {
 protected:
  std::string path() const { return fpt::media(GetParam().file); }
  std::string tag() const { return fpt::case_name(GetParam().file); }
};

TEST_P(ReaderConformance, StreamingEveryFrameMatchesFfmpeg) {
  const auto ref = fpt::reference_md5(path());
  const fpt::Probe& probe = fpt::ffprobe(path());
  VideoReader reader(path());
  ASSERT_EQ(reader.size(), static_cast<int64_t>(ref.size()));
  Frame f;
  int64_t n = 0, last_label = -1;
  const uint8_t* buffer = nullptr;
  while (reader.next(f)) {
    expect_frame(f, n, ref, probe, tag());
    if (n == 0) buffer = f.data();
    EXPECT_EQ(f.data(), buffer) << "streaming reuses the frame's buffer";
    const int64_t label = fpt::pixel_index(f.data(), f.width, f.height, f.channels);
    if (GetParam().label == fpt::PixelLabel::Index) {
      EXPECT_EQ(label, n) << "frame " << n << " shows another number";
    } else if (GetParam().label == fpt::PixelLabel::Selected) {
      EXPECT_GT(label, last_label) << "frame " << n;
    }
    last_label = label;
    ++n;
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_EQ(n, static_cast<int64_t>(ref.size()));
}

TEST_P(ReaderConformance, RandomAccessMatchesFfmpeg) {
  const auto ref = fpt::reference_md5(path());
  const fpt::Probe& probe = fpt::ffprobe(path());
  VideoReader reader(path());
  const int64_t n = reader.size();
  ASSERT_EQ(n, static_cast<int64_t>(ref.size()));
  std::vector<int64_t> wanted = {0, n - 1};
  for (int64_t i = 0; i < n; ++i)
    if (reader.index()[i].keyframe) {
      wanted.push_back(i);
      if (i + 1 < n) wanted.push_back(i + 1);
    }
  std::mt19937 rng(1234);
  for (int k = 0; k < 8; ++k) wanted.push_back(std::uniform_int_distribution<int64_t>(0, n - 1)(rng));
  std::shuffle(wanted.begin(), wanted.end(), rng);  // backwards and forwards jumps
  Frame f;
  for (int64_t i : wanted) {
    reader.frame(i, f);
    expect_frame(f, i, ref, probe, tag());
    if (::testing::Test::HasFailure()) return;
  }
  // The last frame from a reader that has decoded nothing yet.
  VideoReader fresh(path());
  expect_frame(fresh.frame(n - 1), n - 1, ref, probe, tag());
}

TEST_P(ReaderConformance, BatchInAnyOrderWithDuplicatesEqualsSingleFrames) {
  const auto ref = fpt::reference_md5(path());
  VideoReader reader(path());
  const int64_t n = reader.size();
  std::vector<int64_t> wanted = {n - 1, 0, n / 2, n / 2, 1 % n, n - 1, n / 3, 0};
  framepipe::Batch b = reader.frames(wanted);
  ASSERT_EQ(b.size(), wanted.size());
  ASSERT_EQ(b.frame_bytes(), static_cast<size_t>(reader.out_width()) * reader.out_height() * 3);
  VideoReader single(path());
  for (size_t k = 0; k < wanted.size(); ++k) {
    EXPECT_EQ(b.info[k].index, wanted[k]);
    EXPECT_EQ(fpt::md5(b.frame_data(k), b.frame_bytes()), ref[static_cast<size_t>(wanted[k])]) << "slot " << k;
    const Frame f = single.frame(wanted[k]);
    EXPECT_EQ(f.info.pts, b.info[k].pts);
    EXPECT_EQ(frame_md5(f), fpt::md5(b.frame_data(k), b.frame_bytes()));
  }
}

TEST_P(ReaderConformance, FrameAtFollowsFfprobeTimestamps) {
  const fpt::Probe& probe = fpt::ffprobe(path());
  VideoReader reader(path());
  std::vector<double> ts;
  for (const auto& f : probe.frames) ts.push_back(probe.seconds(f.pts));
  ASSERT_FALSE(ts.empty());
  // The answer worked out from ffprobe's timestamps alone: largest pts_time <= t.
  auto expected = [&](double t) {
    int64_t best = -1;
    for (size_t i = 0; i < ts.size(); ++i)
      if (ts[i] <= t && (best < 0 || ts[i] >= ts[static_cast<size_t>(best)])) best = static_cast<int64_t>(i);
    return best;
  };
  std::vector<double> queries;
  for (size_t i = 0; i < ts.size(); ++i) {
    queries.push_back(ts[i]);
    if (i + 1 < ts.size()) queries.push_back(ts[i] + 0.4 * (ts[i + 1] - ts[i]));
  }
  for (double t : queries) ASSERT_EQ(reader.index_at(t), expected(t)) << "t = " << t;
  // Frames themselves, for a few times.
  const auto ref = fpt::reference_md5(path());
  for (double t : {ts.front(), ts[ts.size() / 2] + 0.001, ts.back()}) {
    const Frame f = reader.frame_at(t);
    EXPECT_EQ(f.info.index, expected(t));
    EXPECT_EQ(frame_md5(f), ref[static_cast<size_t>(expected(t))]);
  }
  EXPECT_THROW(reader.index_at(ts.front() - 0.5), framepipe::OutOfRangeError);
  EXPECT_THROW(reader.index_at(reader.index().end_seconds() + 1.0), framepipe::OutOfRangeError);
}

TEST_P(ReaderConformance, SelectReferenceIsTheSameFrame) {
  // The reference, literally: ffmpeg -vf select=eq(n\,I),scale=... for a few I.
  VideoReader reader(path());
  const int64_t n = reader.size();
  const std::vector<int64_t> wanted = {0, n / 2, n - 1};
  const auto ref = fpt::reference_frames(path(), wanted);
  for (int64_t i : wanted) {
    const Frame f = reader.frame(i);
    ASSERT_TRUE(ref.count(i)) << "ffmpeg gave no frame " << i;
    const auto& r = ref.at(i);
    ASSERT_EQ(r.size(), f.size_bytes());
    EXPECT_TRUE(std::equal(r.begin(), r.end(), f.data())) << "frame " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Media, ReaderConformance, ::testing::ValuesIn(fpt::conformance_set()),
                         [](const auto& p) { return fpt::case_name(p.param.file); });

TEST(Reader, FromMemoryEqualsFromFile) {
  for (const char* name : {"h264_bframes.mp4", "vp9_odd.webm", "mpeg4_bframes.avi"}) {
    const std::string path = fpt::media(name);
    std::ifstream is(path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
    VideoReader mem(framepipe::Source::from_bytes(std::move(bytes), name));
    const auto ref = fpt::reference_md5(path);
    ASSERT_EQ(mem.size(), static_cast<int64_t>(ref.size())) << name;
    const std::vector<int64_t> wanted = {mem.size() - 1, 0, 37};
    framepipe::Batch b = mem.frames(wanted);
    for (size_t k = 0; k < wanted.size(); ++k)
      EXPECT_EQ(fpt::md5(b.frame_data(k), b.frame_bytes()), ref[static_cast<size_t>(wanted[k])]) << name;
  }
}

TEST(Reader, SeekThenNextStreamsFromThere) {
  const std::string path = fpt::media("h264_opengop.mkv");
  const auto ref = fpt::reference_md5(path);
  VideoReader reader(path);
  reader.seek(50);
  Frame f;
  for (int64_t i = 50; i < 60; ++i) {
    ASSERT_TRUE(reader.next(f));
    EXPECT_EQ(f.info.index, i);
    EXPECT_EQ(frame_md5(f), ref[static_cast<size_t>(i)]);
  }
  reader.seek(reader.size() - 1);
  ASSERT_TRUE(reader.next(f));
  EXPECT_FALSE(reader.next(f));
}

TEST(Reader, RangeWithStep) {
  const std::string path = fpt::media("hevc.mp4");
  const auto ref = fpt::reference_md5(path);
  VideoReader reader(path);
  framepipe::Batch b = reader.range(3, 40, 9);
  ASSERT_EQ(b.size(), 5u);
  for (size_t k = 0; k < b.size(); ++k) {
    EXPECT_EQ(b.info[k].index, static_cast<int64_t>(3 + 9 * k));
    EXPECT_EQ(fpt::md5(b.frame_data(k), b.frame_bytes()), ref[3 + 9 * k]);
  }
}

// The cost rules, read off the reader's own counters: a sorted batch decodes each keyframe
// group at most once; a target reachable by decoding forward within its group never seeks.
TEST(ReaderCost, BatchDecodesEachGroupAtMostOnce) {
  for (const char* name : {"h264_bframes.mp4", "hevc.mp4", "vp9_odd.webm", "av1.mkv", "real/vtest.avi"}) {
    VideoReader reader(fpt::media(name));
    const framepipe::FrameIndex& idx = reader.index();
    std::vector<int64_t> wanted;
    for (int64_t i = 0; i < idx.size(); ++i)
      if (idx[i].keyframe) wanted.push_back(std::min(idx.size() - 1, i + 2));
    wanted.push_back(idx.size() - 1);
    std::vector<int64_t> shuffled = wanted;
    std::mt19937 rng(3);
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    shuffled.push_back(shuffled.front());
    reader.frames(shuffled);
    EXPECT_LE(reader.stats().frames_decoded, idx.size()) << name;
    EXPECT_EQ(reader.stats().frames_returned, static_cast<int64_t>(std::set<int64_t>(wanted.begin(), wanted.end()).size()))
        << name << ": duplicates are copied, not decoded again";
  }
}

TEST(ReaderCost, OpenGopAndTsPayAGroupEarlierAndOneRetryAtMost) {
  // Each target costs its group from the keyframe, from a group earlier where that keyframe
  // opens an open GOP (its leading pictures' references), plus what a decoder holds in
  // flight; an MPEG-TS seek by pts that lands past the keyframe costs one group more, once
  // (the reader seeks by dts from then on). Worked out from the index by hand, and well
  // short of the whole file, so that decoding all of it fails the test.
  for (const char* name : {"h264_opengop.mkv", "h264.ts"}) {
    VideoReader reader(fpt::media(name));
    const framepipe::FrameIndex& idx = reader.index();
    const int64_t n = reader.size();
    const std::vector<int64_t> targets = {n - 1, n / 2, 20};
    int64_t bound = 12;  // one retry: a group of this set's 12 frames
    for (int64_t t : targets) {
      const int64_t key = idx.keyframe_at_or_before(t);
      const int64_t start = key > 0 && idx[key].open_gop ? idx.keyframe_at_or_before(key - 1) : key;
      bound += t - std::max<int64_t>(start, 0) + 1 + 8;
    }
    ASSERT_LT(bound, n) << name << ": the bound must be short of a full decode";
    reader.frames(targets);
    EXPECT_LE(reader.stats().frames_decoded, bound) << name;
  }
}

TEST(ReaderCost, ForwardWithinAGroupNeverSeeks) {
  VideoReader reader(fpt::media("h264_bframes.mp4"));  // keyframes every 12 frames
  reader.frames({3, 7, 5, 11});
  EXPECT_EQ(reader.stats().seeks, 0);
  EXPECT_LE(reader.stats().frames_decoded, 12);
  reader.frame(13);  // the next group starts just ahead, at 12: decoding on is cheaper
  EXPECT_EQ(reader.stats().seeks, 0);
  reader.frame(90);  // groups 24..84 lie between: seek to 84
  EXPECT_EQ(reader.stats().seeks, 1);
  EXPECT_LE(reader.stats().frames_decoded, 14 + 7 + 3);
  reader.frame(2);  // backwards: seek to 0
  EXPECT_EQ(reader.stats().seeks, 2);
}

TEST(ReaderCost, ForwardLoopOfSingleFramesNeverSeeks) {
  const std::string path = fpt::media("hevc.mp4");
  const auto ref = fpt::reference_md5(path);
  VideoReader reader(path);
  for (int64_t i = 0; i < 40; i += 3)
    ASSERT_EQ(fpt::md5(reader.frame(i).data(), static_cast<size_t>(320 * 240 * 3)), ref[static_cast<size_t>(i)]) << i;
  EXPECT_EQ(reader.stats().seeks, 0);
}

TEST(ReaderCost, FramesNothingReferencesAreNotDecoded) {
  // x264 with 3 B-frames: most B-frames are references to nothing. A sparse batch decodes
  // the frames it needs and their references, not the rest; the frames stay exact.
  const std::string path = fpt::media("h264_bframes.mp4");
  const auto ref = fpt::reference_md5(path);
  VideoReader reader(path);
  std::vector<int64_t> wanted;
  for (int64_t i = 1; i < reader.size(); i += 10) wanted.push_back(i);
  framepipe::Batch b = reader.frames(wanted);
  for (size_t k = 0; k < wanted.size(); ++k)
    EXPECT_EQ(fpt::md5(b.frame_data(k), b.frame_bytes()), ref[static_cast<size_t>(wanted[k])]) << wanted[k];
  EXPECT_LT(reader.stats().frames_decoded, reader.size() * 3 / 4) << "non-reference frames were skipped";
  // Streaming still produces every frame.
  framepipe::Frame f;
  reader.seek(0);
  int64_t n = 0;
  while (reader.next(f)) ++n;
  EXPECT_EQ(n, reader.size());
}


TEST(ReaderCost, SeparateGroupsGoToTheWorkerPoolAndStayExact) {
  // h264_bframes.mp4 has a key frame every 12 frames: frames 5, 29, 53, 77 lie in separate
  // groups, each reached by a seek, so they are decoded by separate workers.
  const std::string path = fpt::media("h264_bframes.mp4");
  const auto ref = fpt::reference_md5(path);
  const std::vector<int64_t> wanted = {77, 5, 53, 29, 5};
  for (int workers : {0, 1, 3}) {
    framepipe::ReaderOptions o;
    o.workers = workers;
    VideoReader reader(path, o);
    framepipe::Batch b = reader.frames(wanted);
    for (size_t k = 0; k < wanted.size(); ++k)
      EXPECT_EQ(fpt::md5(b.frame_data(k), b.frame_bytes()), ref[static_cast<size_t>(wanted[k])]) << wanted[k];
    const bool pool = workers == 3 || (workers == 0 && std::thread::hardware_concurrency() > 1);
    EXPECT_EQ(reader.stats().parallel_runs > 0, pool) << "workers=" << workers;
    // Streaming afterwards still yields every frame in order.
    framepipe::Frame f;
    reader.seek(0);
    int64_t n = 0;
    while (reader.next(f)) EXPECT_EQ(f.info.index, n++);
    EXPECT_EQ(n, reader.size());
  }
}

}  // namespace
