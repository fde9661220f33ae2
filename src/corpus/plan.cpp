// framepipe corpus plan: the inputs expanded into units (a video, or rows of a long one's
// sample plan between keyframes), shards balanced by duration or size, the fingerprint.
#include <algorithm>
#include <fstream>
#include <filesystem>
#include <memory>
#include <queue>
#include <sstream>

#include "common/json_text.hpp"
#include "corpus/run_dir.hpp"
#include "framepipe/corpus/corpus.hpp"
#include "framepipe/media/source.hpp"
#include "common/part_file.hpp"
#include "framepipe/pipeline/inputs.hpp"
#include "framepipe/sample/sampling.hpp"
#include "framepipe/version.hpp"
#include "pipeline/run_context.hpp"

namespace framepipe {

namespace {

namespace fs = std::filesystem;
using corpus::Json;
using corpus::Unit;

// Row boundaries of a long video's parts: each near a multiple of `seconds`, moved back to the
// keyframe before it (decoding starts there) and then to a multiple of `batch` (the part's
// batches are then the batches of a whole run). Empty where the plan is not in time order.
std::vector<int64_t> chunk_rows(const SamplePlan& plan, const FrameIndex& index, double seconds, int64_t batch) {
  const auto rows = static_cast<int64_t>(plan.rows());
  const auto first = [&](int64_t r) { return plan.frames[static_cast<size_t>(r * plan.clip_len)]; };
  for (int64_t r = 1; r < rows; ++r)
    if (first(r) < first(r - 1)) return {};
  std::vector<int64_t> cuts{0};
  if (rows == 0) return {};
  const double t0 = index.time_of(first(0));
  for (int k = 1;; ++k) {
    const double target = t0 + k * seconds;
    if (target >= index.time_of(first(rows - 1))) break;
    int64_t frame = 0;  // the first frame at or after the target, then its keyframe
    while (frame < index.size() - 1 && index.time_of(frame) < target) ++frame;
    const int64_t key = std::max<int64_t>(index.keyframe_at_or_before(frame), 0);
    int64_t row = 0;
    while (row < rows && first(row) < key) ++row;
    row -= row % batch;
    if (row > cuts.back() && row < rows) cuts.push_back(row);
  }
  cuts.push_back(rows);
  return cuts;
}

// A corpus is files: a stream or a camera has no end for its unit to reach. Refused before
// anything is written. A URL that cannot be reached now is planned: its worker records the
// error (or finds it back).
void refuse_live(const std::string& location, const InputOptions& options) {
  if (!is_stream_location(location)) return;
  bool live = false;
  try {
    live = is_live_input(location, options);
  } catch (const Error&) {
  }
  if (live)
    throw ConfigError("corpus plan: " + location +
                      " is a live stream or a camera (no duration, not seekable): a corpus holds files; "
                      "run a stream with framepipe run");
}

struct Planner {
  const CorpusPlanOptions& o;
  corpus::RunDir dir;
  SampleSpec sample;
  std::ofstream* draft;            // the manifest's lines, without shards, as units are made
  std::vector<double> seconds;     // per unit, for the shards: 16 bytes a unit is all that is kept
  std::vector<int64_t> bytes;
  int64_t chunked = 0;

  // One video: a unit, or its parts when it is longer than chunk_seconds.
  void add(const std::string& path, int64_t video) {
    Unit u;
    u.video = video;
    u.label = path;
    const bool url = path.find("://") != std::string::npos || is_device_location(path);
    u.path = url ? path : fs::absolute(path).lexically_normal().string();
    if (auto stamp = FileStamp::of(u.path)) {
      u.size = static_cast<int64_t>(stamp->size);
      u.mtime_ns = stamp->mtime_ns;
      u.bytes = u.size;
    }
    if (o.chunk_seconds > 0 && !url && sample.kind != SampleKind::Scene) {
      try {
        if (chunk(u)) return;
      } catch (const Error&) {
        // A video that cannot be indexed is one unit: its worker records the error.
      }
    }
    push(u);
  }

