// framepipe corpus work: a shard's units that are not recorded yet, `jobs` at a time, each
// committed (predictions, then its record) or left with nothing that looks finished.
#include <ctime>
#include <exception>
#include <fstream>
#include <filesystem>
#include <mutex>
#include <thread>

#include "common/json_text.hpp"
#include "corpus/run_dir.hpp"
#include "corpus/unit_rows.hpp"
#include "framepipe/corpus/corpus.hpp"
#include "common/part_file.hpp"
#include "framepipe/version.hpp"
#include "pipeline/run_context.hpp"

namespace framepipe {

namespace {

namespace fs = std::filesystem;
using corpus::Json;
using corpus::Unit;

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Errors of the run itself (its model, its options, its folder) stop the work; the rest are
// the unit's video's.
bool stops_the_work(ErrorKind k) { return k == ErrorKind::Model || k == ErrorKind::Config || k == ErrorKind::Io; }

class Worker {
 public:
  Worker(const corpus::RunDir& dir, const corpus::RunInfo& info, const CorpusWorkOptions& o, int jobs)
      : dir_(dir), info_(info), o_(o), tag_(corpus::worker_tag()) {
    RunOptions ro = info.options;
    ro.cancel = o.stop;
    if (jobs > 1) {  // the cores are shared among the jobs; none of this changes a result
      const int share = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / jobs);
      if (ro.model_threads == 0) ro.model_threads = share;
      if (ro.reader.threads == 0) ro.reader.threads = share;
      ro.reader.workers = 1;
    }
    runner_ = std::make_unique<Runner>(info.model, ro);
    const ModelSpec& spec = runner_->spec();
    keep_scores_ = (spec.task == Task::Classify || spec.task == Task::ClipClassify) &&
                   (info.options.aggregate != "none" || info.options.segments);
  }

  // One unit: done, failed (recorded), or nothing (abandoned, transient). Returns what happened.
  enum class Outcome { Done, Failed, Abandoned, Transient };
  Outcome run(const Unit& u, int64_t& rows) {
    PartFile file(dir_.rows(u.id), tag_ + "~" + std::to_string(u.id));
    const double t0 = unix_now();
    try {
      std::error_code ec;
      fs::create_directories(fs::path(file.path()).parent_path(), ec);
      corpus::remove_stale_parts(dir_.rows(u.id));  // what a killed worker of this host left
      corpus::remove_stale_parts(dir_.record(u.id));
      std::ofstream out(file.part(), std::ios::trunc);
      if (!out) throw IoError("cannot write " + file.part());
      const RowsOutcome r = runner_->predict_rows(
          u.path, u.begin, u.end,
          [&](std::vector<RowPrediction>& batch) {
            for (const auto& row : batch) out << json_text(corpus::row_json(row, keep_scores_)) << '\n';
            rows += static_cast<int64_t>(batch.size());
            if (!out) throw IoError("cannot write " + file.part());
          },
          index_of(u));
      if (!r.complete) {
        out.close();
        file.discard();
        return Outcome::Abandoned;
      }
      out.close();
      if (!out) throw IoError("cannot write " + file.part());
      file.commit(true);
      record(u, Json{{"status", "done"}, {"rows", rows}, {"plan_rows", r.plan_rows}, {"damage", r.damage}}, t0);
      return Outcome::Done;
    } catch (const Error& e) {
      file.discard();
      if (stops_the_work(e.kind())) throw;
      // The message names the input as the user gave it (a single run's words), not the absolute path opened.
      std::string what = e.what();
      for (size_t at = 0; u.path != u.label && (at = what.find(u.path, at)) != std::string::npos; at += u.label.size())
        what.replace(at, u.path.size(), u.label);
      note(u, std::string(to_string(e.kind())) + " error: " + what);
      if (e.kind() == ErrorKind::Transient) return Outcome::Transient;
      record(u, Json{{"status", "failed"}, {"kind", to_string(e.kind())}, {"error", what}, {"rows", 0}}, t0);
      return Outcome::Failed;
    }
  }

