// A file through the model: decode + pack on the loader's thread, the model on this one,
// results on a write thread behind a bounded queue (block: nothing dropped).
#include <exception>
#include <filesystem>
#include <memory>
#include <thread>

#include "framepipe/error.hpp"
#include "framepipe/bounded_queue.hpp"
#include "pipeline/run_context.hpp"
#include "sinks/annotated_video.hpp"

namespace framepipe {

namespace {

// The write stage: its own thread, fed through a bounded queue; its error stops the infer
// stage at its next push and is rethrown by join().
class WriteStage {
 public:
  explicit WriteStage(std::function<void(std::vector<RowPrediction>&)> write)
      : queue_(4, QueuePolicy::Block), thread_([this, write = std::move(write)] {
          try {
            while (auto rows = queue_.pop()) write(*rows);
          } catch (...) {
            error_ = std::current_exception();
            queue_.close();
          }
        }) {}
  ~WriteStage() {
    if (thread_.joinable()) {
      queue_.close();
      thread_.join();
    }
  }
  void push(std::vector<RowPrediction>& rows) {
    if (!queue_.push(std::move(rows))) throw IoError("the write stage stopped");
  }
  // Drains what is queued, then ends; rethrows the write stage's error.
  void join() {
    queue_.close();
    thread_.join();
    if (error_) std::rethrow_exception(error_);
  }
  const BoundedQueue<std::vector<RowPrediction>>& queue() const { return queue_; }

 private:
  BoundedQueue<std::vector<RowPrediction>> queue_;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace

InputOutcome run_file(RunContext& c, const std::string& video, const std::string& annotated) {
  const RunOptions& a = c.options;
  VideoReader reader(Source(video), reader_options_for(c.spec, a.reader));
  const SamplePlan plan = plan_sample(c.sample, reader);
  std::unique_ptr<Annotator> annotator;
  if (!annotated.empty() || c.preview)
    annotator = std::make_unique<Annotator>(video, annotated, a.reader, c.preview, a.annotate_format, a.hls_window);
  ResultStage stage(c.spec, video, *c.writer, c.results, annotator.get());
  const std::string label = "run " + std::filesystem::path(video).filename().string();
  const auto total = static_cast<int64_t>(plan.rows());
  c.progress(label, 0, total, false);  // the input's clock starts here: rates count from it
  WriteStage writes([&](std::vector<RowPrediction>& rows) {
    const auto t0 = std::chrono::steady_clock::now();
    for (auto& row : rows) stage.row(row);
    c.rows += static_cast<int64_t>(rows.size());
    c.writer->flush();
    c.progress(label, stage.done(), total, false);
    c.write.record(seconds_since(t0), static_cast<int64_t>(rows.size()));
  });
  PredictHooks hooks;
  hooks.cancel = &c.cancel;
  hooks.decoded = [&](double sec, int64_t n) { c.decode.record(sec, n); };
  hooks.inferred = [&](double sec, int64_t n) { c.infer.record(sec, n); };
  bool complete = false;
  try {
    complete = predict(reader, c.backend, plan, a.batch, [&](std::vector<RowPrediction>& rows) { writes.push(rows); },
                       a.top_k, hooks);
  } catch (...) {
    writes.join();
    throw;
  }
  writes.join();
  c.write.set_queue(writes.queue().max_depth(), writes.queue().capacity(), writes.queue().dropped());
  stage.finish();
  if (annotator)
    for (const auto& n : annotator->finish(complete)) c.note(n);
  c.progress(label, stage.done(), total, true);
  if (!complete) return InputOutcome{true, false};
  if (reader.damage_reports() > 0)
    c.note(video + ": the decoder met damaged data " + std::to_string(reader.damage_reports()) +
           " times (concealed or skipped; --strict makes it fatal)");
  return {};
}

}  // namespace framepipe
