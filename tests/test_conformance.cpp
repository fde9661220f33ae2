// The conformance matrix, walked whole: for every file of the set (codecs x containers x
// structures), the frame count is ffprobe's, every pts is ffprobe's, and every frame equals
// the ffmpeg CLI's (framemd5, turned upright as the CLI's autorotate does) by each route:
// streamed, by random access in random order with duplicates, in one batch, and by time.
// Prints the table (and writes it to $FRAMEPIPE_MEDIA/conformance.txt); fails on any cell.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "framepipe/reader/video_reader.hpp"
#include "support/media_set.hpp"
#include "support/reference.hpp"

namespace {

using framepipe::Frame;
using framepipe::VideoReader;

struct Row {
  std::string file, codec, structure, index;
  int64_t frames = 0, ffprobe_frames = 0;
  bool count = false, pts = false, streamed = false, random = false, batch = false, by_time = false;
  std::string note;  // the first difference found
};

std::string md5_of(const Frame& f) { return fpt::md5(f.data(), f.size_bytes()); }

// Random access in random order: every frame of a short file, up to 60 of a long one,
// shuffled, with repeats.
std::vector<int64_t> random_order(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int64_t> v;
  if (n <= 120) {
    for (int64_t i = 0; i < n; ++i) v.push_back(i);
  } else {
    for (int k = 0; k < 60; ++k) v.push_back(std::uniform_int_distribution<int64_t>(0, n - 1)(rng));
  }
  for (int k = 0; k < 8 && n > 0; ++k) v.push_back(std::uniform_int_distribution<int64_t>(0, n - 1)(rng));
  std::shuffle(v.begin(), v.end(), rng);
  return v;
}

Row check(const fpt::MediaCase& c) {
  Row row;
  row.file = c.file;
  row.structure = c.structure;
  const std::string path = fpt::media(c.file);
  const fpt::Probe& probe = fpt::ffprobe(path);
  const auto ref = fpt::reference_md5(path);
  row.ffprobe_frames = static_cast<int64_t>(probe.frames.size());
  auto fail = [&](const std::string& what) {
    if (row.note.empty()) row.note = what;
  };
  try {
    VideoReader reader(path);
    row.codec = reader.info().video.codec;
    row.index = reader.info().video.index_method;
    const int64_t n = reader.size();
    row.frames = n;
    row.count = n == row.ffprobe_frames && static_cast<size_t>(n) == ref.size();
    if (!row.count) fail("count " + std::to_string(n) + " vs ffprobe " + std::to_string(row.ffprobe_frames));
    const framepipe::FrameIndex& idx = reader.index();
    row.pts = row.count;
    for (int64_t i = 0; row.pts && i < n; ++i)
      if (idx[i].pts != probe.frames[static_cast<size_t>(i)].pts) {
        row.pts = false;
        fail("pts of frame " + std::to_string(i));
      }
    if (!row.count) return row;

    Frame f;
    int64_t k = 0;
    row.streamed = true;
    while (reader.next(f)) {
      if (k >= n || f.info.index != k || md5_of(f) != ref[static_cast<size_t>(k)]) {
        row.streamed = false;
        fail("streamed frame " + std::to_string(k));
        break;
      }
      ++k;
    }
    if (row.streamed && k != n) {
      row.streamed = false;
      fail("stream ended at " + std::to_string(k));
    }

    const std::vector<int64_t> order = random_order(n, 7);
    VideoReader random(path);
    row.random = true;
    for (int64_t i : order) {
      random.frame(i, f);
      if (f.info.index != i || md5_of(f) != ref[static_cast<size_t>(i)]) {
        row.random = false;
        fail("random access to frame " + std::to_string(i));
        break;
      }
    }

    const std::vector<int64_t> wanted(order.begin(), order.begin() + std::min<ptrdiff_t>(24, static_cast<ptrdiff_t>(order.size())));
    VideoReader batch(path);
    const framepipe::Batch b = batch.frames(wanted);
    row.batch = b.size() == wanted.size();
    for (size_t s = 0; row.batch && s < wanted.size(); ++s)
      if (b.info[s].index != wanted[s] || fpt::md5(b.frame_data(s), b.frame_bytes()) != ref[static_cast<size_t>(wanted[s])]) {
        row.batch = false;
        fail("batch slot " + std::to_string(s) + " (frame " + std::to_string(wanted[s]) + ")");
      }

    // By time: the frame ffprobe's timestamps put on screen at t (largest pts_time <= t,
    // the later of equals), a little after each sampled frame's own time.
    VideoReader timed(path);
    row.by_time = true;
    for (size_t s = 0; s < wanted.size() && row.by_time; ++s) {
      const int64_t i = wanted[s];
      const double t = probe.seconds(probe.frames[static_cast<size_t>(i)].pts) + 1e-4;
      int64_t expect = -1;
      for (size_t j = 0; j < probe.frames.size(); ++j) {
        const double tj = probe.seconds(probe.frames[j].pts);
        if (tj <= t && (expect < 0 || tj >= probe.seconds(probe.frames[static_cast<size_t>(expect)].pts)))
          expect = static_cast<int64_t>(j);
      }
      if (t > idx.end_seconds()) continue;  // the last frame's time past the end: out of range
      const Frame g = timed.frame_at(t);
      if (g.info.index != expect || md5_of(g) != ref[static_cast<size_t>(expect)]) {
        row.by_time = false;
        fail("frame at t=" + std::to_string(t));
      }
    }
  } catch (const std::exception& e) {
    fail(std::string("error: ") + e.what());
  }
  return row;
}

const char* mark(bool ok) { return ok ? "yes" : "NO"; }

TEST(Conformance, EveryFileByEveryRouteEqualsTheFfmpegCli) {
  std::vector<Row> rows;
  for (const fpt::MediaCase& c : fpt::conformance_set()) rows.push_back(check(c));
  std::ostringstream table;
  char line[512];
  std::snprintf(line, sizeof line, "%-24s %-10s %-7s %6s %6s %5s %3s %6s %6s %5s %4s  %s\n", "file", "codec", "index",
                "frames", "probe", "count", "pts", "stream", "random", "batch", "time", "structure");
  table << line;
  for (const Row& r : rows) {
    std::snprintf(line, sizeof line, "%-24s %-10s %-7s %6lld %6lld %5s %3s %6s %6s %5s %4s  %s%s%s\n", r.file.c_str(),
                  r.codec.c_str(), r.index.c_str(), static_cast<long long>(r.frames),
                  static_cast<long long>(r.ffprobe_frames), mark(r.count), mark(r.pts), mark(r.streamed),
                  mark(r.random), mark(r.batch), mark(r.by_time), r.structure.c_str(), r.note.empty() ? "" : " -- ",
                  r.note.c_str());
    table << line;
  }
  std::printf("%s", table.str().c_str());
  std::ofstream(fpt::media_dir() + "/conformance.txt") << table.str();
  for (const Row& r : rows)
    EXPECT_TRUE(r.count && r.pts && r.streamed && r.random && r.batch && r.by_time) << r.file << ": " << r.note;
}

}  // namespace
