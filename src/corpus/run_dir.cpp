#include "corpus/run_dir.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "framepipe/error.hpp"
#include "framepipe/infer/model_spec.hpp"
#include "common/part_file.hpp"
#include "framepipe/version.hpp"
#include "common/json_text.hpp"

namespace framepipe::corpus {

namespace fs = std::filesystem;

Json Unit::json() const {
  Json j{{"unit", id},    {"video", video}, {"label", label}, {"path", path},   {"begin", begin},
         {"end", end},    {"chunk", chunk}, {"chunks", chunks}, {"shard", shard}, {"bytes", bytes}};
  j["seconds"] = seconds >= 0 ? Json(seconds) : Json(nullptr);
  if (size >= 0) j["stamp"] = {size, mtime_ns};
  return j;
}

Unit Unit::from(const Json& j) {
  Unit u;
  u.id = j.at("unit").get<int64_t>();
  u.video = j.at("video").get<int64_t>();
  u.label = j.at("label").get<std::string>();
  u.path = j.at("path").get<std::string>();
  u.begin = j.at("begin").get<int64_t>();
  u.end = j.at("end").get<int64_t>();
  u.chunk = j.at("chunk").get<int>();
  u.chunks = j.at("chunks").get<int>();
  u.shard = j.at("shard").get<int64_t>();
  u.bytes = j.value("bytes", int64_t{0});
  u.seconds = j.at("seconds").is_null() ? -1.0 : j.at("seconds").get<double>();
  if (j.contains("stamp")) {
    u.size = j["stamp"][0].get<int64_t>();
    u.mtime_ns = j["stamp"][1].get<int64_t>();
  }
  return u;
}

std::string RunDir::bucketed(const char* kind, int64_t id, const char* ext) const {
  char name[64];
  std::snprintf(name, sizeof name, "/%04" PRId64 "/%08" PRId64, id / 1000, id);
  return dir_ + "/" + kind + name + ext;
}

RunInfo RunDir::info() const {
  std::ifstream in(run_json());
  if (!in) throw ConfigError(dir_ + " holds no corpus plan (no run.json): run `framepipe corpus plan` first");
  Json j;
  try {
    j = Json::parse(in);
  } catch (const std::exception& e) {
    throw ConfigError(run_json() + " does not parse: " + e.what());
  }
  RunInfo r;
  r.model = j.at("model").get<std::string>();
  r.fingerprint = j.at("fingerprint").get<std::string>();
  r.version = j.at("framepipe").get<std::string>();
  r.options_json = j.at("options");
  r.options = run_options_from(r.options_json);
  r.units = j.at("units").get<int64_t>();
  r.shards = j.at("shards").get<int64_t>();
  r.videos = j.at("videos").get<int64_t>();
  r.chunk_seconds = j.value("chunk_seconds", 0.0);
  return r;
}

void RunDir::for_each_unit(const std::function<bool(const Unit&)>& each) const {
  std::ifstream in(manifest());
  if (!in) throw ConfigError(dir_ + " holds no manifest.jsonl: run `framepipe corpus plan` first");
  int64_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    Unit u;
    try {
      u = Unit::from(Json::parse(line));
    } catch (const std::exception& e) {
      throw ConfigError(manifest() + ":" + std::to_string(line_no) + " does not parse: " + e.what());
    }
    if (!each(u)) return;
  }
}

