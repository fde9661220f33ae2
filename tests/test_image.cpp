// Pixel formats and resizing against ffmpeg's scale filter, and the geometry maps.
#include <gtest/gtest.h>

#include "framepipe/error.hpp"
#include "framepipe/image/frame_ops.hpp"
#include "framepipe/image/geometry.hpp"
#include "framepipe/reader/video_reader.hpp"
#include "support/reference.hpp"

namespace {

using framepipe::ImageOptions;
using framepipe::ReaderOptions;
using framepipe::ResizeMode;
using framepipe::VideoReader;

ReaderOptions sized(int w, int h, ResizeMode mode) {
  ReaderOptions o;
  o.image.width = w;
  o.image.height = h;
  o.image.resize = mode;
  return o;
}

// Every frame of `path` read with `o` against ffmpeg's framemd5 with the given filter args.
void expect_all_frames(const std::string& path, const ReaderOptions& o, const std::string& pix,
                       const std::string& scale_args, const std::string& pre = "") {
  const auto ref = fpt::reference_md5(path, pix, scale_args, pre);
  VideoReader reader(path, o);
  ASSERT_EQ(reader.size(), static_cast<int64_t>(ref.size()));
  framepipe::Frame f;
  int64_t i = 0;
  while (reader.next(f)) {
    ASSERT_EQ(fpt::md5(f.data(), f.size_bytes()), ref[static_cast<size_t>(i)])
        << "frame " << i << " (ours: " << fpt::dump_image("image_" + std::to_string(i), f.data(), f.width, f.height, f.channels) << ")";
    ++i;
  }
  EXPECT_EQ(i, static_cast<int64_t>(ref.size()));
}

TEST(PixelFormats, BgrMatchesFfmpegBgr24) {
  ReaderOptions o;
  o.image.pix = framepipe::PixelFormat::Bgr;
  expect_all_frames(fpt::media("h264_bframes.mp4"), o, "bgr24", "");
}

TEST(PixelFormats, GrayIsFullRangeLuma) {
  ReaderOptions o;
  o.image.pix = framepipe::PixelFormat::Gray;
  expect_all_frames(fpt::media("hevc.mp4"), o, "gray", "");
}

TEST(PixelFormats, TenBitToRgb) { expect_all_frames(fpt::media("hevc_10bit.mkv"), {}, "rgb24", ""); }

TEST(PixelFormats, HdStreamWithoutTagsUsesBt709) {
  // A 720-line stream whose header names no colour matrix is converted as BT.709 (the
  // contract's rule for HD), pixel for pixel as the CLI converts it with in_color_matrix=bt709,
  // and that is not what BT.601 gives on this picture.
  const std::string hd = fpt::temp_dir("hd_untagged") + "/hd.mp4";
  fpt::run("ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=1280x720:rate=25:duration=0.12 -c:v libx264 "
           "-preset ultrafast -pix_fmt yuv420p " + fpt::shell_quote(hd));
  VideoReader r(hd);
  EXPECT_EQ(r.info().video.color_matrix, "unknown");
  EXPECT_EQ(r.info().video.color_matrix_used, "bt709");
  const framepipe::Frame f = r.frame(0);
  auto cli_md5 = [&](const std::string& matrix) {
    return fpt::run("ffmpeg -nostdin -v error -i " + fpt::shell_quote(hd) + " -vf scale=in_color_matrix=" + matrix +
                    ":in_range=tv -frames:v 1 -pix_fmt rgb24 -f md5 -");
  };
  const std::string bt709 = cli_md5("bt709"), bt601 = cli_md5("bt601");
  ASSERT_NE(bt709, bt601) << "the picture must tell the two matrices apart";
  EXPECT_EQ("MD5=" + fpt::md5(f.data(), f.size_bytes()) + "\n", bt709);
}

TEST(PixelFormats, SdStreamUsesBt601AndFullRangeMjpegPc) {
  // vtest.avi is 576 lines (BT.601); make sure the rule is applied per stream height.
  VideoReader sd(fpt::media("real/vtest.avi"), {});
  EXPECT_EQ(sd.info().video.color_matrix_used, "bt601");
  EXPECT_EQ(sd.info().video.color_range_used, "tv");
  VideoReader mj(fpt::media("mjpeg_full.avi"), {});
  EXPECT_EQ(mj.info().video.color_range_used, "pc");
}

TEST(Resize, StretchMatchesFfmpegScaleInOnePass) {
  expect_all_frames(fpt::media("h264_bframes.mp4"), sized(160, 120, ResizeMode::Stretch), "rgb24",
                    "w=160:h=120:flags=bicubic");
  expect_all_frames(fpt::media("hevc_10bit.mkv"), sized(224, 224, ResizeMode::Stretch), "rgb24",
                    "w=224:h=224:flags=bicubic");
}

TEST(Resize, InterpolationIsSelectable) {
  ReaderOptions o = sized(200, 100, ResizeMode::Stretch);
  o.image.interpolation = framepipe::Interpolation::Bilinear;
  expect_all_frames(fpt::media("vp9_odd.webm"), o, "rgb24", "w=200:h=100:flags=bilinear");
  o.image.interpolation = framepipe::Interpolation::Area;
  expect_all_frames(fpt::media("vp9_odd.webm"), o, "rgb24", "w=200:h=100:flags=area");
}

TEST(Resize, ShortSideKeepsAspect) {
  VideoReader r(fpt::media("h264_bframes.mp4"), sized(120, 120, ResizeMode::Short));
  EXPECT_EQ(r.out_width(), 160);
  EXPECT_EQ(r.out_height(), 120);
  expect_all_frames(fpt::media("h264_bframes.mp4"), sized(120, 120, ResizeMode::Short), "rgb24",
                    "w=160:h=120:flags=bicubic");
}

TEST(Resize, CenterCropMatchesFfmpegCropThenScale) {
  // 320x240 -> 224x224: the centre 240x240 square, scaled.
  VideoReader r(fpt::media("h264_bframes.mp4"), sized(224, 224, ResizeMode::Crop));
  EXPECT_EQ(r.geometry().src_rect, (framepipe::Rect{40, 0, 240, 240}));
  expect_all_frames(fpt::media("h264_bframes.mp4"), sized(224, 224, ResizeMode::Crop), "rgb24",
                    "w=224:h=224:flags=bicubic", "crop=240:240:40:0");
}

TEST(Resize, LetterboxPadsAndScalesThePicture) {
  ReaderOptions o = sized(224, 224, ResizeMode::Letterbox);
  o.image.pad_rgb[0] = o.image.pad_rgb[1] = o.image.pad_rgb[2] = 114;
  VideoReader r(fpt::media("h264_bframes.mp4"), o);
  const framepipe::Geometry& g = r.geometry();
  ASSERT_EQ(g.dst_rect, (framepipe::Rect{0, 28, 224, 168}));
  const auto ref = fpt::reference_md5(fpt::media("h264_bframes.mp4"), "rgb24", "w=224:h=168:flags=bicubic");
  for (int64_t i : {0, 13, 99}) {
    const framepipe::Frame f = r.frame(i);
    ASSERT_EQ(f.width, 224);
    ASSERT_EQ(f.height, 224);
    for (int y : {0, 27, 196, 223})
      for (int x : {0, 100, 223})
        for (int c = 0; c < 3; ++c) ASSERT_EQ(f.data()[(y * 224 + x) * 3 + c], 114) << y << "," << x;
    EXPECT_EQ(fpt::md5(f.data() + 28 * 224 * 3, 168 * 224 * 3), ref[static_cast<size_t>(i)]) << "frame " << i;
  }
}

TEST(Geometry, LetterboxMapsPointsBothWays) {
  ImageOptions o;
  o.width = 640;
  o.height = 640;
  o.resize = ResizeMode::Letterbox;
  const auto g = framepipe::make_geometry(1920, 1080, o);
  EXPECT_EQ(g.dst_rect, (framepipe::Rect{0, 140, 640, 360}));
  auto p = g.to_output(960, 540);
  EXPECT_DOUBLE_EQ(p[0], 320);
  EXPECT_DOUBLE_EQ(p[1], 320);
  auto q = g.to_source(0, 140);
  EXPECT_DOUBLE_EQ(q[0], 0);
  EXPECT_DOUBLE_EQ(q[1], 0);
  const std::array<double, 4> box{100, 200, 500, 700};
  const auto back = g.box_to_source(g.box_to_output(box));
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(back[k], box[k], 1e-9);
  // A box reaching into the padding is clamped to the source frame.
  const auto clamped = g.box_to_source({-10, 100, 700, 600});
  EXPECT_DOUBLE_EQ(clamped[0], 0);
  EXPECT_DOUBLE_EQ(clamped[1], 0);
  EXPECT_DOUBLE_EQ(clamped[2], 1920);
  EXPECT_DOUBLE_EQ(clamped[3], 1080);
}

TEST(Geometry, CropAndStretchMaps) {
  ImageOptions o;
  o.width = 224;
  o.height = 224;
  o.resize = ResizeMode::Crop;
  auto g = framepipe::make_geometry(1280, 720, o, 2, 2);
  EXPECT_EQ(g.src_rect, (framepipe::Rect{280, 0, 720, 720}));
  auto p = g.to_output(280, 0);
  EXPECT_DOUBLE_EQ(p[0], 0);
  EXPECT_DOUBLE_EQ(p[1], 0);
  o.resize = ResizeMode::Stretch;
  o.height = 0;  // one side given: aspect kept
  g = framepipe::make_geometry(1280, 720, o);
  EXPECT_EQ(g.out_width, 224);
  EXPECT_EQ(g.out_height, 126);
  EXPECT_TRUE(framepipe::make_geometry(320, 240, ImageOptions{}).is_identity());
}

TEST(Options, BadNamesAreConfigErrors) {
  EXPECT_THROW(framepipe::parse_resize_mode("squash"), framepipe::ConfigError);
  EXPECT_THROW(framepipe::parse_pixel_format("rgba"), framepipe::ConfigError);
  try {
    framepipe::parse_interpolation("cubic");
    FAIL();
  } catch (const framepipe::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("bicubic"), std::string::npos) << "the error lists the choices";
  }
}

}  // namespace

