// Predictions to result lines (DESIGN.md, Results), in order, one video at a time: smoothing,
// tracking and events keep their state from row to row; the annotator (files) gets every
// result.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framepipe/infer/model_spec.hpp"
#include "framepipe/pipeline/live_source.hpp"
#include "framepipe/pipeline/predict.hpp"
#include "framepipe/temporal/temporal.hpp"
#include "sinks/result_writer.hpp"

namespace framepipe {

class Annotator;
class NpyAppender;

struct ResultOptions {
  NpyAppender* embeddings = nullptr;  // embed models: rows go here, lines name the row
  Aggregate aggregate = Aggregate::None;
  int window = 5, top_k = 5;
  float alpha = 0.3f;
  bool track = false, segments = false;
  SegmentOptions events;
};

class ResultStage {
 public:
  ResultStage(const ModelSpec& spec, std::string video, ResultWriter& writer, const ResultOptions& o,
              Annotator* annotator = nullptr);
  // `extra` fields (live: "wall", "age_ms", "connection") go after the provenance.
  void row(RowPrediction& row, const ResultLine& extra = ResultLine::object());
  void gap(const Gap& g);  // a live stream's outage
  // Open events end where the last result's time span ends (one step past its start).
  void finish();
  int64_t done() const { return done_; }

 private:
  std::vector<float> payload(Prediction& p, ResultLine& j);
  void write_segments(const std::vector<Segment>& closed);

  const ModelSpec& spec_;
  std::string video_;
  ResultWriter& writer_;
  ResultOptions o_;
  ScoreSmoother smoother_;
  SegmentBuilder segments_;
  Tracker tracker_;
  Annotator* annotator_;
  int64_t done_ = 0;
  double last_t_ = 0, last_step_ = 0;
};

// Scores to 4 decimals and pixels to 2: enough for any use, and lines stay readable.
double round_to(double v, int decimals);

}  // namespace framepipe
