#include "pipeline/result_stage.hpp"

#include <algorithm>
#include <cmath>

#include "framepipe/sinks/npy_appender.hpp"
#include "sinks/annotated_video.hpp"

namespace framepipe {

namespace {

ResultLine classes_json(const std::vector<ClassScore>& top) {
  ResultLine a = ResultLine::array();
  for (const auto& c : top) a.push_back({{"label", c.label}, {"index", c.index}, {"score", round_to(c.score, 4)}});
  return a;
}

ResultLine objects_json(const std::vector<Detection>& objects) {
  ResultLine objs = ResultLine::array();
  for (const auto& d : objects) {
    ResultLine obj{{"box", {round_to(d.box[0], 2), round_to(d.box[1], 2), round_to(d.box[2], 2), round_to(d.box[3], 2)}},
                   {"label", d.label},
                   {"score", round_to(d.score, 4)}};
    if (d.track_id >= 0) obj["track"] = d.track_id;
    objs.push_back(std::move(obj));
  }
  return objs;
}

// Where a result line was taken: one frame, or every frame of a clip.
void put_provenance(ResultLine& j, const std::vector<FrameInfo>& frames) {
  if (frames.size() == 1) {
    j["frame"] = frames[0].index;
    j["pts"] = frames[0].pts;
    j["t"] = frames[0].t;
    return;
  }
  ResultLine idx = ResultLine::array(), pts = ResultLine::array(), ts = ResultLine::array();
  for (const auto& f : frames) idx.push_back(f.index), pts.push_back(f.pts), ts.push_back(f.t);
  j["frames"] = std::move(idx);
  j["pts"] = std::move(pts);
  j["t"] = std::move(ts);
}

}  // namespace

double round_to(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

ResultStage::ResultStage(const ModelSpec& spec, std::string video, ResultWriter& writer, const ResultOptions& o,
                         Annotator* annotator)
    : spec_(spec), video_(std::move(video)), writer_(writer), o_(o), smoother_(o.aggregate, o.window, o.alpha),
      segments_(o.events, spec.labels), annotator_(annotator) {}

void ResultStage::row(RowPrediction& row, const ResultLine& extra) {
  ResultLine j{{"video", video_}};
  put_provenance(j, row.frames);
  for (auto& [k, v] : extra.items()) j[k] = v;
  Prediction& p = row.prediction;
  const std::vector<float> scores = payload(p, j);
  writer_.line(j);
  if (annotator_) annotator_->result(row.frames.front().index, p);
  const double t = row.frames.front().t;
  if (o_.segments && !scores.empty()) write_segments(segments_.push(t, row.frames.front().index, scores));
  if (done_ > 0 && t > last_t_) last_step_ = t - last_t_;
  last_t_ = row.frames.back().t;
  ++done_;
}

// The task's fields of a line; returns the class scores that events follow (none for embeddings).
std::vector<float> ResultStage::payload(Prediction& p, ResultLine& j) {
  switch (spec_.task) {
    case Task::Classify:
    case Task::ClipClassify: {
      j["classes"] = classes_json(p.top);
      if (o_.aggregate == Aggregate::None) return p.scores;
      std::vector<float> scores = smoother_.push(p.scores);
      j["smoothed"] = classes_json(top_k(scores, o_.top_k, spec_.labels));
      return scores;
    }
    case Task::Detect:
      if (o_.track) p.objects = tracker_.update(p.objects);
      j["objects"] = objects_json(p.objects);
      return class_presence(p, std::max<size_t>(spec_.labels.size(), 1));
    case Task::Embed: {
      if (o_.embeddings) {
        j["embedding_row"] = o_.embeddings->append(p.embedding);
        return {};
      }
      ResultLine e = ResultLine::array();
      for (float v : p.embedding) e.push_back(round_to(v, 6));
      j["embedding"] = std::move(e);
      return {};
    }
  }
  return {};
}

void ResultStage::gap(const Gap& g) {
  writer_.line({{"video", video_},
                {"gap",
                 {{"start", round_to(g.start, 3)}, {"end", round_to(g.end, 3)}, {"last_t", g.last_t},
                  {"next_t", g.next_t}, {"attempts", g.attempts}, {"reason", g.reason}}}});
}

void ResultStage::finish() {
  if (o_.segments) write_segments(segments_.finish(last_t_ + std::max(last_step_, 0.0)));
}

void ResultStage::write_segments(const std::vector<Segment>& closed) {
  for (const auto& s : closed)
    writer_.line({{"video", video_},
                  {"segment",
                   {{"label", s.label}, {"start", s.start}, {"end", s.end}, {"score", round_to(s.score, 4)},
                    {"first_frame", s.first_frame}, {"last_frame", s.last_frame}}}});
}

}  // namespace framepipe
