// framepipe run MODEL INPUT...: a model over video files, folders, lists or live streams;
// results as JSON Lines (DESIGN.md), an annotated copy of each file on request. The work is
// framepipe::Runner's; this file is its options and the signals.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "commands.hpp"
#include "reader_args.hpp"
#include "run_args.hpp"
#include "framepipe/error.hpp"
#include "framepipe/infer/model_spec.hpp"
#include "framepipe/corpus/corpus.hpp"
#include "common/part_file.hpp"
#include "framepipe/pipeline/run.hpp"
#include "framepipe/sample/sampling.hpp"
#include "framepipe/sinks/result_path.hpp"
#include "common/words.hpp"

namespace framepipe::cli {

namespace {

struct RunArgs : ModelRunArgs {
  std::string model;
  std::vector<std::string> inputs;
  int jobs = 1;
  double progress_every = 10;
  RunArgs() { o.out = "-"; }  // the CLI writes to stdout unless told
};

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int sig) {
  g_stop = true;
  std::signal(sig, SIG_DFL);  // a second signal ends the process
}

void print_note(const std::string& text) { std::fprintf(stderr, "framepipe: %s\n", text.c_str()); }

// Exit codes (DESIGN.md): 130 interrupted, the first failure's kind, 0 done.
int report(const RunSummary& s, const RunOptions& o) {
  for (const auto& line : s.metrics_lines) print_note(line);
  if (!o.out.empty() && o.out != "-") {
    const std::string failed = s.failed ? " (" + std::to_string(s.failed) + " failed: see the \"error\" lines)" : "";
    std::fprintf(stderr, "framepipe: %s from %s%s in %s\n", count_of(s.results, "result").c_str(),
                 count_of(s.videos, "video").c_str(), failed.c_str(), o.out.c_str());
  }
  if (s.interrupted) {
    print_note("interrupted; every output written so far is complete and closed");
    return 130;
  }
  return s.error ? exit_code_for(*s.error) : 0;
}

// --jobs N: a corpus run on this machine, in a folder of its own that goes when it is done.
int run_in_jobs(RunArgs& a) {
  if (!a.o.metrics.empty()) throw ConfigError("--metrics runs with --jobs 1 (each job has stages of its own)");
  check_results_path(a.o.out);  // before any work
  namespace fs = std::filesystem;
  std::string tmpl = (fs::temp_directory_path() / "framepipe-jobs-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw IoError("cannot make a folder for --jobs in " + fs::temp_directory_path().string());
  struct Remove {
    std::string dir;
    ~Remove() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } remove{tmpl};
  CorpusPlanOptions plan;
  plan.model = a.model;
  plan.run = a.o;
  plan.run.out.clear();
  plan_corpus(a.inputs, tmpl, plan);  // refuses --annotate, --embeddings, --live
  CorpusWorkOptions w;
  w.jobs = a.jobs;
  w.stop = &g_stop;
  w.on_note = print_note;
  g_stop = false;
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  const CorpusWork done = work_corpus(tmpl, w);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  const bool cut = done.exit_code() != 0;
  const bool to_file = !a.o.out.empty() && a.o.out != "-" && !is_stream_path(a.o.out);
  const std::string out = cut && to_file ? part_path(a.o.out) : a.o.out;
  const CorpusMerge m = merge_corpus(tmpl, out, "", cut);
  if (to_file)
    std::fprintf(stderr, "framepipe: %s from %s%s in %s\n", count_of(m.results, "result").c_str(),
                 count_of(m.videos, "video").c_str(),
                 m.failed_videos ? (" (" + std::to_string(m.failed_videos) + " failed: see the \"error\" lines)").c_str()
                                 : "",
                 out.c_str());
  if (cut) {
    print_note(g_stop ? "interrupted; the results so far are in " + out : "some units met a transient error; run again");
    return g_stop ? 130 : 4;
  }
  return m.first_error ? exit_code_for(*m.first_error) : 0;
}

int run_command(RunArgs& a) {
  if (a.jobs < 1) throw ConfigError("--jobs must be at least 1");
  if (a.jobs > 1) {
    a.apply();
    return run_in_jobs(a);
  }
  a.o.cancel = &g_stop;
  a.o.on_note = print_note;
  a.o.on_progress = ProgressDisplay(a.progress_every);
  a.apply();
  framepipe::Runner runner(a.model, a.o);
  // Ctrl-C / SIGTERM: stop taking batches, let the write stage finish what it holds, close
  // every output. A second signal ends the process at once.
  g_stop = false;
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  RunSummary s;
  try {
    s = runner.run(a.inputs);
  } catch (...) {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    throw;
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  return report(s, a.o);
}

}  // namespace

void ModelRunArgs::apply() {
  o.reader.input_options = parse_input_options(input_options);
  o.reader.autorotate = !no_autorotate;
}

void add_model_run_options(CLI::App* cmd, ModelRunArgs& a) {
  RunOptions& o = a.o;
  cmd->add_option("--spec", o.spec,
                  "the model's description (a .json: task, input, labels, ...; README.md, \"The model description\"); "
                  "default: the .json beside the model")
      ->check(CLI::ExistingFile);
  cmd->add_option("--sample", o.sample,
                  "which frames or clips (default: every frame; for clip models, consecutive clips of the model's "
                  "length):\n" + std::string(sample_grammar()));
  cmd->add_option("--batch", o.batch, "rows (frames or clips) per model call")->capture_default_str();
  cmd->add_option("--top-k", o.top_k, "classes kept per result")->capture_default_str();
  cmd->add_option("--aggregate", o.aggregate, "none | vote | mean | ema: smooth class scores over time")
      ->capture_default_str();
  cmd->add_option("--window", o.window, "vote and mean: results in the window")->capture_default_str();
  cmd->add_option("--alpha", o.alpha, "ema: weight of the newest result")->capture_default_str();
  cmd->add_flag("--segments", o.segments,
                "write events {label, start, end, score}: a class's (smoothed) score reaching --on opens one, falling "
                "below --off closes it; detectors score a class by its best box");
  cmd->add_option("--on", o.on, "segments: opening score")->capture_default_str();
  cmd->add_option("--off", o.off, "segments: closing score")->capture_default_str();
  cmd->add_option("--min-duration", o.min_duration, "segments: shortest event kept, seconds")->capture_default_str();
  cmd->add_flag("--track", o.track, "detectors: give boxes track ids that last (ByteTrack-style), boxes smoothed");
  cmd->add_option("--conf", o.conf, "detectors: least score kept (default: the model description's)");
  cmd->add_option("--iou", o.iou, "detectors: NMS overlap (default: the model description's)");
  cmd->add_option("--engine", o.engine, "auto | torchscript | opencv")->capture_default_str();
  cmd->add_option("--model-threads", o.model_threads, "threads of the model engine (0: every core)");
  cmd->add_option("--threads", o.reader.threads, "decoder threads (0: FFmpeg's choice)");
  cmd->add_option("--workers", o.reader.workers, "decoders for separate keyframe groups (0: one per core, 1: off)");
  cmd->add_flag("--strict", o.reader.strict, "damaged data in a video is an error instead of being concealed");
  cmd->add_option("--device", o.reader.device, "decode on: cpu, or cuda / cuda:N (NVDEC; frames are the CPU's)")
      ->capture_default_str();
  cmd->add_flag("--no-autorotate", a.no_autorotate,
                "frames as stored, not turned upright (boxes then in stored pixels; an annotated copy keeps the matrix)");
  add_input_options(cmd, a.input_options);
}

Command add_run(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Run a model over videos: sample, batch, infer, post-process, aggregate over time; "
                                        "results as JSON Lines");
  auto a = std::make_shared<RunArgs>();
  RunOptions& o = a->o;
  std::string builtins;
  for (const auto& b : builtin_models()) builtins += (builtins.empty() ? "" : ", ") + b;
  cmd->add_option("MODEL", a->model,
                  "a TorchScript (.pt) or ONNX (.onnx) model with its description (.json) beside it, or one of: " +
                      builtins)
      ->required();
  cmd->add_option("INPUT", a->inputs, "video files, folders of them, or .txt lists (one per line)")->required();
  cmd->add_option("--out", o.out,
                  "results file: JSON Lines, or CSV when it ends in .csv; written as NAME.part.EXT and renamed when done; "
                  "- for stdout")
      ->capture_default_str();
  cmd->add_option("--annotate", o.annotate,
                  "write a copy of the video with the results drawn on every frame (H.264, the source's timestamps "
                  "and audio); with several inputs, a folder for NAME.mp4 files");
  cmd->add_option("--embeddings", o.embeddings,
                  "embedding models: every embedding as one N x D float32 .npy here (the result lines name their "
                  "row as embedding_row) instead of inline");
  cmd->add_option("--format", o.annotate_format,
                  "the annotated copy's container (mp4, matroska, mpegts, flv, hls, ...); default: from its name or "
                  "its URL's scheme (rtmp: flv; srt, udp, tcp: mpegts; rtsp)");
  cmd->add_option("--hls-window", o.hls_window, "an .m3u8 annotated copy keeps only its last N segments (0: all)");
  cmd->add_option("--preview", o.preview,
                  "[HOST:]PORT: serve a page to watch the run (the annotated picture, the latest results and "
                  "stage metrics) on 127.0.0.1 unless HOST is given; PORT 0 picks a free one; the URL is printed");
  cmd->add_option("--metrics", o.metrics,
                  "write per-stage metrics (rows/s, latency p50/p95, queue depth, drops) as JSON here; they are "
                  "printed on stderr in any case");
  add_model_run_options(cmd, *a);
  cmd->add_option("--progress-every", a->progress_every,
                  "seconds between progress lines where stderr is not a terminal (a log file, a pipe); a terminal "
                  "gets a bar")
      ->capture_default_str();
  cmd->add_option("--jobs", a->jobs,
                  "videos (or parts of long ones) at once, each with its own model: for many small files, where frame "
                  "threads cannot fill the cores; results only (no --annotate, --embeddings, --live)")
      ->capture_default_str();
  cmd->add_flag("--live", o.live,
                "read INPUT as a live stream (implied by rtsp://, udp://, ..., /dev/videoN, and an http(s) URL without "
                "duration or seeking; an http(s) URL of a file is a file): captured on its own thread, "
                "reconnected with back-off when it drops, a \"gap\" line for each outage");
  cmd->add_option("--queue", o.queue,
                  "live: latest (the model always gets the newest frame) | drop-oldest | block")
      ->capture_default_str();
  cmd->add_option("--duration", o.duration, "live: stop after this many seconds (0: until the stream ends or Ctrl-C)");
  cmd->add_option("--timeout", o.timeout, "live: seconds to wait for the stream to open or deliver data")
      ->capture_default_str();
  cmd->add_option("--reconnects", o.reconnects, "live: tries per outage before giving up (-1: keep trying)")
      ->capture_default_str();
  cmd->add_option("--rtsp-transport", o.reader.rtsp_transport,
                  "rtsp:// input: tcp (RTP inside the RTSP connection: nothing lost) | udp | udp_multicast | http | https")
      ->capture_default_str();
  cmd->add_option("--batch-timeout", o.batch_timeout_ms,
                  "live: milliseconds to wait for a batch to fill once its first frame is in (0: run what is there)")
      ->capture_default_str();

  return [a] { return run_command(*a); };
}

}  // namespace framepipe::cli
