// framepipe corpus plan | work | status | merge | slurm | k8s: a model over a corpus of videos
// on the engines that exist (framepipe/corpus/corpus.hpp). This file is their options.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.hpp"
#include "run_args.hpp"
#include "framepipe/corpus/corpus.hpp"

extern char** environ;

namespace framepipe::cli {

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_corpus_signal(int) { g_stop = true; }  // later signals: the same

void note(const std::string& text) { std::fprintf(stderr, "framepipe: %s\n", text.c_str()); }

// This program's own path, for the job scripts to call.
std::string self_path() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("framepipe") : p.string();
}

struct PlanArgs : ModelRunArgs {
  std::string model, dir;
  std::vector<std::string> inputs;
  double chunk_seconds = 0;
  int64_t shards = 0;
};

int plan(PlanArgs& a) {
  a.apply();
  CorpusPlanOptions o;
  o.model = a.model;
  o.run = a.o;
  o.chunk_seconds = a.chunk_seconds;
  o.shards = a.shards;
  const CorpusPlan p = plan_corpus(a.inputs, a.dir, o);
  std::printf("%s %lld units of %lld videos (%lld chunked) in %lld shards, fingerprint %s, in %s\n",
              p.existed ? "already planned:" : "planned", static_cast<long long>(p.units),
              static_cast<long long>(p.videos), static_cast<long long>(p.chunked), static_cast<long long>(p.shards),
              p.fingerprint.c_str(), a.dir.c_str());
  return 0;
}

struct WorkArgs {
  std::string dir;
  int64_t shard = -1;
  int jobs = 1;
  bool all = false, retry_failed = false;
};

int work(const WorkArgs& a) {
  CorpusWorkOptions o;
  o.shard = a.all ? -1 : (a.shard >= 0 ? a.shard : shard_from_environment());
  if (o.shard < 0 && !a.all)
    throw ConfigError("corpus work: which shard? --shard K, SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX, or --all");
  o.jobs = a.jobs;
  o.retry_failed = a.retry_failed;
  o.stop = &g_stop;
  o.on_note = note;
  // SIGTERM (scancel, preemption), SIGUSR1 (Slurm's warning before the time limit), Ctrl-C:
  // the units running are abandoned between batches, nothing of them recorded; exit 4.
  g_stop = false;
  for (int sig : {SIGINT, SIGTERM, SIGUSR1}) std::signal(sig, on_corpus_signal);
  const CorpusWork w = work_corpus(a.dir, o);
  for (int sig : {SIGINT, SIGTERM, SIGUSR1}) std::signal(sig, SIG_DFL);
  std::fprintf(stderr,
               "framepipe: shard %s: %lld units done, %lld failed (recorded), %lld done before, %lld abandoned, %lld "
               "transient; %lld predictions\n",
               o.shard < 0 ? "all" : std::to_string(o.shard).c_str(), static_cast<long long>(w.done),
               static_cast<long long>(w.failed), static_cast<long long>(w.skipped), static_cast<long long>(w.abandoned),
               static_cast<long long>(w.transient), static_cast<long long>(w.rows));
  if (w.exit_code() == 4) note("stopped before the shard was done: run it again (exit 4: retry); done units are kept");
  return w.exit_code();
}

// sbatch SCRIPT [--dependency=...]: its job id (--parsable), no shell in between.
std::string sbatch(const std::string& script, const std::string& dependency) {
  std::vector<std::string> args{"sbatch", "--parsable"};
  if (!dependency.empty()) {
    args.push_back("--dependency=afterany:" + dependency);
    args.push_back("--export=ALL,FRAMEPIPE_ARRAY_JOB=" + dependency);
  }
  args.push_back(script);
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  int fds[2];
  if (::pipe(fds) != 0) throw IoError("corpus slurm --submit: cannot make a pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, "sbatch", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  std::string out;
  char buf[256];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  if (rc != 0) throw ConfigError("corpus slurm --submit: sbatch is not on PATH (is this a Slurm login node?)");
  int status = 0;
  ::waitpid(pid, &status, 0);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || out.empty())
    throw TransientError("corpus slurm --submit: sbatch " + script + " failed (see its message above)");
  return out.substr(0, out.find(';'));
}

struct SlurmArgs {
  std::string dir;
  SlurmOptions o;
  bool submit = false;
};

int slurm(SlurmArgs& a) {
  const auto scripts = write_slurm_scripts(a.dir, a.o, self_path());
  std::printf("wrote %s\nwrote %s\n", scripts[0].c_str(), scripts[1].c_str());
  if (!a.submit) {
    std::printf("submit: jid=$(sbatch --parsable %s) && sbatch --dependency=afterany:$jid "
                "--export=ALL,FRAMEPIPE_ARRAY_JOB=$jid %s\n",
                scripts[0].c_str(), scripts[1].c_str());
    return 0;
  }
  const std::string array = sbatch(scripts[0], "");
  const std::string merge = sbatch(scripts[1], array);
  std::printf("submitted array job %s and merge job %s\n", array.c_str(), merge.c_str());
  return 0;
}

CLI::App* add_plan_command(CLI::App* cmd, PlanArgs& p) {
  auto* plan_cmd = cmd->add_subcommand("plan", "Expand the inputs into units (a video, or parts of a long one), "
                                                "balanced shards and a fingerprint, in a run folder");
  plan_cmd->add_option("MODEL", p.model, "as for `framepipe run`")->required();
  plan_cmd->add_option("INPUT", p.inputs, "video files, folders (with sub-folders), .txt lists, http(s) URLs")->required();
  plan_cmd->add_option("--run", p.dir, "the run folder")->required();
  plan_cmd->add_option("--chunk-seconds", p.chunk_seconds,
                       "split videos longer than this into parts of about this long (planned from the index)");
  plan_cmd->add_option("--shards", p.shards, "shards (array tasks, pods); 0: one a unit, at most 1000");
  add_model_run_options(plan_cmd, p);
  return plan_cmd;
}

