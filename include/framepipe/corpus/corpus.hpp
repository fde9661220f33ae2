// Corpus runs: a model over many videos on many machines, through an engine that exists
// (Slurm job arrays, Dask, Kubernetes Indexed Jobs). framepipe schedules nothing: it plans
// units of work into a run folder, runs a shard of them when an engine asks, records each
// unit done, and merges.
//
//   framepipe::CorpusPlanOptions p;
//   p.model = "detector.pt";
//   p.run.track = true;
//   p.chunk_seconds = 600;                    // long videos in keyframe-aligned parts
//   framepipe::plan_corpus({"videos/"}, "run1", p);
//   framepipe::work_corpus("run1", {.shard = 3});     // on each machine, one shard each
//   framepipe::merge_corpus("run1", "results.jsonl"); // once every unit is done
//
// The run folder (no folder in it holds more than 1000 entries):
//   run.json        model, options, fingerprint of what changes results, counts
//   manifest.jsonl  one unit a line, in result order: video, path, rows of its sample plan, shard
//   index/B/V.fpidx the index of each chunked video, made at plan time, checked on use
//   units/B/U.jsonl a done unit's predictions (full precision, before the result stage)
//   done/B/U.json   its record, written last: done or failed (kind, error), rows, seconds
// Every file is written under a part name, flushed to disk and renamed, the record after the
// predictions, so a worker killed at any point leaves nothing that looks finished.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "framepipe/error.hpp"
#include "framepipe/pipeline/run.hpp"

namespace framepipe {

struct CorpusPlanOptions {
  std::string model;         // as for Runner: a model file with its description, or builtin:NAME
  RunOptions run;            // what changes results: sample, batch, top-k, aggregation, tracking,
                             // events, thresholds, engine, decoder options (outputs are refused)
  double chunk_seconds = 0;  // > 0: a video longer than this is split into parts of about this
                             // long, at batch boundaries next to keyframes
  int64_t shards = 0;        // 0: one a unit, at most 1000; shards are balanced by duration
                             // (chunked plans) or by size
};

struct CorpusPlan {
  int64_t videos = 0, units = 0, shards = 0, chunked = 0;
  std::string fingerprint;
  bool existed = false;  // the folder held this same plan already: nothing was written
};

// Expands INPUTS as a run does (folders with sub-folders, lists, URLs), and writes the plan.
// A folder that holds a plan with another fingerprint is a ConfigError.
CorpusPlan plan_corpus(const std::vector<std::string>& inputs, const std::string& dir, const CorpusPlanOptions& o);

struct CorpusWorkOptions {
  int64_t shard = -1;        // -1: every shard (one machine runs the whole corpus)
  int jobs = 1;              // units at once, each with its own model
  bool retry_failed = false; // run units recorded as failed again
  const std::atomic<bool>* stop = nullptr;  // set (SIGTERM, SIGUSR1): the units running are
                                            // abandoned between batches, nothing recorded
  std::function<void(const std::string&)> on_note;
};

struct CorpusWork {
  int64_t done = 0, failed = 0, skipped = 0;  // this call's units; skipped: recorded before
  int64_t abandoned = 0;                      // stopped by `stop`
  int64_t transient = 0;                      // a transient error: not recorded, to be run again
  int64_t rows = 0;
  // Exit code for a scheduler: 4 (retry) when a unit was abandoned or met a transient error,
  // else 0; failed units are recorded, not retried.
  int exit_code() const { return abandoned || transient ? 4 : 0; }
};

// One model for unit after unit, for an engine that hands out units (Dask): a process keeps
// one and runs what it is given. Not thread-safe: one a thread.
class CorpusWorker {
 public:
  explicit CorpusWorker(const std::string& dir, const CorpusWorkOptions& o = {});
  ~CorpusWorker();
  CorpusWorker(const CorpusWorker&) = delete;
  CorpusWorker& operator=(const CorpusWorker&) = delete;
  // Runs unit `id` unless it is recorded (done, or failed without retry_failed). Returns
  // "done", "failed", "skipped", "abandoned" or "transient"; throws as work_corpus does.
  std::string run_unit(int64_t id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The units not recorded yet (failed ones too with retry_failed), in manifest order: what an
// engine that hands out units (Dask) maps over. Reads the run folder only; loads no model.
std::vector<int64_t> corpus_pending(const std::string& dir, bool retry_failed = false);

// Runs the shard's units that are not recorded yet. A model, config or I/O error stops it
// (thrown); an error of a unit's video is recorded as that unit's failure.
CorpusWork work_corpus(const std::string& dir, const CorpusWorkOptions& o);

struct CorpusStatus {
  int64_t units = 0, done = 0, failed = 0, pending = 0, shards = 0, videos = 0;
  std::map<std::string, int64_t> failed_by_kind;
  int64_t rows = 0;             // predictions of the done units
  double unit_seconds = 0;      // their work, summed
  double first = 0, last = 0;   // unix times of the first and last record
  double rows_per_second() const;  // over the wall time from first to last record
  double eta_seconds() const;      // pending units at the rate of the done ones; < 0 unknown
  std::string json() const;
  std::string text() const;
};
CorpusStatus corpus_status(const std::string& dir);

struct CorpusMerge {
  int64_t videos = 0, results = 0, failed_videos = 0;
  int64_t stale_parts = 0;  // part files of killed workers, removed (merge runs when none works)
  std::optional<ErrorKind> first_error;  // the first failed video's kind
};
// Every video's results in manifest order into `out` (JSON Lines, or CSV for *.csv): each
// unit once, the result stage (smoothing, tracking, events) run over the whole video, so the
// lines are those a single `framepipe run` over the same inputs writes. A failed unit gives
// its video's rows up to it and an "error" line. A unit not done yet is a ConfigError
// (`partial`: left out, its video marked pending). `table`: a CSV of every video's status,
// frames, results, seconds and error ("" for none).
CorpusMerge merge_corpus(const std::string& dir, const std::string& out, const std::string& table = "",
                         bool partial = false);

// Engines. The Slurm array script (sbatch) and the merge job that waits for it.
struct SlurmOptions {
  int64_t array_limit = 0;  // at most this many tasks at once (%N); 0: Slurm's choice
  std::string time;         // --time
  std::string partition, account;
  std::vector<std::string> extra;  // more #SBATCH lines, e.g. "--mem=8G"
  int jobs = 1;             // units at once in each task
  int requeues = 3;         // how often a task that exits with the retry code requeues itself
  std::string out = "results.jsonl";  // the merge job's output, relative to DIR
};
// Writes DIR/slurm/work.sbatch and DIR/slurm/merge.sbatch; returns their paths.
std::vector<std::string> write_slurm_scripts(const std::string& dir, const SlurmOptions& o,
                                             const std::string& framepipe_binary);

struct K8sOptions {
  std::string image;               // a container image with framepipe
  std::string claim;               // a PersistentVolumeClaim holding DIR and the videos ("" for none)
  std::string mount = "/data";     // where the claim is mounted
  int64_t parallelism = 0;         // pods at once; 0: every shard
  std::string binary = "framepipe";
};
// The Indexed Job manifest (YAML) at DIR/k8s/job.yaml; returns its path.
std::string write_k8s_job(const std::string& dir, const K8sOptions& o);

// The shard a worker was given by its engine: SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX;
// -1 when neither is set.
int64_t shard_from_environment();

}  // namespace framepipe
