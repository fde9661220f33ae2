// Open, index scan and probe from bytes in memory (the reader's bytes source), then stream
// the first frames: whatever the bytes, a typed error or frames, never a crash, a hang or an
// unbounded allocation.
#include "framepipe/reader/video_reader.hpp"
#include "fuzz_common.hpp"

using namespace framepipe;

namespace {
constexpr int64_t kMaxFrames = 48;  // enough to pass a few keyframe groups of the seeds
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Source src = Source::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.bin");
  fuzz::run_typed("fuzz_open", [&] { (void)probe(src, /*header_only=*/true); });
  fuzz::run_typed("fuzz_open", [&] { (void)probe(src); });
  fuzz::run_typed("fuzz_open", [&] {
    ReaderOptions o;
    o.threads = 1;  // damage concealed the same way every run
    o.workers = 1;
    o.index = IndexMode::Header;
    VideoReader reader(src, o);
    Frame f;
    for (int64_t n = 0; n < kMaxFrames && reader.next(f); ++n) {
    }
  });
  return 0;
}