#include "image/pixel_converter.hpp"
#include "media/decoder.hpp"
#include "media/demuxer.hpp"

namespace {

TEST(PixelConverter, RebuildsOnlyWhenItsKeyChanges) {
  const std::string path = fpt::media("h264_bframes.mp4");
  const auto rgb_ref = fpt::reference_md5(path, "rgb24");
  const auto bgr_ref = fpt::reference_md5(path, "bgr24");
  framepipe::Demuxer demux(framepipe::Source(path), framepipe::DemuxerOptions{});
  framepipe::Decoder dec(demux, framepipe::DecoderOptions{});
  auto frame = framepipe::av::make_frame();
  framepipe::PixelConverter conv;
  ImageOptions rgb, bgr;
  bgr.pix = framepipe::PixelFormat::Bgr;
  const framepipe::Geometry g = framepipe::make_geometry(320, 240, rgb);
  std::vector<uint8_t> out(320 * 240 * 3);
  for (size_t i = 0; i < 6; ++i) {
    ASSERT_TRUE(dec.next(frame.get()));
    const bool as_bgr = i >= 3;  // three frames of each: one rebuild per change of key
    conv.convert(frame.get(), g, as_bgr ? bgr : rgb, out.data(), 320 * 3);
    EXPECT_EQ(fpt::md5(out.data(), out.size()), (as_bgr ? bgr_ref : rgb_ref)[i]) << "frame " << i;
  }
  EXPECT_EQ(conv.rebuilds(), 2);
}

}  // namespace