  bool chunk(Unit u) {
    ReaderOptions ro = o.run.reader;
    ro.index = IndexMode::Exact;
    VideoReader reader(Source(u.path), ro);
    const FrameIndex& index = reader.index();
    if (index.size() == 0) return false;
    u.seconds = index.time_of(index.size() - 1) - index.time_of(0);
    if (u.seconds <= o.chunk_seconds) {
      push(u);
      return true;
    }
    const SamplePlan plan = plan_sample(sample, index);
    const std::vector<int64_t> cuts = chunk_rows(plan, index, o.chunk_seconds, std::max<int64_t>(o.run.batch, 1));
    if (cuts.size() < 3) {  // one part: nothing to split
      push(u);
      return true;
    }
    if (u.size >= 0) {
      std::error_code ec;
      fs::create_directories(fs::path(dir.index(u.video)).parent_path(), ec);
      index.save(dir.index(u.video), FileStamp{static_cast<uint64_t>(u.size), u.mtime_ns});
    }
    const double total = u.seconds;
    const auto frame_of = [&](int64_t row) {
      return plan.frames[static_cast<size_t>(std::min<int64_t>(row, static_cast<int64_t>(plan.rows()) - 1) * plan.clip_len)];
    };
    for (size_t k = 0; k + 1 < cuts.size(); ++k) {
      Unit part = u;
      part.begin = cuts[k];
      part.end = cuts[k + 1];
      part.chunk = static_cast<int>(k);
      part.chunks = static_cast<int>(cuts.size() - 1);
      const double start = index.time_of(frame_of(part.begin));
      const double end = k + 2 == cuts.size() ? index.time_of(0) + total : index.time_of(frame_of(part.end));
      part.seconds = std::max(end - start, 0.0);
      part.bytes = total > 0 ? static_cast<int64_t>(static_cast<double>(u.bytes) * part.seconds / total) : u.bytes;
      push(part);
    }
    ++chunked;
    return true;
  }

  void push(Unit u) {
    u.id = static_cast<int64_t>(seconds.size());
    *draft << json_text(u.json()) << '\n';
    seconds.push_back(u.seconds);
    bytes.push_back(u.bytes);
  }

  // Longest first onto the least loaded shard: by seconds where every unit was probed, else
  // bytes. Returns each unit's shard.
  std::vector<int32_t> assign_shards(int64_t& shards) const {
    const auto n = static_cast<int64_t>(seconds.size());
    shards = std::clamp<int64_t>(o.shards > 0 ? o.shards : std::min<int64_t>(n, 1000), 1, std::max<int64_t>(n, 1));
    const bool by_time = std::all_of(seconds.begin(), seconds.end(), [](double s) { return s >= 0; });
    std::vector<int32_t> shard_of(seconds.size(), 0);
    std::vector<int64_t> order(seconds.size());
    for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
    const auto weight = [&](int64_t i) {
      return by_time ? seconds[static_cast<size_t>(i)] : static_cast<double>(bytes[static_cast<size_t>(i)]);
    };
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return weight(a) > weight(b); });
    using Load = std::pair<double, int64_t>;
    std::priority_queue<Load, std::vector<Load>, std::greater<>> load;
    for (int64_t s = 0; s < shards; ++s) load.push({0.0, s});
    for (int64_t i : order) {
      auto [w, s] = load.top();
      load.pop();
      shard_of[static_cast<size_t>(i)] = static_cast<int32_t>(s);
      load.push({w + weight(i), s});
    }
    return shard_of;
  }
};

// A plan already in the folder: the same one (true), or a refusal naming the difference
// (`units` is compared once the new plan is made).
bool same_plan(const corpus::RunDir& dir, const Json& want) {
  std::ifstream in(dir.run_json());
  if (!in) {
    std::error_code ec;
    if (fs::exists(dir.manifest(), ec))
      throw ConfigError(dir.path() + " holds a manifest but no run.json: a plan that did not finish; remove the folder");
    return false;
  }
  const Json have = Json::parse(in, nullptr, false);
  if (have.is_discarded()) throw ConfigError(dir.run_json() + " does not parse; remove the folder to plan again");
  if (have.value("fingerprint", "") != want["fingerprint"])
    throw ConfigError(dir.path() + " holds a corpus run with another fingerprint (" + have.value("fingerprint", "?") +
                      ", this plan's " + want["fingerprint"].get<std::string>() +
                      "): a different model, options or framepipe version; plan into a new folder");
  for (const char* key : {"inputs", "chunk_seconds", "shards_asked", "units"})
    if (want.contains(key) && have.value(key, Json()) != want[key])
      throw ConfigError(dir.path() + " holds a plan of the same model and options but another " + key +
                        "; plan into a new folder");
  return true;
}

}  // namespace

