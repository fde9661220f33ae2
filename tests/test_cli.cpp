// The framepipe command line: probe, index, frames; exit codes a scheduler can act on.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <algorithm>

#include "framepipe/sinks/frame_writer.hpp"
#include "support/loopback.hpp"
#include "support/reference.hpp"

namespace {

namespace fs = std::filesystem;
using fpt::shell_quote;

std::string framepipe_cmd(const std::string& args, int* rc) {
  return fpt::run(shell_quote(fpt::cli()) + " " + args + " 2>/dev/null", rc);
}

// The payload of a .npy file written by framepipe (format 1.0, uint8) and its shape text.
std::vector<uint8_t> npy_payload(const std::string& path, std::string* header) {
  std::ifstream is(path, std::ios::binary);
  std::vector<uint8_t> all((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
  EXPECT_GE(all.size(), 10u);
  EXPECT_EQ(std::string(all.begin() + 1, all.begin() + 6), "NUMPY");
  const size_t hlen = all[8] | (all[9] << 8);
  if (header) *header = std::string(all.begin() + 10, all.begin() + 10 + static_cast<ptrdiff_t>(hlen));
  return std::vector<uint8_t>(all.begin() + 10 + static_cast<ptrdiff_t>(hlen), all.end());
}

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream is(path);
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(is, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(CliProbe, JsonNamesTheContractFields) {
  int rc = -1;
  const std::string path = fpt::media("h264_audio.mp4");
  const auto j = nlohmann::json::parse(framepipe_cmd("probe --json " + shell_quote(path), &rc));
  ASSERT_EQ(rc, 0);
  for (const char* k : {"frames", "frames_header", "width", "height", "fps", "duration", "codec", "pix_fmt",
                        "color_matrix", "color_range", "rotation", "audio"})
    EXPECT_TRUE(j.contains(k)) << k;
  const fpt::Probe& p = fpt::ffprobe(path);
  EXPECT_EQ(j["frames"].get<int64_t>(), static_cast<int64_t>(p.frames.size()));
  EXPECT_EQ(j["width"].get<int>(), p.width);
  EXPECT_EQ(j["height"].get<int>(), p.height);
  EXPECT_EQ(j["codec"], "h264");
  EXPECT_EQ(j["pix_fmt"], p.pix_fmt);
  EXPECT_NEAR(j["fps"].get<double>(), 25.0, 1e-9);
  ASSERT_EQ(j["audio"].size(), 1u);
  EXPECT_EQ(j["audio"][0]["codec"], "aac");

  const auto r = nlohmann::json::parse(framepipe_cmd("probe --json " + shell_quote(fpt::media("h264_rotated.mov")), &rc));
  EXPECT_EQ(r["rotation"].get<int>(), fpt::ffprobe(fpt::media("h264_rotated.mov")).rotation);
  EXPECT_NE(r["rotation"].get<int>(), 0);

  const auto t = nlohmann::json::parse(framepipe_cmd("probe --json " + shell_quote(fpt::media("real/tree.avi")), &rc));
  EXPECT_EQ(t["frames"].get<int>(), 68);
  EXPECT_EQ(t["frames_header"].get<int>(), 444);
}

TEST(CliFrames, NpyFilesAreExactAndListed) {
  const std::string path = fpt::media("h264_opengop.mkv");
  const std::string out = fpt::temp_dir("cli_npy");
  int rc = -1;
  framepipe_cmd("frames " + shell_quote(path) + " --indices 10,0,-1 --format npy --out " + shell_quote(out), &rc);
  ASSERT_EQ(rc, 0);
  const auto ref = fpt::reference_md5(path);
  const fpt::Probe& p = fpt::ffprobe(path);
  for (int64_t i : {0, 10, 99}) {
    char name[32];
    std::snprintf(name, sizeof name, "/frame_%06lld.npy", static_cast<long long>(i));
    std::string header;
    const auto px = npy_payload(out + name, &header);
    EXPECT_NE(header.find("'shape': (240, 320, 3)"), std::string::npos) << header;
    EXPECT_EQ(fpt::md5(px.data(), px.size()), ref[static_cast<size_t>(i)]) << name;
  }
  const auto lines = read_jsonl(out + "/frames.jsonl");
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& l : lines) {
    const auto i = l["frame"].get<size_t>();
    EXPECT_EQ(l["pts"].get<int64_t>(), p.frames[i].pts);
    EXPECT_DOUBLE_EQ(l["t"].get<double>(), p.seconds(p.frames[i].pts));
  }
}

TEST(CliFrames, PngHoldsRgbInTheRightOrder) {
  const std::string path = fpt::media("hevc.mp4");
  const std::string out = fpt::temp_dir("cli_png");
  int rc = -1;
  framepipe_cmd("frames " + shell_quote(path) + " --indices 5 --format png --out " + shell_quote(out), &rc);
  ASSERT_EQ(rc, 0);
  cv::Mat bgr = cv::imread(out + "/frame_000005.png", cv::IMREAD_COLOR);
  ASSERT_FALSE(bgr.empty());
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  EXPECT_EQ(fpt::md5(rgb.data, rgb.total() * 3), fpt::reference_md5(path)[5]);
}

// `frames` writes each frame as the worker pool finishes it; frames.jsonl still lists them in
// frame order, and a line held for its turn is not lost when the run stops early.
TEST(CliFrames, FramesJsonlFollowsFrameOrderWhateverOrderFramesCome) {
  const std::string out = fpt::temp_dir("writer_order");
  const uint8_t px[3 * 2 * 2] = {};
  auto at = [](int64_t i) { return framepipe::FrameInfo{i, 10 * i, 0.5 * static_cast<double>(i), false}; };
  {
    framepipe::FrameWriter w(out, framepipe::ImageFileFormat::Npy, framepipe::PixelFormat::Rgb);
    w.expect({2, 5, 9, 12});
    for (int64_t i : {9, 5, 2, 12}) w.write(at(i), px, 2, 2, 3);
    EXPECT_EQ(w.written(), 4);
  }
  std::vector<int64_t> listed;
  for (const auto& l : read_jsonl(out + "/frames.jsonl")) listed.push_back(l["frame"].get<int64_t>());
  EXPECT_EQ(listed, (std::vector<int64_t>{2, 5, 9, 12}));
  EXPECT_EQ(read_jsonl(out + "/frames.jsonl")[1]["pts"], 50);
  const std::string cut = fpt::temp_dir("writer_order_cut");
  {
    framepipe::FrameWriter w(cut, framepipe::ImageFileFormat::Npy, framepipe::PixelFormat::Rgb);
    w.expect({1, 3, 4});
    w.write(at(4), px, 2, 2, 3);  // 1 and 3 never come (the run stopped): 4's line is kept
    w.write(at(3), px, 2, 2, 3);
  }
  listed.clear();
  for (const auto& l : read_jsonl(cut + "/frames.jsonl")) listed.push_back(l["frame"].get<int64_t>());
  EXPECT_EQ(listed, (std::vector<int64_t>{3, 4}));
  EXPECT_TRUE(fs::exists(cut + "/frame_000004.npy") && fs::exists(cut + "/frame_000003.npy"));
}

TEST(CliFrames, TimesEveryAndFpsPickTheRightFrames) {
  const std::string path = fpt::media("vfr.mkv");
  const fpt::Probe& p = fpt::ffprobe(path);
  auto on_screen = [&](double t) {  // from ffprobe's timestamps alone
    int64_t best = -1;
    for (size_t i = 0; i < p.frames.size(); ++i)
      if (p.seconds(p.frames[i].pts) <= t) best = static_cast<int64_t>(i);
    return best;
  };
  auto listed = [](const std::string& dir) {
    std::vector<int64_t> v;
    for (const auto& l : read_jsonl(dir + "/frames.jsonl")) v.push_back(l["frame"].get<int64_t>());
    return v;
  };
  int rc = -1;
  std::string out = fpt::temp_dir("cli_times");
  framepipe_cmd("frames " + shell_quote(path) + " --times 1.0,2.5,0.85 --format npy --out " + shell_quote(out), &rc);
  ASSERT_EQ(rc, 0);
  // 0.85 s and 1.0 s fall in the file's 0.8-1.2 s hole: both are frame 16, written once.
  std::vector<int64_t> want = {on_screen(0.85), on_screen(1.0), on_screen(2.5)};
  want.erase(std::unique(want.begin(), want.end()), want.end());
  ASSERT_EQ(want.size(), 2u);
  EXPECT_EQ(listed(out), want);

  out = fpt::temp_dir("cli_every");
  framepipe_cmd("frames " + shell_quote(path) + " --every 30 --format npy --out " + shell_quote(out), &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(listed(out), (std::vector<int64_t>{0, 30, 60}));

  out = fpt::temp_dir("cli_fps");
  framepipe_cmd("frames " + shell_quote(path) + " --fps 2 --format npy --out " + shell_quote(out), &rc);
  ASSERT_EQ(rc, 0);
  want.clear();
  const double t0 = p.seconds(p.frames.front().pts);
  for (int k = 0; t0 + k / 2.0 < 4.0; ++k) {
    const int64_t i = on_screen(t0 + k / 2.0);
    if (want.empty() || want.back() != i) want.push_back(i);
  }
  EXPECT_EQ(listed(out), want);
}

TEST(CliFrames, GrayNpyAndResize) {
  const std::string path = fpt::media("h264_bframes.mp4");
  const std::string out = fpt::temp_dir("cli_gray");
  int rc = -1;
  framepipe_cmd("frames " + shell_quote(path) + " --indices 3 --pix gray --size 160x120 --format npy --out " +
                    shell_quote(out),
                &rc);
  ASSERT_EQ(rc, 0);
  std::string header;
  const auto px = npy_payload(out + "/frame_000003.npy", &header);
  EXPECT_NE(header.find("'shape': (120, 160, 1)"), std::string::npos) << header;
  EXPECT_EQ(fpt::md5(px.data(), px.size()), fpt::reference_md5(path, "gray", "w=160:h=120:flags=bicubic")[3]);
}

TEST(CliIndex, WritesASidecarThatLaterOpensUse) {
  const std::string dir = fpt::temp_dir("cli_index");
  const std::string video = dir + "/v.ts";
  fs::copy_file(fpt::media("h264.ts"), video);
  int rc = -1;
  const std::string said = framepipe_cmd("index " + shell_quote(video), &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_NE(said.find("100 frames"), std::string::npos) << said;
  EXPECT_TRUE(fs::exists(video + ".fpidx"));
  const auto j = nlohmann::json::parse(framepipe_cmd("probe --json " + shell_quote(video), &rc));
  EXPECT_EQ(j["frames"].get<int>(), 100);
}

TEST(CliExitCodes, SayWhatKindOfFailure) {
  int rc = -1;
  framepipe_cmd("probe " + shell_quote(fpt::media("missing.mp4")), &rc);
  EXPECT_EQ(rc, 3) << "input unusable";
  framepipe_cmd("frames " + shell_quote(fpt::media("text.mp4")) + " --all --format null", &rc);
  EXPECT_EQ(rc, 3);
  framepipe_cmd("frames " + shell_quote(fpt::media("audio_only.m4a")) + " --all --format null", &rc);
  EXPECT_EQ(rc, 3);
  framepipe_cmd("frames " + shell_quote(fpt::media("hevc.mp4")) + " --indices 1000 --format null", &rc);
  EXPECT_EQ(rc, 2) << "out of range is bad usage";
  framepipe_cmd("frames " + shell_quote(fpt::media("hevc.mp4")) + " --format null", &rc);
  EXPECT_EQ(rc, 2) << "no frames chosen";
  framepipe_cmd("frames " + shell_quote(fpt::media("hevc.mp4")) + " --all --bogus", &rc);
  EXPECT_EQ(rc, 2);
  framepipe_cmd("frames " + shell_quote(fpt::media("hevc.mp4")) + " --all --every 3 --format null", &rc);
  EXPECT_EQ(rc, 2) << "two selections";
  framepipe_cmd("frames " + shell_quote(fpt::media("hevc.mp4")) + " --all --format null", &rc);
  EXPECT_EQ(rc, 0);
  fpt::LoopbackPort closed(false);
  framepipe_cmd("probe " + closed.url("/live.ts"), &rc);
  EXPECT_EQ(rc, 4) << "a stream that cannot be reached now is transient: retry";
  const std::string err =
      fpt::run(shell_quote(fpt::cli()) + " probe " + shell_quote(fpt::media("text.mp4")) + " 2>&1 >/dev/null", &rc);
  EXPECT_NE(err.find("text.mp4"), std::string::npos) << err;
  EXPECT_NE(err.find("Invalid data"), std::string::npos) << err;
}

TEST(CliHelp, EveryCommandExplainsItself) {
  for (const char* c : {"probe", "index", "frames"}) {
    int rc = -1;
    const std::string out = fpt::run(shell_quote(fpt::cli()) + " " + c + " --help", &rc);
    EXPECT_EQ(rc, 0) << c;
    EXPECT_NE(out.find("Usage"), std::string::npos) << c;
  }
}

}  // namespace