namespace {
// A W x H RGB frame whose pixel (x, y) is (x, y, 7): every value says where it came from.
framepipe::Frame coordinate_frame(int w, int h) {
  framepipe::Frame f;
  f.width = w;
  f.height = h;
  f.channels = 3;
  f.pixels.resize(f.size_bytes());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = f.data() + (static_cast<size_t>(y) * w + x) * 3;
      p[0] = static_cast<uint8_t>(x);
      p[1] = static_cast<uint8_t>(y);
      p[2] = 7;
    }
  return f;
}
}  // namespace

// resize_frame (a live run's model input from a source-size frame) puts each source pixel
// where the geometry says: known answers with nearest-neighbour sampling.
TEST(ResizeFrame, LetterboxPadsAndPlacesThePictureWhereTheGeometrySays) {
  ImageOptions o;
  o.width = o.height = 100;
  o.resize = ResizeMode::Letterbox;
  o.interpolation = framepipe::Interpolation::Nearest;
  o.pad_rgb[0] = 10;
  o.pad_rgb[1] = 20;
  o.pad_rgb[2] = 30;
  const auto src = coordinate_frame(200, 100);
  const auto g = framepipe::make_geometry(200, 100, o);  // scaled by 1/2 into rows 25..74
  ASSERT_EQ(g.dst_rect.y, 25);
  ASSERT_EQ(g.dst_rect.height, 50);
  framepipe::Frame out;
  out.info.index = 41;
  framepipe::Frame in = src;
  in.info.index = 42;
  framepipe::resize_frame(in, g, o, out);
  ASSERT_EQ(out.width, 100);
  ASSERT_EQ(out.height, 100);
  EXPECT_EQ(out.info.index, 42);
  for (int y = 0; y < 100; ++y)
    for (int x = 0; x < 100; ++x) {
      const uint8_t* p = out.data() + (static_cast<size_t>(y) * 100 + x) * 3;
      if (y < 25 || y >= 75) {
        ASSERT_EQ(p[0], 10);
        ASSERT_EQ(p[1], 20);
        ASSERT_EQ(p[2], 30);
      } else {  // output (x, y) shows source (2x, 2(y - 25))
        ASSERT_EQ(p[0], 2 * x) << x << "," << y;
        ASSERT_EQ(p[1], 2 * (y - 25)) << x << "," << y;
        ASSERT_EQ(p[2], 7);
      }
    }
}