CLI::App* add_work_command(CLI::App* cmd, WorkArgs& w) {
  auto* work_cmd = cmd->add_subcommand("work", "Run a shard's units that are not done yet (what each array task or pod runs)");
  work_cmd->add_option("DIR", w.dir, "the run folder")->required();
  work_cmd->add_option("--shard", w.shard, "the shard (default: SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)");
  work_cmd->add_flag("--all", w.all, "every shard: the whole corpus on this machine");
  work_cmd->add_option("--jobs", w.jobs, "units at once, each with its own model")->capture_default_str();
  work_cmd->add_flag("--retry-failed", w.retry_failed, "run units recorded as failed again");
  return work_cmd;
}

CLI::App* add_slurm_command(CLI::App* cmd, SlurmArgs& s) {
  auto* slurm_cmd = cmd->add_subcommand("slurm", "Write the sbatch array script and its merge job (and submit them)");
  slurm_cmd->add_option("DIR", s.dir, "the run folder")->required();
  slurm_cmd->add_option("--array-limit", s.o.array_limit, "tasks at once (%N)");
  slurm_cmd->add_option("--time", s.o.time, "each task's time limit (sbatch --time)");
  slurm_cmd->add_option("--partition", s.o.partition, "sbatch --partition");
  slurm_cmd->add_option("--account", s.o.account, "sbatch --account");
  slurm_cmd->add_option("--sbatch", s.o.extra, "more sbatch options, repeatable: --sbatch=--mem=8G");
  slurm_cmd->add_option("--jobs", s.o.jobs, "units at once in each task")->capture_default_str();
  slurm_cmd->add_option("--requeues", s.o.requeues, "times a stopped task requeues itself")->capture_default_str();
  slurm_cmd->add_option("--out", s.o.out, "the merge job's results, in DIR")->capture_default_str();
  slurm_cmd->add_flag("--submit", s.submit, "submit both with sbatch");
  return slurm_cmd;
}

}  // namespace

Command add_corpus(CLI::App& app) {
  auto* cmd = app.add_subcommand("corpus", "A model over a corpus on many machines, through Slurm, Dask or Kubernetes: "
                                           "plan, work, status, merge");
  cmd->require_subcommand(1);

  auto p = std::make_shared<PlanArgs>();
  auto* plan_cmd = add_plan_command(cmd, *p);
  auto w = std::make_shared<WorkArgs>();
  auto* work_cmd = add_work_command(cmd, *w);
  auto status_dir = std::make_shared<std::string>();
  auto status_json = std::make_shared<bool>(false);
  auto* status_cmd = cmd->add_subcommand("status", "Done, failed (by kind) and pending units, throughput, an ETA");
  status_cmd->add_option("DIR", *status_dir, "the run folder")->required();
  status_cmd->add_flag("--json", *status_json, "as one JSON object");

  struct MergeArgs {
    std::string dir, out, table;
    bool partial = false;
  };
  auto m = std::make_shared<MergeArgs>();
  auto* merge_cmd = cmd->add_subcommand("merge", "Every video's results in order, as one `framepipe run` writes them");
  merge_cmd->add_option("DIR", m->dir, "the run folder")->required();
  merge_cmd->add_option("--out", m->out, "results: JSON Lines, or CSV for *.csv; - for stdout")->required();
  merge_cmd->add_option("--table", m->table, "a CSV of every video: status, units, frames, results, seconds, error");
  merge_cmd->add_flag("--partial", m->partial, "merge what is done; videos with pending units are cut there");

  auto s = std::make_shared<SlurmArgs>();
  auto* slurm_cmd = add_slurm_command(cmd, *s);
  auto k = std::make_shared<std::pair<std::string, K8sOptions>>();
  auto* k8s_cmd = cmd->add_subcommand("k8s", "Write a Kubernetes Indexed Job: one pod a shard");
  k8s_cmd->add_option("DIR", k->first, "the run folder (at the same path in the pods)")->required();
  k8s_cmd->add_option("--image", k->second.image, "a container image with framepipe")->required();
  k8s_cmd->add_option("--claim", k->second.claim, "a PersistentVolumeClaim to mount (the run folder and videos)");
  k8s_cmd->add_option("--mount", k->second.mount, "where it is mounted")->capture_default_str();
  k8s_cmd->add_option("--parallelism", k->second.parallelism, "pods at once (0: every shard)");
  k8s_cmd->add_option("--binary", k->second.binary, "framepipe's path in the image")->capture_default_str();

  return [=]() -> int {
    if (plan_cmd->parsed()) return plan(*p);
    if (work_cmd->parsed()) return work(*w);
    if (status_cmd->parsed()) {
      const CorpusStatus st = corpus_status(*status_dir);
      std::printf("%s\n", *status_json ? st.json().c_str() : st.text().c_str());
      return 0;
    }
    if (merge_cmd->parsed()) {
      const CorpusMerge r = merge_corpus(m->dir, m->out, m->table, m->partial);
      std::fprintf(stderr, "framepipe: %lld results of %lld videos (%lld failed) in %s\n",
                   static_cast<long long>(r.results), static_cast<long long>(r.videos),
                   static_cast<long long>(r.failed_videos), m->out.c_str());
      return 0;
    }
    if (slurm_cmd->parsed()) return slurm(*s);
    if (k8s_cmd->parsed()) {
      std::printf("wrote %s\n", write_k8s_job(k->first, k->second).c_str());
      return 0;
    }
    return 2;
  };
}

}  // namespace framepipe::cli
