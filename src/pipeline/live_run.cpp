// A live stream through the model: capture thread -> queue (latest by default) -> batch ->
// model -> result lines, with the outages as "gap" lines and, on request, a recording.
#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "framepipe/error.hpp"
#include "framepipe/image/frame_ops.hpp"
#include "framepipe/pipeline/live_source.hpp"
#include "pipeline/run_context.hpp"
#include "sinks/annotated_video.hpp"

namespace framepipe {

namespace {

class LiveRun {
 public:
  LiveRun(RunContext& c, const std::string& url, const std::string& annotated)
      : c_(c), a_(c.options), url_(url), sampler_(c.sample) {
    if (c.spec.clip_len > 1) throw ConfigError("live input runs frame models; " + c.spec.name + " takes clips");
    // sampler_ (constructed above) refuses the samples a stream cannot decide frame by frame.
    live_ = std::make_unique<LiveSource>(url, live_options(annotated), [this](const Gap& g) {
      std::lock_guard lock(gap_mutex_);
      gaps_.push_back(g);
    });
    stage_ = std::make_unique<ResultStage>(c.spec, url, *c.writer, c.results);
    if (!annotated.empty() || c.preview) {
      if (c.spec.channels == PixelFormat::Gray)
        throw ConfigError("--annotate and --preview draw on colour frames; " + c.spec.name + " takes gray ones");
      annotator_ = std::make_unique<LiveAnnotator>(annotated, c.spec.channels, live_->audio(), c.preview,
                                                   c.options.annotate_format, c.options.hls_window);
    }
  }

  InputOutcome run() {
    started_ = std::chrono::steady_clock::now();
    while (!c_.stopped() && !out_of_time()) {
      write_gaps();
      const Fill got = fill_batch();
      if (got == Fill::Batch) infer_batch();
      else if (got == Fill::Nothing && live_->ended()) break;
    }
    return finish();
  }

 private:
  // An annotated copy is recorded at the source's size: frames are captured at that size and
  // each one the model takes is resized to its input here (the decoder's fused resize serves
  // runs without a copy).
  LiveOptions live_options(const std::string& annotated) {
    LiveOptions lo;
    lo.reader = reader_options_for(c_.spec, a_.reader);
    model_image_ = lo.reader.image;
    resize_here_ = (!annotated.empty() || c_.preview) && model_image_.width > 0;
    if (resize_here_) lo.reader.image.width = lo.reader.image.height = 0;  // colour options stay
    lo.reader.open_timeout_ms = lo.reader.read_timeout_ms = static_cast<int>(a_.timeout * 1000);
    lo.policy = parse_queue_policy(a_.queue);
    lo.max_reconnects = a_.reconnects;
    lo.audio = !annotated.empty();  // the annotated copy keeps the stream's audio
    return lo;
  }

  bool out_of_time() const { return a_.duration > 0 && seconds_since(started_) >= a_.duration; }

  void write_gaps() {
    std::vector<Gap> ready;
    {
      std::lock_guard lock(gap_mutex_);
      ready.swap(gaps_);
    }
    for (const auto& g : ready) stage_->gap(g);
  }

  // A batch of sampled frames of one size: the first as it comes, the rest as long as the
  // batch timeout lets them.
  enum class Fill { Nothing, Skipped, Batch };  // no frame came; one came that the sample skips
  Fill fill_batch() {
    std::optional<LiveFrame> first;
    const bool was_carried = carried_.has_value();  // then the sampler has taken it already
    if (was_carried) first.swap(carried_);
    else first = live_->next(std::chrono::milliseconds(100));
    if (!first) return Fill::Nothing;
    if (!was_carried && !sampler_.accept(first->frame.info)) return Fill::Skipped;
    batch_.clear();
    batch_.push_back(std::move(*first));
    const auto fill_until =
        std::chrono::steady_clock::now() + std::chrono::duration<double, std::milli>(a_.batch_timeout_ms);
    while (static_cast<int64_t>(batch_.size()) < a_.batch) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(fill_until - std::chrono::steady_clock::now());
      auto more = live_->next(std::max(left, std::chrono::milliseconds(0)));
      if (!more) break;
      if (!sampler_.accept(more->frame.info)) continue;
      const Frame& f0 = batch_.front().frame;
      if (more->frame.width != f0.width || more->frame.height != f0.height) {
        carried_ = std::move(more);  // a reconnect at another size: the next batch's first
        break;
      }
      batch_.push_back(std::move(*more));
    }
    return Fill::Batch;
  }

