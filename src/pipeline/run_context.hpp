// What the runs of one Runner share: the model, the options, the result file, the metrics.
// A file run and a live run (file_run.cpp, live_run.cpp) each take one input through it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "framepipe/infer/backend.hpp"
#include "framepipe/pipeline/metrics.hpp"
#include "framepipe/pipeline/run.hpp"
#include "framepipe/sample/sampling.hpp"
#include "pipeline/result_stage.hpp"
#include "sinks/preview_server.hpp"

namespace framepipe {

struct RunContext {
  RunContext(const RunOptions& o, const ModelSpec& m, Backend& b, const SampleSpec& s, const std::atomic<bool>& stop)
      : options(o), spec(m), backend(b), sample(s), cancel(stop) {}
  const RunOptions& options;
  const ModelSpec& spec;
  Backend& backend;
  const SampleSpec& sample;
  const std::atomic<bool>& cancel;
  ResultWriter* writer = nullptr;  // set while a run is on
  PreviewServer* preview = nullptr;  // run --preview: the pictures drawn and the results go there too
  ResultOptions results;
  StageMetrics decode{"decode"}, infer{"infer"}, write{"write"};
  int64_t rows = 0;                // result rows written, over every input
  mutable std::string progress_label_;
  mutable std::chrono::steady_clock::time_point progress_start_;

  bool stopped() const { return cancel.load(); }
  void note(const std::string& text) const {
    if (options.on_note) options.on_note(text);
  }
  // An input's rows so far, with the rate since its first update and the time left.
  void progress(const std::string& label, int64_t done, int64_t total, bool finished) const {
    if (!options.on_progress) return;
    const auto now = std::chrono::steady_clock::now();
    if (label != progress_label_) progress_label_ = label, progress_start_ = now;
    ProgressUpdate u{label, done, total, 0, -1, finished};
    const double secs = std::chrono::duration<double>(now - progress_start_).count();
    u.rate = secs > 0 ? done / secs : 0;
    if (total > 0 && u.rate > 0) u.eta = (total - done) / u.rate;
    options.on_progress(u);
  }
};

// How one input ended, where it did not throw.
struct InputOutcome {
  bool interrupted = false;   // the cancel flag stopped it
  bool gave_up = false;       // a live stream ended and did not come back
};

// `annotated`: the annotated copy's path ("" for none).
InputOutcome run_file(RunContext& c, const std::string& video, const std::string& annotated);
InputOutcome run_live(RunContext& c, const std::string& url, const std::string& annotated);

// What a Runner derives from its options, for the corpus merge, which replays the result
// stage without a model: the sample spec, the result options (refusing what does not fit the
// model), the model description with --conf/--iou applied.
SampleSpec run_sample_spec(const RunOptions& o, const ModelSpec& spec);
ResultOptions run_result_options(const RunOptions& o, const ModelSpec& spec);
ModelSpec run_model_spec(const std::string& model, const RunOptions& o);

inline double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace framepipe
