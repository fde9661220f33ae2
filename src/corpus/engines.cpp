// The engines' job descriptions: a Slurm array (and the merge job that waits for it), a
// Kubernetes Indexed Job. framepipe writes them; the engine schedules.
#include <filesystem>
#include <sstream>

#include "corpus/run_dir.hpp"
#include "framepipe/corpus/corpus.hpp"

namespace framepipe {

namespace {

namespace fs = std::filesystem;

// A word for a POSIX shell, single-quoted.
std::string sh(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string yaml_string(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

void common_sbatch_lines(std::ostringstream& s, const SlurmOptions& o) {
  if (!o.time.empty()) s << "#SBATCH --time=" << o.time << "\n";
  if (!o.partition.empty()) s << "#SBATCH --partition=" << o.partition << "\n";
  if (!o.account.empty()) s << "#SBATCH --account=" << o.account << "\n";
  for (const auto& e : o.extra) s << "#SBATCH " << e << "\n";
}

}  // namespace

std::vector<std::string> write_slurm_scripts(const std::string& dir_path, const SlurmOptions& o,
                                             const std::string& binary) {
  const std::string dir = fs::absolute(dir_path).lexically_normal().string();
  const corpus::RunInfo info = corpus::RunDir(dir).info();
  if (o.jobs < 1) throw ConfigError("--jobs must be at least 1");
  std::error_code ec;
  fs::create_directories(dir + "/slurm/logs", ec);
  std::ostringstream w;
  w << "#!/bin/bash\n"
    << "# framepipe corpus: one array task a shard. A task that is stopped (the time limit's USR1\n"
    << "# 60 s before, scancel, a preemption's TERM) abandons its unit cleanly and exits 4; so does\n"
    << "# one that met a transient error: it requeues itself, and the rerun skips what is done.\n"
    << "#SBATCH --job-name=framepipe-corpus\n"
    << "#SBATCH --array=0-" << info.shards - 1;
  if (o.array_limit > 0) w << "%" << o.array_limit;
  w << "\n#SBATCH --output=" << dir << "/slurm/logs/work_%A_%a.log\n"
    << "#SBATCH --open-mode=append\n"
    << "#SBATCH --signal=B:USR1@60\n"
    << "#SBATCH --requeue\n"
    << "#SBATCH --cpus-per-task=" << std::max(o.jobs, 1) << "\n";
  common_sbatch_lines(w, o);
  w << "set -u\n"
    << "stop= pid=\n"
    << "# Set before the work starts: a signal that comes at once still stops the task cleanly.\n"
    << "trap 'stop=1; [ -z \"$pid\" ] || kill -USR1 $pid 2>/dev/null' USR1 TERM\n"
    << sh(binary) << " corpus work " << sh(dir) << " --shard \"$SLURM_ARRAY_TASK_ID\" --jobs " << o.jobs << " &\n"
    << "pid=$!\n"
    << "[ -z \"$stop\" ] || kill -USR1 $pid 2>/dev/null\n"
    << "while :; do wait $pid; rc=$?; kill -0 $pid 2>/dev/null || break; done  # a trapped signal ends wait early\n"
    << "# Stopped before framepipe took its signals: nothing recorded for the unit, so a retry too.\n"
    << "if [ -n \"$stop\" ] && [ $rc -gt 128 ]; then rc=4; fi\n"
    << "if [ $rc -eq 4 ] && [ \"${SLURM_RESTART_COUNT:-0}\" -lt " << o.requeues << " ]; then\n"
    << "  if scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"; then\n"
    << "    echo \"framepipe: shard $SLURM_ARRAY_TASK_ID stopped early; requeued\"\n"
    << "    sleep 300  # the requeue ends this run; a task that ended first would not be run again\n"
    << "  fi\n"
    << "fi\n"
    << "exit $rc\n";
  std::ostringstream m;
  m << "#!/bin/bash\n"
    << "# framepipe corpus: the merge, after every array task:\n"
    << "#   sbatch --dependency=afterany:ARRAY_JOB --export=ALL,FRAMEPIPE_ARRAY_JOB=ARRAY_JOB merge.sbatch\n"
    << "#SBATCH --job-name=framepipe-merge\n"
    << "#SBATCH --output=" << dir << "/slurm/logs/merge_%j.log\n";
  common_sbatch_lines(m, o);
  m << "set -eu\n"
    << "# A task that requeued itself counts as ended for a moment: wait while the array has any.\n"
    << "if [ -n \"${FRAMEPIPE_ARRAY_JOB:-}\" ]; then\n"
    << "  while [ -n \"$(squeue -h -j \"$FRAMEPIPE_ARRAY_JOB\" 2>/dev/null)\" ]; do sleep 5; done\n"
    << "fi\n"
    << sh(binary) << " corpus status " << sh(dir) << "\n"
    << sh(binary) << " corpus merge " << sh(dir) << " --out " << sh((fs::path(dir) / o.out).string()) << "\n";
  const std::string work = dir + "/slurm/work.sbatch", merge = dir + "/slurm/merge.sbatch";
  corpus::write_synced(work, w.str());
  corpus::write_synced(merge, m.str());
  fs::permissions(work, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add, ec);
  fs::permissions(merge, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add, ec);
  return {work, merge};
}

std::string write_k8s_job(const std::string& dir_path, const K8sOptions& o) {
  if (o.image.empty()) throw ConfigError("corpus k8s: give --image (a container image with framepipe in it)");
  const std::string dir = fs::absolute(dir_path).lexically_normal().string();
  const corpus::RunInfo info = corpus::RunDir(dir).info();
  const int64_t parallel = o.parallelism > 0 ? std::min(o.parallelism, info.shards) : info.shards;
  std::ostringstream y;
  y << "# framepipe corpus: one pod a shard; the pod's JOB_COMPLETION_INDEX is its shard.\n"
    << "# The run folder must be at the same path in the pod (" << dir << ").\n"
    << "# kubectl apply -f job.yaml; kubectl get job framepipe-corpus; then framepipe corpus merge.\n"
    << "apiVersion: batch/v1\n"
    << "kind: Job\n"
    << "metadata:\n"
    << "  name: framepipe-corpus\n"
    << "spec:\n"
    << "  completionMode: Indexed\n"
    << "  completions: " << info.shards << "\n"
    << "  parallelism: " << parallel << "\n"
    << "  backoffLimit: " << std::max<int64_t>(6, info.shards) << "\n"
    << "  template:\n"
    << "    spec:\n"
    << "      restartPolicy: OnFailure\n"
    << "      containers:\n"
    << "      - name: work\n"
    << "        image: " << yaml_string(o.image) << "\n"
    << "        command: [" << yaml_string(o.binary) << ", \"corpus\", \"work\", " << yaml_string(dir) << "]\n";
  if (!o.claim.empty())
    y << "        volumeMounts:\n"
      << "        - name: data\n"
      << "          mountPath: " << yaml_string(o.mount) << "\n"
      << "      volumes:\n"
      << "      - name: data\n"
      << "        persistentVolumeClaim:\n"
      << "          claimName: " << yaml_string(o.claim) << "\n";
  const std::string path = dir + "/k8s/job.yaml";
  corpus::write_synced(path, y.str());
  return path;
}

}  // namespace framepipe