std::optional<Json> RunDir::read_record(int64_t unit) const {
  std::ifstream in(record(unit));
  if (!in) return std::nullopt;
  try {
    Json j = Json::parse(in);
    if (j.value("unit", int64_t{-1}) != unit) return std::nullopt;
    return j;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Json run_options_json(const RunOptions& o) {
  if (!o.annotate.empty() || !o.embeddings.empty() || o.live)
    throw ConfigError("a corpus run writes results only: --annotate, --embeddings and --live are for `framepipe run`");
  Json reader{{"threads", o.reader.threads},   {"workers", o.reader.workers},
              {"strict", o.reader.strict},     {"autorotate", o.reader.autorotate},
              {"index", to_string(o.reader.index)}};
  Json input = Json::array();
  for (const auto& [k, v] : o.reader.input_options) input.push_back({k, v});
  reader["input_options"] = std::move(input);
  return Json{{"sample", o.sample}, {"batch", o.batch},   {"top_k", o.top_k},     {"aggregate", o.aggregate},
              {"window", o.window}, {"alpha", o.alpha},   {"track", o.track},     {"segments", o.segments},
              {"on", o.on},         {"off", o.off},       {"min_duration", o.min_duration},
              {"conf", o.conf},     {"iou", o.iou},       {"engine", o.engine},   {"model_threads", o.model_threads},
              {"reader", std::move(reader)}};
}

RunOptions run_options_from(const Json& j) {
  RunOptions o;
  o.sample = j.at("sample").get<std::string>();
  o.batch = j.at("batch").get<int64_t>();
  o.top_k = j.at("top_k").get<int>();
  o.aggregate = j.at("aggregate").get<std::string>();
  o.window = j.at("window").get<int>();
  o.alpha = j.at("alpha").get<float>();
  o.track = j.at("track").get<bool>();
  o.segments = j.at("segments").get<bool>();
  o.on = j.at("on").get<float>();
  o.off = j.at("off").get<float>();
  o.min_duration = j.at("min_duration").get<double>();
  o.conf = j.at("conf").get<float>();
  o.iou = j.at("iou").get<float>();
  o.engine = j.at("engine").get<std::string>();
  o.model_threads = j.at("model_threads").get<int>();
  const Json& r = j.at("reader");
  o.reader.threads = r.at("threads").get<int>();
  o.reader.workers = r.at("workers").get<int>();
  o.reader.strict = r.at("strict").get<bool>();
  o.reader.autorotate = r.at("autorotate").get<bool>();
  o.reader.index = parse_index_mode(r.at("index").get<std::string>());
  for (const auto& kv : r.at("input_options")) o.reader.input_options.emplace_back(kv[0], kv[1]);
  return o;
}

namespace {

struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void add(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  }
  void add(const std::string& s) { add(s.data(), s.size() + 1); }
  void add_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ModelError("model file " + path + " cannot be read");
    char buf[1 << 16];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) add(buf, static_cast<size_t>(in.gcount()));
  }
};

}  // namespace

std::string fingerprint(const std::string& model, const Json& options) {
  const ModelSpec spec = load_model_spec(model);
  Fnv f;
  f.add(kVersion);
  f.add(spec.path);
  for (const std::string* p : {&spec.path, &spec.config_path, &spec.description_path})
    if (!p->empty() && p->rfind("builtin:", 0) != 0) f.add_file(*p);
  f.add(json_text(options));
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016" PRIx64, f.h);
  return hex;
}

void write_synced(const std::string& path, const std::string& text, const std::string& tag) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  PartFile file(path, tag);
  {
    std::ofstream os(file.part(), std::ios::trunc | std::ios::binary);
    os << text;
    os.flush();
    if (!os) throw IoError("cannot write " + file.part());
  }
  file.commit(true);
}

std::string worker_tag() {
  char host[256] = "host";
  ::gethostname(host, sizeof host - 1);
  for (char* c = host; *c; ++c)
    if (*c == '~' || *c == '/') *c = '_';
  return std::string(host) + "~" + std::to_string(::getpid());
}

int remove_stale_parts(const std::string& final_path) {
  const fs::path p(final_path);
  const std::string prefix = p.stem().string() + ".part-" + worker_tag().substr(0, worker_tag().find('~') + 1);
  std::error_code ec;
  int removed = 0;
  for (const auto& e : fs::directory_iterator(p.parent_path(), ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) removed += fs::remove(e.path(), ec) ? 1 : 0;
  }
  return removed;
}

int64_t remove_all_parts(const std::string& dir) {
  int64_t removed = 0;
  std::error_code ec;
  for (const char* kind : {"units", "done"}) {
    const fs::path root = fs::path(dir) / kind;
    if (!fs::exists(root, ec)) continue;
    for (const auto& e : fs::recursive_directory_iterator(root, ec))
      if (e.path().filename().string().find(".part-") != std::string::npos && fs::remove(e.path(), ec)) ++removed;
  }
  return removed;
}

}  // namespace framepipe::corpus