CorpusPlan plan_corpus(const std::vector<std::string>& inputs, const std::string& dir, const CorpusPlanOptions& o) {
  if (o.model.empty()) throw ConfigError("corpus plan: no model given");
  if (!o.run.spec.empty())
    throw ConfigError("corpus plan: --spec is not taken (the plan's fingerprint covers the description beside the "
                      "model): put the description beside the model, as " + o.model + " with .json");
  if (o.chunk_seconds < 0) throw ConfigError("--chunk-seconds must be >= 0");
  if (o.shards < 0) throw ConfigError("--shards must be >= 0");
  const Json options = corpus::run_options_json(o.run);
  const ModelSpec spec = run_model_spec(o.model, o.run);
  (void)run_result_options(o.run, spec);  // refuses what does not fit the model, before anything is written
  const corpus::RunDir rd(dir);
  const SampleSpec sample = run_sample_spec(o.run, spec);
  if (o.chunk_seconds > 0 && sample.kind == SampleKind::Scene)
    throw ConfigError("--chunk-seconds with --sample scene: scene cuts need the whole video; plan without chunks");
  // A first pass refuses streams before anything is written; the inputs are listed again as
  // units are made, one video at a time (nothing of the corpus is held but 16 bytes a unit).
  const int64_t videos =
      for_each_input(inputs, [&](const std::string& path) { refuse_live(path, o.run.reader.input_options); });
  if (videos == 0) throw ConfigError("corpus plan: no input videos given");

  Json run{{"framepipe", kVersion},
           {"fingerprint", corpus::fingerprint(o.model, options)},
           {"model", fs::path(o.model).is_relative() && o.model.rfind("builtin:", 0) != 0
                         ? fs::absolute(o.model).lexically_normal().string()
                         : o.model},
           {"options", options},
           {"inputs", inputs},
           {"chunk_seconds", o.chunk_seconds},
           {"shards_asked", o.shards}};
  const bool existed = same_plan(rd, run);
  std::error_code ec;
  fs::create_directories(dir, ec);
  const PartFile draft_file(rd.manifest(), "draft");
  std::ofstream draft(draft_file.part(), std::ios::trunc);
  if (!draft) throw IoError("cannot write " + draft_file.part());
  Planner p{o, rd, sample, &draft, {}, {}, 0};
  int64_t video = 0;
  const int64_t listed = for_each_input(inputs, [&](const std::string& path) { p.add(path, video++); });
  if (listed != videos)
    throw IoError("corpus plan: the inputs changed while they were planned (" + std::to_string(videos) + " videos, then " +
                  std::to_string(listed) + "); plan again");
  draft.close();
  int64_t shards = 0;
  const std::vector<int32_t> shard_of = p.assign_shards(shards);
  run["units"] = static_cast<int64_t>(shard_of.size());
  run["shards"] = shards;
  run["videos"] = videos;
  CorpusPlan out{videos, static_cast<int64_t>(shard_of.size()), shards, p.chunked,
                 run["fingerprint"], existed};
  if (existed) {
    draft_file.discard();
    same_plan(rd, run);  // now with the units
    return out;
  }
  {  // the manifest: the draft's lines with their shards
    const PartFile manifest(rd.manifest());
    std::ifstream in(draft_file.part());
    std::ofstream os(manifest.part(), std::ios::trunc);
    size_t k = 0;
    for (std::string line; std::getline(in, line); ++k) {
      Json j = Json::parse(line);
      j["shard"] = shard_of.at(k);
      os << json_text(j) << '\n';
    }
    os.close();
    if (!os || k != shard_of.size()) throw IoError("cannot write " + manifest.part());
    manifest.commit(true);
    draft_file.discard();
  }
  corpus::write_synced(p.dir.run_json(), json_text(run, 2) + "\n");  // last: the plan exists once it does
  return out;
}

}  // namespace framepipe
