// The sidecar index loader: a `.fpidx` beside a video is input like the video. Input: a mode
// byte, then the sidecar's bytes. Mode bit 0 recomputes the checksum over the (fuzzed) body,
// so the bounds checks behind it are reached too: a sidecar that loads must then be safe to
// use, its lookups in range, and a reader given it over a small video (FRAMEPIPE_FUZZ_VIDEO)
// must answer with frames or a typed error, never read out of bounds.
#include <cmath>
#include <fstream>
#include <iterator>

#include "framepipe/reader/video_reader.hpp"
#include "fuzz_common.hpp"

using namespace framepipe;

namespace {

std::vector<uint8_t> video;

uint64_t fnv1a(const char* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<uint8_t>(p[i])) * 1099511628211ull;
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* env = std::getenv("FRAMEPIPE_FUZZ_VIDEO");
  std::ifstream is(env ? env : FRAMEPIPE_FUZZ_VIDEO, std::ios::binary);
  video.assign(std::istreambuf_iterator<char>(is), std::istreambuf_iterator<char>());
  if (video.empty()) fuzz::fail("fuzz_sidecar", "no video at FRAMEPIPE_FUZZ_VIDEO");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  const uint8_t mode = in.byte();
  std::string bytes = in.rest_string();
  constexpr size_t kHead = 12;  // magic and version
  if ((mode & 1) && bytes.size() >= kHead + 8) {
    const uint64_t sum = fnv1a(bytes.data() + kHead, bytes.size() - kHead - 8);
    std::memcpy(bytes.data() + bytes.size() - 8, &sum, sizeof sum);
  }
  std::optional<FrameIndex> idx;
  fuzz::run_typed("fuzz_sidecar", [&] { idx = FrameIndex::from_bytes(bytes, std::nullopt); });
  if (!idx) return 0;
  const int64_t n = idx->size();
  fuzz::run_typed("fuzz_sidecar", [&] {
    for (int64_t i : {int64_t{0}, n / 2, n - 1}) {
      if (i < 0 || i >= n) continue;  // no frames: nothing to look up
      const int64_t k = idx->keyframe_at_or_before(i);
      if (k < -1 || k > i) fuzz::fail("fuzz_sidecar", "keyframe_at_or_before out of range");
      if (const int64_t at = idx->frame_at(idx->time_of(i)); at < -1 || at >= n)
        fuzz::fail("fuzz_sidecar", "frame_at out of range");
      if (const int64_t s = idx->locate_source_pts((*idx)[i].source_pts); s < -1 || s >= n)
        fuzz::fail("fuzz_sidecar", "locate_source_pts out of range");
    }
    for (double t : {-1.0, 0.0, 0.5, 1e300, std::nan("")})
      if (const int64_t at = idx->frame_at(t); at < -1 || at >= std::max<int64_t>(n, 1))
        fuzz::fail("fuzz_sidecar", "frame_at out of range");
    (void)idx->duration_seconds();
    (void)idx->average_fps();
    (void)idx->keyframe_count();
  });
  // Used as a reader's index over a video it may not describe.
  fuzz::run_typed("fuzz_sidecar", [&] {
    ReaderOptions o;
    o.threads = 1;
    o.workers = 1;
    o.known_index = std::make_shared<const FrameIndex>(*idx);
    VideoReader reader(Source::from_bytes(video, "fuzz.mp4"), o);
    const int64_t m = std::min<int64_t>(reader.size(), 64);
    Frame f;
    for (int64_t k = 0; k < m && reader.next(f); ++k) {
    }
    if (m > 0) {
      (void)reader.frame(m - 1);
      (void)reader.frame(m / 2);
      (void)reader.frames({0, m - 1, m / 3});
    }
  });
  return 0;
}
