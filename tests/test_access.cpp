// Exactness by every access pattern, and from every thread (issue 34).
//
// The property test: for every file of the media set, many seeded requests -- random batches
// of 1-16 indices with duplicates, batches around keyframes (k-2..k+2 of several groups),
// keyframes alone, sample specs, clips, frames by time -- on readers with and without frame
// threads and worker pools. Every frame must equal the ffmpeg CLI's (-threads 1, the colour
// contract's matrix), and a file that is not damaged must answer no request with an error.
// A failure prints the seed and the request that reproduces it.
//
//   FRAMEPIPE_ACCESS_REQUESTS  requests per file (make test: 12; make test-access: 300)
//   FRAMEPIPE_ACCESS_SEED      first seed (default 1)
//
// The thread test: many threads on one shared reader and on readers of their own, calling
// every method at once; each frame checked against the CLI's.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "framepipe/reader/video_reader.hpp"
#include "framepipe/sample/sampling.hpp"
#include "support/media_set.hpp"
#include "support/reference.hpp"

namespace {

using framepipe::Batch;
using framepipe::FrameIndex;
using framepipe::ReaderOptions;
using framepipe::VideoReader;

int64_t env_int(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoll(v) : fallback;
}

// Files whose data is damaged or cut: a request may fail there with a typed error (a frame
// the stream does not hold). Everywhere else any error fails the test.
bool damaged(const std::string& file) {
  static const std::set<std::string> files = {"h264_damaged.mp4", "real/Megamind_bugy.avi", "truncated.mp4",
                                              "truncated.ts", "truncated.mkv"};
  return files.count(file) > 0;
}

std::string list(const std::vector<int64_t>& v) {
  std::ostringstream os;
  os << "[";
  for (size_t k = 0; k < v.size(); ++k) os << (k ? "," : "") << v[k];
  os << "]";
  return os.str();
}

struct Request {
  std::string kind;
  std::vector<int64_t> indices;
  std::vector<double> times;  // kind "times": frames by time
  int threads = 0, workers = 0;
  std::string describe() const {
    std::ostringstream os;
    os << kind << " threads=" << threads << " workers=" << workers << " ";
    if (!times.empty()) {
      os << "times=[";
      for (size_t k = 0; k < times.size(); ++k) os << (k ? "," : "") << times[k];
      os << "]";
    } else {
      os << "indices=" << list(indices);
    }
    return os.str();
  }
};

// Request `seed` over a file of `index`: what it asks, and on which reader.
Request make_request(uint64_t seed, const FrameIndex& index) {
  std::mt19937_64 rng(seed);
  const int64_t n = index.size();
  std::vector<int64_t> keys;
  for (int64_t i = 0; i < n; ++i)
    if (index[i].keyframe) keys.push_back(i);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  Request r;
  r.threads = std::array<int, 3>{0, 1, 2}[static_cast<size_t>(pick(0, 2))];
  r.workers = std::array<int, 3>{0, 1, 3}[static_cast<size_t>(pick(0, 2))];
  switch (pick(0, 6)) {
    case 0:
    case 1: {  // random, duplicates allowed
      r.kind = "random";
      for (int64_t k = pick(1, 16); k > 0; --k) r.indices.push_back(pick(0, n - 1));
      break;
    }
    case 2: {  // around keyframes: k-2..k+2 of up to three groups, shuffled
      r.kind = "around-keys";
      for (int64_t g = pick(1, 3); g > 0; --g) {
        const int64_t k = keys[static_cast<size_t>(pick(0, static_cast<int64_t>(keys.size()) - 1))];
        for (int64_t d = -2; d <= 2; ++d) r.indices.push_back(std::clamp<int64_t>(k + d, 0, n - 1));
      }
      std::shuffle(r.indices.begin(), r.indices.end(), rng);
      break;
    }
    case 3: {  // keyframes: all of them, or a subset in any order
      r.kind = "keyframes";
      r.indices = keys;
      if (pick(0, 1)) {
        std::shuffle(r.indices.begin(), r.indices.end(), rng);
        r.indices.resize(static_cast<size_t>(pick(1, static_cast<int64_t>(keys.size()))));
      }
      break;
    }
    case 4: {  // a sample spec, planned from the index as the CLI plans it
      static const char* specs[] = {"every:7", "every:30", "fps:1", "fps:3", "keyframes", "clips:4:3:3:uniform",
                                    "clips:8:1:2:random:seed=5", "clips:3:2:4:sliding:5"};
      const std::string spec = specs[pick(0, 7)];
      r.kind = "sample " + spec;
      r.indices = framepipe::plan_sample(framepipe::SampleSpec::parse(spec), index).frames;
      break;
    }
    case 5: {  // frames by time
      r.kind = "times";
      const double first = index.first_seconds(), end = index.end_seconds();
      for (int64_t k = pick(1, 8); k > 0; --k)
        r.times.push_back(first + (end - first) * std::uniform_real_distribution<double>(0, 0.999)(rng));
      break;
    }
    default: {  // a dense stretch across a group boundary
      r.kind = "range";
      const int64_t start = pick(0, n - 1);
      for (int64_t i = start; i < std::min(n, start + pick(2, 20)); ++i) r.indices.push_back(i);
      break;
    }
  }
  return r;
}

class AccessProperty : public ::testing::TestWithParam<fpt::MediaCase> {};

TEST_P(AccessProperty, EveryRequestGivesTheCliFramesAndCleanFilesNoError) {
  const std::string file = GetParam().file;
  const std::string path = fpt::media(file);
  const std::vector<std::string> ref = fpt::reference_md5(path);
  auto index = std::make_shared<const FrameIndex>(VideoReader(path).index());
  // Only a cut file says it is cut (truncated.ts: it ends inside a transport packet).
  const bool cut = file.rfind("truncated.", 0) == 0;
  if (!cut) {
    EXPECT_EQ(index->truncated(), "") << file << " is not truncated";
  }
  if (cut) {
    EXPECT_NE(index->truncated(), "") << file << " is truncated";
  }
  if (index->size() != static_cast<int64_t>(ref.size()))
    GTEST_SKIP() << file << ": the CLI decodes " << ref.size() << " frames, the index counts " << index->size()
                 << " (the conformance tests judge that)";
  const int64_t requests = env_int("FRAMEPIPE_ACCESS_REQUESTS", 12);
  const auto first_seed = static_cast<uint64_t>(env_int("FRAMEPIPE_ACCESS_SEED", 1));
  int64_t frames = 0, wrong = 0, errors = 0;
  for (int64_t q = 0; q < requests; ++q) {
    const uint64_t seed = first_seed + static_cast<uint64_t>(q) * 1000003 + std::hash<std::string>{}(file) % 1000;
    const Request req = make_request(seed, *index);
    ReaderOptions o;
    o.threads = req.threads;
    o.workers = req.workers;
    o.known_index = index;
    try {
      VideoReader reader(path, o);
      Batch b = req.times.empty() ? reader.frames(req.indices) : reader.frames_at(req.times);
      for (size_t k = 0; k < b.size(); ++k) {
        const int64_t i = b.info[k].index;
        ++frames;
        if (!req.times.empty() && i != reader.index_at(req.times[k])) {
          ++wrong;
          ADD_FAILURE() << file << " seed " << seed << " (" << req.describe() << "): slot " << k << " is frame " << i;
        } else if (fpt::md5(b.frame_data(k), b.frame_bytes()) != ref[static_cast<size_t>(i)]) {
          ++wrong;
          ADD_FAILURE() << file << " seed " << seed << " (" << req.describe() << "): frame " << i
                        << " differs from the ffmpeg CLI's";
        }
      }
    } catch (const framepipe::Error& e) {
      ++errors;
      if (!damaged(file))
        ADD_FAILURE() << file << " seed " << seed << " (" << req.describe() << "): an error on a clean file: "
                      << e.what();
    }
  }
  std::cout << "[ access ] " << file << ": " << requests << " requests, " << frames << " frames compared, " << wrong
            << " wrong, " << errors << " errors" << (damaged(file) ? " (damaged file)" : "") << "\n";
}

INSTANTIATE_TEST_SUITE_P(Media, AccessProperty, ::testing::ValuesIn(fpt::conformance_set()),
                         [](const auto& p) {
                           std::string n = p.param.file;
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

// Many threads on one reader, and each also on one of its own: every public method at once
// (frames, frame, frame_at, streaming, for_each, size, stats, damage_reports, index, info),
// every frame checked against the CLI's. It crashed in stats() while another thread's
// streaming replaced the decoder.
TEST(AccessThreads, ManyThreadsOnOneReaderAndOnTheirOwnGetTheCliFrames) {
  const std::string path = fpt::media("h264_opengop_long.mkv");
  const std::vector<std::string> ref = fpt::reference_md5(path);
  VideoReader shared(path);
  const auto n = static_cast<int64_t>(ref.size());
  ASSERT_EQ(shared.size(), n);
  std::atomic<int64_t> checked{0};
  std::atomic<int> failures{0};
  auto check = [&](const uint8_t* px, size_t bytes, int64_t i, const char* how) {
    checked.fetch_add(1);
    if (i < 0 || i >= n || fpt::md5(px, bytes) != ref[static_cast<size_t>(i)]) {
      failures.fetch_add(1);
      std::cerr << how << ": frame " << i << " differs from the CLI's\n";
    }
  };
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(env_int("FRAMEPIPE_THREADS_SECONDS", 6));
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<uint64_t>(t) + 77);
      auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
      std::unique_ptr<VideoReader> own;
      if (t % 3 == 0) own = std::make_unique<VideoReader>(path);
      try {
        while (std::chrono::steady_clock::now() < until) {
          VideoReader& r = own && pick(0, 1) ? *own : shared;
          switch (pick(0, 7)) {
            case 0: {
              std::vector<int64_t> idx;
              for (int64_t k = pick(1, 8); k > 0; --k) idx.push_back(pick(0, n - 1));
              Batch b = r.frames(idx);
              for (size_t k = 0; k < b.size(); ++k) check(b.frame_data(k), b.frame_bytes(), idx[k], "frames");
              break;
            }
            case 1: {
              const int64_t i = pick(0, n - 1);
              framepipe::Frame f = r.frame(i);
              check(f.data(), f.size_bytes(), i, "frame");
              break;
            }
            case 2: {
              framepipe::Frame f = r.frame_at(r.index().time_of(pick(0, n - 1)));
              check(f.data(), f.size_bytes(), f.info.index, "frame_at");
              break;
            }
            case 3: {  // streaming a few frames: the read-ahead thread runs meanwhile
              r.seek(pick(0, n - 1));
              framepipe::Frame f;
              for (int k = 0; k < 5 && r.next(f); ++k) check(f.data(), f.size_bytes(), f.info.index, "next");
              break;
            }
            case 4: {
              std::vector<int64_t> idx{pick(0, n - 1), pick(0, n - 1), pick(0, n - 1)};
              r.for_each(idx, [&](const framepipe::Frame& f) {
                check(f.data(), f.size_bytes(), f.info.index, "for_each");
              });
              break;
            }
            default: {  // the getters, while others decode and read ahead
              if (r.size() != n) failures.fetch_add(1);
              (void)r.stats();
              if (r.damage_reports() != 0) failures.fetch_add(1);  // a clean file, by every route
              (void)r.info().video.width;
              (void)r.out_width();
              break;
            }
          }
        }
      } catch (const std::exception& e) {
        failures.fetch_add(1);
        std::cerr << "thread " << t << ": " << e.what() << "\n";
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(checked.load(), 100);
  std::cout << "[ threads ] 12 threads: " << checked.load() << " frames checked against the CLI\n";
}

}  // namespace