 private:
  // The index made at plan time, where it still fits the file; the reader checks it again.
  std::shared_ptr<const FrameIndex> index_of(const Unit& u) const {
    if (u.size >= 0) {
      const auto now = FileStamp::of(u.path);
      if (!now || static_cast<int64_t>(now->size) != u.size || now->mtime_ns != u.mtime_ns)
        throw OpenError(u.label + " has changed since the corpus was planned (size or time); plan again");
    }
    if (u.chunks <= 1 || u.size < 0) return nullptr;
    auto index = FrameIndex::load(dir_.index(u.video), FileStamp{static_cast<uint64_t>(u.size), u.mtime_ns});
    return index ? std::make_shared<const FrameIndex>(std::move(*index)) : nullptr;
  }

  void record(const Unit& u, Json j, double t0) {
    Json rec{{"unit", u.id}, {"video", u.video}, {"shard", u.shard}};
    for (auto& [k, v] : j.items()) rec[k] = v;
    rec["seconds"] = unix_now() - t0;
    rec["finished"] = unix_now();
    rec["worker"] = tag_;
    corpus::write_synced(dir_.record(u.id), json_text(rec) + "\n", tag_ + "~" + std::to_string(u.id));
  }

  void note(const Unit& u, const std::string& text) const {
    if (!o_.on_note) return;
    std::string line = u.label;
    if (u.chunks > 1) line += " (part " + std::to_string(u.chunk + 1) + " of " + std::to_string(u.chunks) + ")";
    line += ": ";
    line += text;
    o_.on_note(line);
  }

  const corpus::RunDir& dir_;
  const corpus::RunInfo& info_;
  const CorpusWorkOptions& o_;
  std::string tag_;
  std::unique_ptr<Runner> runner_;
  bool keep_scores_ = false;
};

// Recorded and not to be run again: done, or failed without retry_failed.
bool settled(const corpus::RunDir& dir, int64_t id, bool retry_failed) {
  const auto rec = dir.read_record(id);
  return rec && (rec->value("status", "") == "done" || !retry_failed);
}

// The units of `shard` (-1: all) that still need a run.
std::vector<Unit> pending_units(const corpus::RunDir& dir, int64_t shard, bool retry_failed, int64_t& skipped) {
  std::vector<Unit> todo;
  dir.for_each_unit([&](const Unit& u) {
    if (shard >= 0 && u.shard != shard) return true;
    if (settled(dir, u.id, retry_failed)) {
      ++skipped;
      return true;
    }
    todo.push_back(u);
    return true;
  });
  return todo;
}

}  // namespace

namespace {
void check_plan(const std::string& dir_path, const corpus::RunInfo& info) {
  if (info.version != kVersion)
    throw ConfigError(dir_path + " was planned by framepipe " + info.version + ", this is " + kVersion +
                      ": results would not be comparable; plan again");
  if (const std::string now = corpus::fingerprint(info.model, info.options_json); now != info.fingerprint)
    throw ConfigError(dir_path + ": the model " + info.model + " or its description has changed since the plan (fingerprint " +
                      info.fingerprint + ", now " + now + "); plan into a new folder");
}
}  // namespace

struct CorpusWorker::Impl {
  Impl(const std::string& d, const CorpusWorkOptions& opt) : dir(d), info(dir.info()), o(opt) {
    check_plan(d, info);
    std::ifstream in(dir.manifest());
    for (std::string line; in;) {  // where each unit's line starts: memory is 8 bytes a unit
      const auto at = in.tellg();
      if (!std::getline(in, line) || line.empty()) break;
      offsets.push_back(static_cast<int64_t>(at));
    }
    worker = std::make_unique<Worker>(dir, info, o, 1);
  }
  Unit unit(int64_t id) const {
    if (id < 0 || id >= static_cast<int64_t>(offsets.size()))
      throw OutOfRangeError("unit " + std::to_string(id) + " of a plan with " + std::to_string(offsets.size()) + " units");
    std::ifstream in(dir.manifest());
    in.seekg(offsets[static_cast<size_t>(id)]);
    std::string line;
    std::getline(in, line);
    return Unit::from(Json::parse(line));
  }
  corpus::RunDir dir;
  corpus::RunInfo info;
  CorpusWorkOptions o;
  std::vector<int64_t> offsets;
  std::unique_ptr<Worker> worker;
};

