// The run folder of a corpus (see corpus.hpp): where each file lives, the run's description
// (run.json) and the manifest, read a line at a time so that memory does not grow with the
// corpus.
#pragma once

#include <cstdint>
#include <fstream>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "framepipe/pipeline/run.hpp"

namespace framepipe::corpus {

using Json = nlohmann::ordered_json;

// One unit of work: rows [begin, end) of one video's sample plan (end -1: to the end).
struct Unit {
  int64_t id = 0, video = 0, shard = 0;
  std::string label;  // the video as results name it: the path as the inputs gave it
  std::string path;   // what is opened (absolute)
  int64_t begin = 0, end = -1;
  int chunk = 0, chunks = 1;
  double seconds = -1;  // planned duration (-1: not probed)
  int64_t bytes = 0;
  int64_t size = -1, mtime_ns = 0;  // the file when planned (-1: not a file)
  Json json() const;
  static Unit from(const Json& j);
};

// The run's description: model, options, fingerprint, counts.
struct RunInfo {
  std::string model, fingerprint, version;
  RunOptions options;
  Json options_json;
  int64_t units = 0, shards = 0, videos = 0;
  double chunk_seconds = 0;
};

class RunDir {
 public:
  explicit RunDir(std::string dir) : dir_(std::move(dir)) {}
  const std::string& path() const { return dir_; }
  std::string run_json() const { return dir_ + "/run.json"; }
  std::string manifest() const { return dir_ + "/manifest.jsonl"; }
  std::string rows(int64_t unit) const { return bucketed("units", unit, ".jsonl"); }
  std::string record(int64_t unit) const { return bucketed("done", unit, ".json"); }
  std::string index(int64_t video) const { return bucketed("index", video, ".fpidx"); }
  // Its run.json; a folder without one is a ConfigError naming it.
  RunInfo info() const;
  // Every unit in manifest order; `each` returns false to stop.
  void for_each_unit(const std::function<bool(const Unit&)>& each) const;
  // A unit's record, if it has one (a record that does not parse is none: the unit runs again).
  std::optional<Json> read_record(int64_t unit) const;

 private:
  std::string bucketed(const char* kind, int64_t id, const char* ext) const;
  std::string dir_;
};

// The options that change results, as JSON and back; outputs and live options are refused.
Json run_options_json(const RunOptions& o);
RunOptions run_options_from(const Json& j);
// FNV-1a 64 over the model's files, its description, the options and framepipe's version.
std::string fingerprint(const std::string& model, const Json& options);

// A file written through a part file (tagged: racing writers each write their own), flushed
// to disk, renamed.
void write_synced(const std::string& path, const std::string& text, const std::string& tag = "");
// This worker's tag: HOST~PID.
std::string worker_tag();
// Removes the part files of `final_path` that a worker of this host left when it died (its
// process is gone); a live worker's are left alone. Returns how many it removed.
int remove_stale_parts(const std::string& final_path);
// Removes every part file under the run folder's units/ and done/: for merge, when no worker
// runs. Returns how many.
int64_t remove_all_parts(const std::string& dir);

}  // namespace framepipe::corpus
