#include "framepipe/post/post.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "framepipe/error.hpp"

namespace framepipe {

std::vector<float> softmax(std::span<const float> logits) {
  std::vector<float> out(logits.size());
  if (logits.empty()) return out;
  const float m = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (size_t i = 0; i < logits.size(); ++i) sum += out[i] = std::exp(logits[i] - m);
  for (float& v : out) v = static_cast<float>(v / sum);
  return out;
}

std::vector<ClassScore> top_k(std::span<const float> scores, int k, const std::vector<std::string>& labels) {
  std::vector<int> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  size_t n = (k <= 0 || static_cast<size_t>(k) > scores.size()) ? scores.size() : static_cast<size_t>(k);
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(), [&](int a, int b) {
    return scores[static_cast<size_t>(a)] > scores[static_cast<size_t>(b)] ||
           (scores[static_cast<size_t>(a)] == scores[static_cast<size_t>(b)] && a < b);
  });
  std::vector<ClassScore> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<size_t>(order[i]);
    out.push_back({order[i], label_name(labels, order[i]), scores[c]});
  }
  return out;
}

void l2_normalize(std::span<float> v) {
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  if (sum <= 0) return;
  const double inv = 1.0 / std::sqrt(sum);
  for (float& x : v) x = static_cast<float>(x * inv);
}

double iou(const std::array<double, 4>& a, const std::array<double, 4>& b) {
  const double aw = a[2] - a[0], ah = a[3] - a[1], bw = b[2] - b[0], bh = b[3] - b[1];
  if (aw <= 0 || ah <= 0 || bw <= 0 || bh <= 0) return 0;
  const double iw = std::min(a[2], b[2]) - std::max(a[0], b[0]);
  const double ih = std::min(a[3], b[3]) - std::max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const double inter = iw * ih;
  return inter / (aw * ah + bw * bh - inter);
}

std::vector<size_t> nms(const std::vector<Detection>& dets, float iou_threshold, bool class_agnostic, int max_keep) {
  std::vector<size_t> order(dets.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return dets[a].score > dets[b].score; });
  std::vector<size_t> kept;
  for (size_t i : order) {
    bool keep = true;
    for (size_t k : kept) {
      if (!class_agnostic && dets[k].cls != dets[i].cls) continue;
      if (iou(dets[k].box, dets[i].box) > iou_threshold) {
        keep = false;
        break;
      }
    }
    if (!keep) continue;
    kept.push_back(i);
    if (max_keep > 0 && kept.size() >= static_cast<size_t>(max_keep)) break;
  }
  return kept;
}

