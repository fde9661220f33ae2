// FrameIndex against ffprobe: frame count, every frame's pts, keyframes; the sidecar file;
// a demuxer that copies another's probe against one that probes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <utime.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "framepipe/reader/video_reader.hpp"
#include "media/demuxer.hpp"
#include "support/media_set.hpp"
#include "support/reference.hpp"

namespace {

class IndexConformance : public ::testing::TestWithParam<fpt::MediaCase> {};

TEST_P(IndexConformance, CountAndTimestampsMatchFfprobe) {
  const std::string path = fpt::media(GetParam().file);
  const fpt::Probe& ref = fpt::ffprobe(path);
  framepipe::VideoReader reader(path);
  const framepipe::FrameIndex& idx = reader.index();
  ASSERT_EQ(idx.size(), static_cast<int64_t>(ref.frames.size())) << "frame count differs from ffprobe -show_frames";
  EXPECT_EQ(reader.size(), idx.size());
  EXPECT_TRUE(reader.size_is_exact());
  EXPECT_EQ(idx.time_base().num, ref.tb_num);
  EXPECT_EQ(idx.time_base().den, ref.tb_den);
  for (int64_t i = 0; i < idx.size(); ++i) {
    ASSERT_EQ(idx[i].pts, ref.frames[static_cast<size_t>(i)].pts) << "pts of frame " << i;
    ASSERT_DOUBLE_EQ(idx.time_of(i), ref.seconds(ref.frames[static_cast<size_t>(i)].pts)) << "t of frame " << i;
  }
  EXPECT_EQ(reader.info().video.frames, idx.size());
  EXPECT_EQ(reader.info().video.frames_header, ref.nb_frames_header > 0 ? ref.nb_frames_header : -1);
  EXPECT_EQ(reader.info().video.rotation, ref.rotation);
}

TEST_P(IndexConformance, KeyframesMatchFfprobe) {
  const std::string path = fpt::media(GetParam().file);
  const fpt::Probe& ref = fpt::ffprobe(path);
  framepipe::VideoReader reader(path);
  const framepipe::FrameIndex& idx = reader.index();
  ASSERT_EQ(idx.size(), static_cast<int64_t>(ref.frames.size()));
  for (int64_t i = 0; i < idx.size(); ++i)
    EXPECT_EQ(idx[i].keyframe, ref.frames[static_cast<size_t>(i)].key) << "keyframe flag of frame " << i;
}

INSTANTIATE_TEST_SUITE_P(Media, IndexConformance, ::testing::ValuesIn(fpt::conformance_set()),
                         [](const auto& p) { return fpt::case_name(p.param.file); });

// The worker pool's demuxers and the index's first-frames check copy the reader's probe
// instead of probing again (DemuxerOptions::probed). Where they do, they must be the demuxer
// a probe makes: the same parameters for the decoder, the same timing, the same packets.
class ProbeCopy : public ::testing::TestWithParam<fpt::MediaCase> {};

TEST_P(ProbeCopy, OnlyWhereTheHeaderSaysItAllAndThenAsTheProbeMadeIt) {
  const std::string path = fpt::media(GetParam().file);
  framepipe::DemuxerOptions opt;
  opt.every_stream = true;
  framepipe::Demuxer probed(path, opt);
  EXPECT_FALSE(probed.copied_probe());
  opt.probed = probed.probed();
  framepipe::Demuxer copied(path, opt);
  const std::string ext = std::filesystem::path(path).extension().string();
  ASSERT_EQ(copied.copied_probe(), ext == ".mp4" || ext == ".mov") << "copies only for MP4 and QuickTime";
  if (!copied.copied_probe()) return;
  auto same = [](AVRational r, AVRational s) { return r.num == s.num && r.den == s.den; };  // 0/0 too
  AVFormatContext* a = probed.format();
  AVFormatContext* b = copied.format();
  ASSERT_EQ(a->nb_streams, b->nb_streams);
  EXPECT_EQ(a->start_time, b->start_time);
  EXPECT_EQ(a->duration, b->duration);
  for (unsigned i = 0; i < a->nb_streams; ++i) {
    const AVStream* x = a->streams[i];
    const AVStream* y = b->streams[i];
    const AVCodecParameters* p = x->codecpar;
    const AVCodecParameters* q = y->codecpar;
    SCOPED_TRACE("stream " + std::to_string(i));
    EXPECT_EQ(p->codec_id, q->codec_id);
    EXPECT_EQ(p->format, q->format);
    EXPECT_EQ(p->width, q->width);
    EXPECT_EQ(p->height, q->height);
    EXPECT_EQ(p->profile, q->profile);
    EXPECT_EQ(p->level, q->level);
    EXPECT_EQ(p->field_order, q->field_order);
    EXPECT_EQ(p->color_range, q->color_range);
    EXPECT_EQ(p->color_space, q->color_space);
    EXPECT_EQ(p->video_delay, q->video_delay);
    EXPECT_EQ(p->sample_rate, q->sample_rate);
    EXPECT_TRUE(same(p->sample_aspect_ratio, q->sample_aspect_ratio));
    ASSERT_EQ(p->extradata_size, q->extradata_size);
    if (p->extradata_size > 0) {
      EXPECT_EQ(std::memcmp(p->extradata, q->extradata, static_cast<size_t>(p->extradata_size)), 0);
    }
    EXPECT_TRUE(same(x->time_base, y->time_base));
    EXPECT_TRUE(same(x->avg_frame_rate, y->avg_frame_rate));
    EXPECT_TRUE(same(x->r_frame_rate, y->r_frame_rate));
    EXPECT_EQ(x->start_time, y->start_time);
    EXPECT_EQ(x->duration, y->duration);
  }
  auto pa = framepipe::av::make_packet();
  auto pb = framepipe::av::make_packet();
  for (int64_t n = 0;; ++n) {
    const bool got = probed.read_any(pa.get());
    ASSERT_EQ(copied.read_any(pb.get()), got) << "packet " << n;
    if (!got) break;
    ASSERT_EQ(pa->stream_index, pb->stream_index) << "packet " << n;
    ASSERT_EQ(pa->pts, pb->pts) << "packet " << n;
    ASSERT_EQ(pa->dts, pb->dts) << "packet " << n;
    ASSERT_EQ(pa->duration, pb->duration) << "packet " << n;
    ASSERT_EQ(pa->pos, pb->pos) << "packet " << n;
    ASSERT_EQ(pa->flags, pb->flags) << "packet " << n;
    ASSERT_EQ(pa->size, pb->size) << "packet " << n;
    ASSERT_EQ(std::memcmp(pa->data, pb->data, static_cast<size_t>(pa->size)), 0) << "packet " << n;
    av_packet_unref(pa.get());
    av_packet_unref(pb.get());
  }
}

INSTANTIATE_TEST_SUITE_P(Media, ProbeCopy, ::testing::ValuesIn(fpt::conformance_set()),
                         [](const auto& p) { return fpt::case_name(p.param.file); });

TEST(Sidecar, RoundTripsAndIsRebuiltWhenStale) {
  namespace fs = std::filesystem;
  const std::string dir = fpt::temp_dir("sidecar");
  const std::string video = dir + "/clip.mp4";
  fs::copy_file(fpt::media("h264_bframes.mp4"), video);
  const std::string side = framepipe::FrameIndex::sidecar_path(video);

  const framepipe::FrameIndex written = framepipe::write_index_sidecar(video);
  ASSERT_TRUE(fs::exists(side));
  auto stamp = framepipe::FileStamp::of(video);
  ASSERT_TRUE(stamp);
  auto loaded = framepipe::FrameIndex::load(side, *stamp);
  ASSERT_TRUE(loaded);
  ASSERT_EQ(loaded->size(), written.size());
  for (int64_t i = 0; i < written.size(); ++i) {
    EXPECT_EQ((*loaded)[i].pts, written[i].pts);
    EXPECT_EQ((*loaded)[i].keyframe, written[i].keyframe);
    EXPECT_EQ((*loaded)[i].pos, written[i].pos);
  }

  // Replace the video with another one (other frame count, later mtime): the sidecar is stale.
  fs::copy_file(fpt::media("vfr.mp4"), video, fs::copy_options::overwrite_existing);
  struct utimbuf times {};
  times.actime = times.modtime = ::time(nullptr) + 10;
  ASSERT_EQ(::utime(video.c_str(), &times), 0);
  auto new_stamp = framepipe::FileStamp::of(video);
  EXPECT_FALSE(framepipe::FrameIndex::load(side, *new_stamp)) << "a stale sidecar must not load";

  framepipe::VideoReader reader(video);
  EXPECT_EQ(reader.size(), static_cast<int64_t>(fpt::ffprobe(fpt::media("vfr.mp4")).frames.size()));
  auto rebuilt = framepipe::FrameIndex::load(side, *new_stamp);
  ASSERT_TRUE(rebuilt) << "the reader rewrites a stale sidecar";
  EXPECT_EQ(rebuilt->size(), reader.size());
}

TEST(Sidecar, CorruptSidecarIsIgnored) {
  namespace fs = std::filesystem;
  const std::string dir = fpt::temp_dir("sidecar_bad");
  const std::string video = dir + "/clip.mkv";
  fs::copy_file(fpt::media("h264_opengop.mkv"), video);
  { std::ofstream(framepipe::FrameIndex::sidecar_path(video)) << "FPIDX garbage"; }
  framepipe::VideoReader reader(video);
  EXPECT_EQ(reader.size(), static_cast<int64_t>(fpt::ffprobe(video).frames.size()));
}

TEST(HeaderMode, CountsAreEstimatesUntilIndexed) {
  framepipe::ReaderOptions o;
  o.index = framepipe::IndexMode::Header;
  const std::string path = fpt::media("real/tree.avi");
  framepipe::VideoReader reader(path, o);
  EXPECT_FALSE(reader.size_is_exact());
  EXPECT_EQ(reader.size(), 444) << "tree.avi's header claims 444 frames";
  EXPECT_EQ(reader.index().size(), 68) << "random access builds the index: 68 frames exist";
  EXPECT_TRUE(reader.size_is_exact());
}

}  // namespace
