// Random access against streaming, the differential oracle: frame i by index, by time, in a
// batch or through a sampling spec must be the very frame i that streaming from the start
// returns, on whatever bytes the fuzzer makes. Input: one byte N, N control bytes (indices,
// times, the spec, the worker count), then the video.
#include <atomic>
#include <cmath>
#include <cstdio>
#include <set>

#include "framepipe/reader/video_reader.hpp"
#include "framepipe/sample/sampling.hpp"
#include "fuzz_common.hpp"

using namespace framepipe;

namespace {

constexpr int64_t kMaxFrames = 240;  // streamed and compared per input

struct Counts {
  std::atomic<int64_t> inputs{0}, opened{0}, indices{0}, differ{0};
  // At exit, on stderr and, for libFuzzer's fork mode (whose jobs' output is not kept), as a
  // line appended to $FRAMEPIPE_FUZZ_COUNTS, which scripts/fuzz.sh sums.
  ~Counts() {
    char line[160];
    std::snprintf(line, sizeof line, "fuzz_access: %lld inputs, %lld opened, %lld indices checked, %lld differ from streaming\n",
                  static_cast<long long>(inputs), static_cast<long long>(opened), static_cast<long long>(indices),
                  static_cast<long long>(differ));
    std::fputs(line, stderr);
    if (const char* path = std::getenv("FRAMEPIPE_FUZZ_COUNTS"))
      if (FILE* f = std::fopen(path, "a")) {
        std::fputs(line, f);
        std::fclose(f);
      }
  }
} counts;

uint64_t hash_of(const uint8_t* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

struct Streamed {
  std::vector<uint64_t> hash;
  std::vector<int64_t> pts;
};

void check(const Streamed& s, int64_t i, const uint8_t* pixels, size_t bytes, const FrameInfo& info, const char* how) {
  ++counts.indices;
  if (i < 0 || i >= static_cast<int64_t>(s.hash.size())) return;
  if (info.index != i || info.pts != s.pts[static_cast<size_t>(i)] ||
      hash_of(pixels, bytes) != s.hash[static_cast<size_t>(i)]) {
    ++counts.differ;
    fuzz::fail("fuzz_access", std::string(how) + ": frame " + std::to_string(i) + " differs from streaming (got index " +
                                  std::to_string(info.index) + ", pts " + std::to_string(info.pts) + ")");
  }
}

void check_batch(const Streamed& s, const std::vector<int64_t>& want, const Batch& b, const char* how) {
  if (b.size() != want.size()) fuzz::fail("fuzz_access", std::string(how) + ": batch size differs from the request");
  for (size_t k = 0; k < b.size(); ++k) check(s, want[k], b.frame_data(k), b.frame_bytes(), b.info[k], how);
}

std::string spec_from(fuzz::Input& in, int64_t n) {
  const uint32_t a = 1 + in.byte() % 16, b = 1 + in.byte() % 8;
  switch (in.byte() % 6) {
    case 0: return "every:" + std::to_string(a);
    case 1: return "keyframes";
    case 2: return "fps:" + std::to_string(a) + "." + std::to_string(b);
    case 3: return "clips:" + std::to_string(b) + ":" + std::to_string(1 + a % 3) + ":" + std::to_string(1 + b % 4);
    case 4: return "clips:" + std::to_string(b) + ":1:" + std::to_string(1 + a % 4) + ":random:seed=" + std::to_string(a);
    default: return "indices:" + std::to_string(-1 - static_cast<int64_t>(a) % std::max<int64_t>(n, 1)) + ",0," + std::to_string(a);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ++counts.inputs;
  fuzz::Input in(data, size);
  const size_t ctrl_size = in.byte() % 64;
  std::vector<uint8_t> ctrl_bytes;
  for (size_t k = 0; k < ctrl_size; ++k) ctrl_bytes.push_back(in.byte());
  const Source src = Source::from_bytes(in.rest(), "fuzz.bin");
  fuzz::Input ctrl(ctrl_bytes.data(), ctrl_bytes.size());

  ReaderOptions o;
  o.threads = 1;  // damage concealed the same way by every decoder
  o.workers = 1 + ctrl.byte() % 3;
  std::optional<VideoReader> reader;
  if (!fuzz::run_typed("fuzz_access", [&] { reader.emplace(src, o); })) return 0;
  ++counts.opened;
  const int64_t n = std::min(reader->size(), kMaxFrames);
  Streamed s;
  bool streamed = fuzz::run_typed("fuzz_access", [&] {
    Frame f;
    reader->seek(0);
    while (static_cast<int64_t>(s.hash.size()) < n && reader->next(f)) {
      if (f.info.index != static_cast<int64_t>(s.hash.size()))
        fuzz::fail("fuzz_access", "streaming returned frame " + std::to_string(f.info.index) + " in place " +
                                      std::to_string(s.hash.size()));
      s.hash.push_back(hash_of(f.data(), f.size_bytes()));
      s.pts.push_back(f.info.pts);
    }
  });
  if (!streamed || s.hash.empty()) return 0;
  if (static_cast<int64_t>(s.hash.size()) < n)
    fuzz::fail("fuzz_access", "the index counts " + std::to_string(reader->size()) + " frames, streaming gave " +
                                  std::to_string(s.hash.size()));
  const int64_t m = static_cast<int64_t>(s.hash.size());

  // A batch in the order asked, duplicates allowed.
  std::vector<int64_t> want;
  for (int k = 0, count = 1 + ctrl.byte() % 12; k < count; ++k) want.push_back(((ctrl.byte() << 8) | ctrl.byte()) % m);
  fuzz::run_typed("fuzz_access", [&] { check_batch(s, want, reader->frames(want), "frames()"); });
  // Single frames, on a fresh reader so nothing is cached from streaming.
  fuzz::run_typed("fuzz_access", [&] {
    VideoReader fresh(src, o);
    for (int k = 0, count = 1 + ctrl.byte() % 4; k < count; ++k) {
      const int64_t i = ((ctrl.byte() << 8) | ctrl.byte()) % m;
      const Frame f = fresh.frame(i);
      check(s, i, f.data(), f.size_bytes(), f.info, "frame()");
    }
  });
  // By time: a frame's own time plus part of its duration is still that frame.
  fuzz::run_typed("fuzz_access", [&] {
    const FrameIndex& idx = reader->index();
    for (int k = 0, count = ctrl.byte() % 4; k < count; ++k) {
      const int64_t i = ctrl.byte() % m;
      const double t = idx.time_of(i);
      const int64_t at = idx.frame_at(t);
      const Frame f = reader->frame_at(t);
      check(s, at, f.data(), f.size_bytes(), f.info, "frame_at()");
    }
  });
  // A sampling spec planned over the index.
  fuzz::run_typed("fuzz_access", [&] {
    const SamplePlan plan = plan_sample(SampleSpec::parse(spec_from(ctrl, m)), reader->index());
    std::vector<int64_t> in_range;
    for (int64_t i : plan.frames)
      if (i < m) in_range.push_back(i);
    if (in_range.size() > 64) in_range.resize(64);
    if (!in_range.empty()) check_batch(s, in_range, reader->frames(in_range), "plan_sample()");
    // The same frames as they come (the pool's workers hand them on), each once.
    std::set<int64_t> seen;
    reader->for_each(in_range, [&](const Frame& f) {
      if (!seen.insert(f.info.index).second) fuzz::fail("fuzz_access", "for_each(): a frame handed on twice");
      check(s, f.info.index, f.data(), f.size_bytes(), f.info, "for_each()");
    });
    if (seen != std::set<int64_t>(in_range.begin(), in_range.end()))
      fuzz::fail("fuzz_access", "for_each(): other frames than asked for");
  });
  return 0;
}