std::vector<Detection> decode_yolo(const float* data, int64_t anchors, int64_t attributes, DetectLayout layout,
                                   float conf, const std::vector<std::string>& labels) {
  const bool v5 = layout == DetectLayout::YoloV5;
  const int64_t first_class = v5 ? 5 : 4;
  const int64_t classes = attributes - first_class;
  if (classes < 1)
    throw ModelError(std::string("detector output has ") + std::to_string(attributes) + " values per box; " +
                     to_string(layout) + " needs at least " + std::to_string(first_class + 1));
  // v5: anchor-major rows; v8: attribute-major (transposed).
  auto at = [&](int64_t a, int64_t k) { return v5 ? data[a * attributes + k] : data[k * anchors + a]; };
  std::vector<Detection> out;
  for (int64_t a = 0; a < anchors; ++a) {
    const float obj = v5 ? at(a, 4) : 1.f;
    if (obj < conf) continue;
    int64_t best = 0;
    float best_score = at(a, first_class);
    for (int64_t c = 1; c < classes; ++c) {
      float s = at(a, first_class + c);
      if (s > best_score) best_score = s, best = c;
    }
    const float score = obj * best_score;
    if (score < conf) continue;
    const double cx = at(a, 0), cy = at(a, 1), w = at(a, 2), h = at(a, 3);
    Detection d;
    d.box = {cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2};
    d.cls = static_cast<int>(best);
    d.label = label_name(labels, best);
    d.score = score;
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<float> class_presence(const Prediction& p, size_t classes) {
  std::vector<float> s(classes, 0.f);
  for (const auto& d : p.objects) {
    const auto c = static_cast<size_t>(d.cls);
    if (d.cls >= 0 && c < classes) s[c] = std::max(s[c], d.score);
  }
  return s;
}

namespace {

const NamedTensor& first_output(const ModelSpec& spec, const std::vector<NamedTensor>& outputs) {
  if (outputs.empty()) throw ModelError("model " + spec.name + ": no output to post-process");
  return outputs.front();
}

std::string shape_text(const std::vector<int64_t>& s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

// Rows of an [N, ...] output as N flat vectors of the remaining size.
int64_t row_size(const ModelSpec& spec, const Tensor& t, int64_t rows) {
  if (t.shape().empty() || t.shape()[0] != rows)
    throw ModelError("model " + spec.name + ": output shape " + shape_text(t.shape()) + " does not start with the batch's " +
                     std::to_string(rows) + " rows");
  return rows ? t.numel() / rows : 0;
}

void finish_detections(const ModelSpec& spec, const Geometry& g, std::vector<Detection>& dets) {
  const DetectOptions& o = spec.detect;
  std::vector<size_t> kept = nms(dets, o.iou, o.class_agnostic, o.max_detections);
  std::vector<Detection> out;
  out.reserve(kept.size());
  for (size_t k : kept) {
    Detection d = std::move(dets[k]);
    d.box = g.box_to_source(d.box);
    if (d.box[2] > d.box[0] && d.box[3] > d.box[1]) out.push_back(std::move(d));
  }
  dets = std::move(out);
}

}  // namespace

std::vector<Prediction> postprocess(const ModelSpec& spec, const std::vector<NamedTensor>& outputs,
                                    const Geometry& geometry, int k) {
  const Tensor& t = first_output(spec, outputs).tensor;
  const auto& shape = t.shape();
  const float* data = t.data_as<float>();

  if (spec.task == Task::Detect && spec.detect.layout == DetectLayout::Boxes) {
    // [K, 7]: row, x1, y1, x2, y2, score, class; rows may be missing (nothing found).
    if (shape.size() != 2 || shape[1] != 7)
      throw ModelError("model " + spec.name + ": boxes output must be [K, 7], got " + shape_text(shape));
    int64_t rows = 0;
    for (int64_t i = 0; i < shape[0]; ++i) rows = std::max(rows, static_cast<int64_t>(data[i * 7]) + 1);
    std::vector<Prediction> preds(static_cast<size_t>(rows));
    for (int64_t i = 0; i < shape[0]; ++i) {
      const float* r = data + i * 7;
      if (r[5] < spec.detect.conf) continue;
      Detection d;
      d.box = {r[1], r[2], r[3], r[4]};
      d.score = r[5];
      d.cls = static_cast<int>(r[6]);
      d.label = spec.label(d.cls);
      preds[static_cast<size_t>(r[0])].objects.push_back(std::move(d));
    }
    for (auto& p : preds) finish_detections(spec, geometry, p.objects);
    return preds;
  }

  if (shape.empty()) throw ModelError("model " + spec.name + ": output is a scalar");
  const int64_t rows = shape[0];
  const int64_t per_row = row_size(spec, t, rows);
  std::vector<Prediction> preds(static_cast<size_t>(rows));
  for (int64_t n = 0; n < rows; ++n) {
    Prediction& p = preds[static_cast<size_t>(n)];
    const float* row = data + n * per_row;
    switch (spec.task) {
      case Task::Classify:
      case Task::ClipClassify: {
        std::span<const float> raw(row, static_cast<size_t>(per_row));
        p.scores = spec.logits ? softmax(raw) : std::vector<float>(raw.begin(), raw.end());
        p.top = top_k(p.scores, k, spec.labels);
        break;
      }
      case Task::Embed:
        p.embedding.assign(row, row + per_row);
        l2_normalize(p.embedding);
        break;
      case Task::Detect: {
        if (shape.size() != 3)
          throw ModelError("model " + spec.name + ": a " + to_string(spec.detect.layout) +
                           " detector output must be [N, A, 5 + C] (yolov5) or [N, 4 + C, A] (yolov8), got " +
                           shape_text(shape));
        const bool v5 = spec.detect.layout == DetectLayout::YoloV5;
        const int64_t anchors = v5 ? shape[1] : shape[2], attrs = v5 ? shape[2] : shape[1];
        p.objects = decode_yolo(row, anchors, attrs, spec.detect.layout, spec.detect.conf, spec.labels);
        finish_detections(spec, geometry, p.objects);
        break;
      }
    }
  }
  return preds;
}

}  // namespace framepipe
