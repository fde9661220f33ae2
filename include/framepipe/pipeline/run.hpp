// The main job: a model over video files, folders, lists or live streams. Decoding and
// packing run on a loader thread, the model on the caller's, results on a write thread
// behind a bounded queue; results go to JSON Lines or CSV (DESIGN.md), to a callback, or both,
// and an annotated copy of each file keeps its timestamps and audio.
//
//   framepipe::RunOptions o;
//   o.out = "results.jsonl";
//   o.track = true;
//   framepipe::Runner runner("builtin:hog-people", o);   // the model is loaded once
//   framepipe::RunSummary s = runner.run({"a.mp4", "b.mp4"});
//
// The CLI's `framepipe run` and the Python module's `framepipe.run` are this class.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "framepipe/error.hpp"
#include "framepipe/pipeline/inputs.hpp"
#include "framepipe/pipeline/predict.hpp"
#include "framepipe/pipeline/progress.hpp"
#include "framepipe/reader/video_reader.hpp"

namespace framepipe {

class Backend;

struct RunOptions {
  std::string spec;          // the model's description file; empty: the .json beside the model
  std::string sample;        // a sample spec; empty: every frame (clip models: consecutive clips)
  int64_t batch = 8;         // rows (frames or clips) per model call
  std::string out;           // results file: JSON Lines, or CSV for *.csv; "-": stdout; empty: none
  std::string annotate;      // annotated copy (H.264, source timestamps and audio); a folder
                             // for NAME.mp4 files when there are several inputs
  std::string embeddings;    // embed models: every embedding as one N x D .npy here
  std::string metrics;       // per-stage metrics as JSON here
  std::string annotate_format;  // the annotated copy's container (mp4, mpegts, flv, hls, ...);
                               // default: from its name or its URL's scheme
  int hls_window = 0;          // an .m3u8 annotated copy keeps its last N segments (0: all)
  std::string preview;       // "[HOST:]PORT": a page to watch the run (/, /video, /results);
                             // 127.0.0.1 unless a HOST is given; its URL is said as a note
  int top_k = 5;
  std::string aggregate = "none";  // none | vote | mean | ema
  int window = 5;
  float alpha = 0.3f;
  bool track = false;
  bool segments = false;
  float on = 0.6f, off = 0.4f;
  double min_duration = 0.0;
  float conf = -1.f, iou = -1.f;   // detectors; < 0: the model description's
  std::string engine = "auto";     // auto | torchscript | opencv
  int model_threads = 0;
  ReaderOptions reader;            // decoder threads, workers, strict
  // live
  bool live = false;               // read inputs as live streams (implied by a URL)
  std::string queue = "latest";    // latest | drop-oldest | block
  double duration = 0;             // seconds; 0: until the stream ends or cancel
  double timeout = 10;             // seconds to open or deliver data
  int reconnects = -1;             // tries per outage (-1: keep trying)
  double batch_timeout_ms = 0;     // wait for a batch to fill once its first frame is in

  const std::atomic<bool>* cancel = nullptr;  // set: stop between batches, close every output
  // Every result line (JSON text, the same as in the results file), in order, on the write
  // thread. An exception thrown here stops the run.
  std::function<void(const std::string&)> on_result;
  // What a user should know that is not a result, one sentence each, as it happens (audio
  // re-encoded or left out, damage met, a bad input skipped, results kept in a part file).
  std::function<void(const std::string&)> on_note;
  std::function<void(const ProgressUpdate&)> on_progress;  // each input's rows, as they are written
};

struct RunSummary {
  int64_t results = 0;     // result lines written (rows of every video)
  int64_t videos = 0;      // inputs after expanding folders and lists
  int64_t failed = 0;      // inputs that failed (an "error" line each) or streams that gave up
  bool interrupted = false;
  // The kind of the first failure: an input's error, or Transient for a stream that ended
  // and did not come back. None: every input done.
  std::optional<ErrorKind> error;
  std::string metrics_json;                 // [decode, infer, write] stage metrics
  std::vector<std::string> metrics_lines;   // the same, one line a stage
};

// What predict_rows did: the video's whole sample plan, and what this part of it met.
struct RowsOutcome {
  int64_t plan_rows = 0;   // rows of the video's whole sample plan
  int64_t damage = 0;      // decoder damage reports (concealed or skipped)
  bool complete = true;    // false: options.cancel stopped it between batches
};

// `spec` with the run's --conf and --iou where they are given.
ModelSpec spec_with_overrides(ModelSpec spec, const RunOptions& o);

class Runner {
 public:
  // `model`: a model file with its description, a description, or builtin:NAME.
  Runner(const std::string& model, RunOptions options);
  // A model file described by `spec` (parsed elsewhere: Python's spec= dict), opened as above.
  Runner(ModelSpec spec, RunOptions options);
  // A backend made elsewhere (e.g. a Python callable): used as it is.
  Runner(std::unique_ptr<Backend> backend, RunOptions options);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Every input through the model, one after another, into one results file. One bad input
  // among several becomes an "error" line and the rest go on; with one input, or a model,
  // config or I/O error, it throws (the results so far are kept in OUT.part).
  RunSummary run(const std::vector<std::string>& inputs);

  // A part of one video, for corpus runs (corpus/): rows [begin, end) of its sample plan
  // (end < 0: to the plan's end) through the model, batched as run() batches the whole plan
  // when begin is a multiple of the batch, handed to `sink` as the model gives them: before
  // smoothing, tracking and events, which need the rows before and are run over the whole
  // video at merge. `index`: the video's index, made when the corpus was planned (checked
  // against the file). Throws as run() does for a single input.
  RowsOutcome predict_rows(const std::string& video, int64_t begin, int64_t end,
                           const std::function<void(std::vector<RowPrediction>&)>& sink,
                           std::shared_ptr<const FrameIndex> index = nullptr);
  const ModelSpec& spec() const;

 private:
  void open(ModelSpec spec, RunOptions options);  // the spec with the run's overrides, its backend
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace framepipe