CorpusWorker::CorpusWorker(const std::string& dir, const CorpusWorkOptions& o) : impl_(std::make_unique<Impl>(dir, o)) {}
CorpusWorker::~CorpusWorker() = default;

std::string CorpusWorker::run_unit(int64_t id) {
  const Unit u = impl_->unit(id);
  if (settled(impl_->dir, id, impl_->o.retry_failed)) return "skipped";
  int64_t rows = 0;
  switch (impl_->worker->run(u, rows)) {
    case Worker::Outcome::Done: return "done";
    case Worker::Outcome::Failed: return "failed";
    case Worker::Outcome::Abandoned: return "abandoned";
    case Worker::Outcome::Transient: return "transient";
  }
  return "?";
}

std::vector<int64_t> corpus_pending(const std::string& dir_path, bool retry_failed) {
  const corpus::RunDir dir(dir_path);
  check_plan(dir_path, dir.info());
  std::vector<int64_t> ids;
  dir.for_each_unit([&](const Unit& u) {
    if (!settled(dir, u.id, retry_failed)) ids.push_back(u.id);
    return true;
  });
  return ids;
}

CorpusWork work_corpus(const std::string& dir_path, const CorpusWorkOptions& o) {
  const corpus::RunDir dir(dir_path);
  const corpus::RunInfo info = dir.info();
  check_plan(dir_path, info);
  if (o.shard >= info.shards)
    throw ConfigError("shard " + std::to_string(o.shard) + " of a plan with " + std::to_string(info.shards) +
                      " shards (0 to " + std::to_string(info.shards - 1) + ")");
  if (o.jobs < 1) throw ConfigError("--jobs must be at least 1");
  CorpusWork w;
  const std::vector<Unit> todo = pending_units(dir, o.shard, o.retry_failed, w.skipped);
  const int jobs = static_cast<int>(std::min<size_t>(static_cast<size_t>(o.jobs), std::max<size_t>(todo.size(), 1)));
  std::mutex m;
  size_t next = 0;
  std::exception_ptr error;
  std::atomic<bool> halt{false};
  const auto job = [&] {
    try {
      Worker worker(dir, info, o, jobs);
      for (;;) {
        size_t i;
        {
          std::lock_guard lock(m);
          if (halt || next >= todo.size() || (o.stop && o.stop->load())) return;
          i = next++;
        }
        int64_t rows = 0;
        const auto outcome = worker.run(todo[i], rows);
        std::lock_guard lock(m);
        w.rows += rows;
        if (outcome == Worker::Outcome::Done) ++w.done;
        if (outcome == Worker::Outcome::Failed) ++w.failed;
        if (outcome == Worker::Outcome::Transient) ++w.transient;
        if (outcome == Worker::Outcome::Abandoned) ++w.abandoned;
      }
    } catch (...) {
      std::lock_guard lock(m);
      if (!error) error = std::current_exception();
      halt = true;
    }
  };
  std::vector<std::thread> threads;
  for (int k = 1; k < jobs; ++k) threads.emplace_back(job);
  job();
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  if (o.stop && o.stop->load()) w.abandoned += static_cast<int64_t>(todo.size() - next);  // never started
  return w;
}

int64_t shard_from_environment() {
  for (const char* name : {"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"}) {
    const char* v = std::getenv(name);
    if (!v || !*v) continue;
    char* end = nullptr;
    const long long k = std::strtoll(v, &end, 10);
    if (*end || k < 0) throw ConfigError(std::string(name) + " is '" + v + "', not a shard number");
    return k;
  }
  return -1;
}

}  // namespace framepipe
