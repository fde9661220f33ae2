// The sampling-spec parser and its plans. Input: a spec line, then bytes that make an index
// (frame count, timestamps with gaps and repeats, keyframes). The spec either is a
// ConfigError or parses, prints back to a spec that parses to the same, and plans only
// frames the index has, in whole clips.
#include <cmath>

#include "framepipe/media/frame.hpp"
#include "framepipe/sample/sampling.hpp"
#include "fuzz_common.hpp"

using namespace framepipe;

namespace {

FrameIndex index_from(fuzz::Input& in) {
  const int64_t n = in.byte() * 8 + in.byte() % 8;  // up to 2047 frames
  const int32_t den = 1 + static_cast<int32_t>(in.u32() % 90000);
  std::vector<FrameEntry> frames(static_cast<size_t>(n));
  int64_t pts = static_cast<int8_t>(in.byte()) * 1000;
  for (int64_t i = 0; i < n; ++i) {
    FrameEntry& e = frames[static_cast<size_t>(i)];
    const uint8_t b = in.left() ? in.byte() : static_cast<uint8_t>(i);
    e.pts = e.source_pts = pts;
    e.dts = pts;
    e.duration = 1 + (b >> 4);
    e.keyframe = i == 0 || (b & 7) == 0;
    pts += (b & 8) ? 0 : e.duration;  // a repeated pts now and then
  }
  return FrameIndex(0, Rational{1, den}, FrameIndex::Method::Packets, true, std::move(frames));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  const std::string text = in.line(512);
  SampleSpec spec;
  if (!fuzz::run_typed("fuzz_sample", [&] { spec = SampleSpec::parse(text); })) return 0;
  const std::string once = spec.to_string();
  SampleSpec again;
  if (!fuzz::run_typed("fuzz_sample", [&] { again = SampleSpec::parse(once); }))
    fuzz::fail("fuzz_sample", "'" + text + "' prints as '" + once + "', which does not parse");
  if (again.to_string() != once)
    fuzz::fail("fuzz_sample", "'" + once + "' parses and prints as '" + again.to_string() + "'");
  if (spec.kind == SampleKind::Scene) return 0;  // planned by decoding: fuzz_access's business
  const FrameIndex index = index_from(in);
  fuzz::run_typed("fuzz_sample", [&] {
    const SamplePlan plan = plan_sample(spec, index);
    for (int64_t i : plan.frames)
      if (i < 0 || i >= index.size())
        fuzz::fail("fuzz_sample", "'" + once + "' planned frame " + std::to_string(i) + " of " +
                                      std::to_string(index.size()));
    if (plan.clip_len <= 0 || plan.frames.size() % static_cast<size_t>(plan.clip_len) != 0)
      fuzz::fail("fuzz_sample", "'" + once + "' planned a part of a clip");
    StreamSampler live(spec);
    for (int64_t i = 0; i < index.size(); ++i) {
      FrameInfo f;
      f.index = i;
      f.pts = index[i].pts;
      f.t = index.time_of(i);
      f.keyframe = index[i].keyframe;
      (void)live.accept(f);
    }
  });
  return 0;
}