TEST(ResizeFrame, CropKeepsTheCentreAndBgrPadsInItsOwnOrder) {
  ImageOptions o;
  o.width = o.height = 50;
  o.resize = ResizeMode::Crop;
  o.interpolation = framepipe::Interpolation::Nearest;
  const auto src = coordinate_frame(100, 50);  // the centre 50 x 50: columns 25..74
  const auto g = framepipe::make_geometry(100, 50, o);
  framepipe::Frame out;
  framepipe::resize_frame(src, g, o, out);
  for (int y = 0; y < 50; ++y)
    for (int x = 0; x < 50; ++x) {
      const uint8_t* p = out.data() + (static_cast<size_t>(y) * 50 + x) * 3;
      ASSERT_EQ(p[0], x + 25);
      ASSERT_EQ(p[1], y);
    }
  o.pix = framepipe::PixelFormat::Bgr;
  o.resize = ResizeMode::Letterbox;
  o.pad_rgb[0] = 200;  // red
  const auto lg = framepipe::make_geometry(100, 50, o);
  framepipe::resize_frame(src, lg, o, out);
  EXPECT_EQ(out.data()[0], 0);  // B, G, R of the pad
  EXPECT_EQ(out.data()[2], 200);
  // a frame that is not the geometry's source is refused, naming both sizes
  try {
    framepipe::resize_frame(coordinate_frame(64, 64), lg, o, out);
    FAIL() << "no error";
  } catch (const framepipe::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("64x64"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("100x50"), std::string::npos);
  }
}