  // The model's inputs: the frames as captured, or resized here (see live_options).
  Geometry model_inputs() {
    frames_.clear();
    if (!resize_here_) {
      for (const auto& lf : batch_) frames_.push_back(&lf.frame);
      return live_->geometry();
    }
    const Frame& f0 = batch_.front().frame;
    const Geometry g = make_geometry(f0.width, f0.height, model_image_);
    resized_.resize(batch_.size());
    for (size_t r = 0; r < batch_.size(); ++r) {
      resize_frame(batch_[r].frame, g, model_image_, resized_[r]);
      frames_.push_back(&resized_[r]);
    }
    return g;
  }

  void infer_batch() {
    const auto t0 = std::chrono::steady_clock::now();
    const Geometry model_geometry = model_inputs();
    auto preds = predict_frames(c_.backend, frames_, model_geometry, buffer_, a_.top_k);
    const auto t1 = std::chrono::steady_clock::now();
    const auto n = static_cast<int64_t>(batch_.size());
    c_.infer.record(std::chrono::duration<double>(t1 - t0).count(), n);
    for (size_t r = 0; r < batch_.size(); ++r) {
      LiveFrame& lf = batch_[r];
      const double age = std::chrono::duration<double>(t1 - lf.arrived).count();
      c_.write.record_age(age);
      RowPrediction row{{lf.frame.info}, std::move(preds[r])};
      stage_->row(row, ResultLine{{"wall", round_to(lf.wall, 3)},
                                  {"age_ms", round_to(age * 1e3, 1)},
                                  {"connection", lf.connection}});
      if (annotator_)
        annotator_->frame(lf.frame, lf.recording_offset, row.prediction, resize_here_ ? Geometry{} : model_geometry,
                          live_->time_base());
    }
    c_.rows += n;
    c_.writer->flush();
    c_.write.record(seconds_since(t1), n);
    c_.progress("run " + url_, stage_->done(), 0, false);
  }

  InputOutcome finish() {
    InputOutcome out;
    out.gave_up = !c_.stopped() && !out_of_time() && live_->ended();
    c_.write.set_queue(live_->queue_max_depth(), live_->queue_capacity(), live_->dropped());
    live_.reset();  // ends the capture thread; a last outage is reported
    write_gaps();
    stage_->finish();
    if (annotator_)
      for (const auto& n : annotator_->finish()) c_.note(n);
    c_.progress("run " + url_, stage_->done(), 0, true);
    out.interrupted = c_.stopped();
    if (out.gave_up) c_.note(url_ + ": the stream ended and did not come back");
    return out;
  }

  RunContext& c_;
  const RunOptions& a_;
  std::string url_;
  StreamSampler sampler_;
  ImageOptions model_image_;
  bool resize_here_ = false;
  std::mutex gap_mutex_;
  std::vector<Gap> gaps_;  // from the capture thread, written out here
  std::unique_ptr<LiveSource> live_;
  std::unique_ptr<ResultStage> stage_;
  std::unique_ptr<LiveAnnotator> annotator_;
  std::chrono::steady_clock::time_point started_;
  Tensor buffer_;
  std::vector<LiveFrame> batch_;
  std::vector<Frame> resized_;          // the model's input, when frames come at the source size
  std::optional<LiveFrame> carried_;    // accepted, but of another size than the batch before it
  std::vector<const Frame*> frames_;
};

}  // namespace

InputOutcome run_live(RunContext& c, const std::string& url, const std::string& annotated) {
  return LiveRun(c, url, annotated).run();
}

}  // namespace framepipe
