#include "framepipe/post/post.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "framepipe/error.hpp"
#include "common/words.hpp"

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

std::array<double, 4> box_corners(double a, double b, double c, double d, BoxFormat f) {
  switch (f) {
    case BoxFormat::XYXY:
      return {a, b, c, d};
    case BoxFormat::XYWH:
      return {a, b, a + c, b + d};
    case BoxFormat::CXCYWH:
      break;
  }
  return {a - c / 2, b - d / 2, a + c / 2, b + d / 2};
}

std::vector<Detection> decode_yolo(const float* data, int64_t anchors, int64_t attributes, DetectLayout layout,
                                   float conf, const std::vector<std::string>& labels, BoxFormat box) {
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
    Detection d;
    d.box = box_corners(at(a, 0), at(a, 1), at(a, 2), at(a, 3), box);
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

std::string shape_text(const std::vector<int64_t>& s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

std::string outputs_text(const std::vector<NamedTensor>& outputs) {
  std::string t;
  for (size_t i = 0; i < outputs.size(); ++i)
    t += (i ? ", " : "") + std::to_string(i) + ": '" + outputs[i].name + "' " + shape_text(outputs[i].tensor.shape());
  return t;
}

// The output the description selects (select_output), or the first.
const NamedTensor& selected_output(const ModelSpec& spec, const std::vector<NamedTensor>& outputs) {
  if (outputs.empty()) throw ModelError("model " + spec.name + ": no output to post-process");
  if (!spec.output_name.empty()) {
    for (const auto& o : outputs)
      if (o.name == spec.output_name) return o;
    throw ModelError("model " + spec.name + ": no output named '" + spec.output_name +
                     "' (select_output); the model's outputs are " + outputs_text(outputs));
  }
  if (static_cast<size_t>(spec.output_index) >= outputs.size())
    throw ModelError("model " + spec.name + ": select_output is " + std::to_string(spec.output_index) + " but the model has " +
                     count_of(static_cast<int64_t>(outputs.size()), "output") + ": " + outputs_text(outputs));
  return outputs[static_cast<size_t>(spec.output_index)];
}

// An [N, ...] output must have a row for each of the batch's rows.
int64_t row_size(const ModelSpec& spec, const NamedTensor& out, int64_t rows) {
  const Tensor& t = out.tensor;
  if (t.shape().empty() || t.shape()[0] != rows)
    throw ModelError("model " + spec.name + ": output '" + out.name + "' " + shape_text(t.shape()) + " does not answer the batch: " +
                     count_of(rows, "row") + " went in, so its first dimension must be " + std::to_string(rows));
  return rows ? t.numel() / rows : 0;
}

void check_labels(const ModelSpec& spec, int64_t classes, const char* what) {
  if (spec.labels.empty() || static_cast<size_t>(classes) == spec.labels.size()) return;
  throw ModelError("model " + spec.name + " answers " + count_of(classes, "class", "classes") + " " + what + " but its description has " +
                   count_of(static_cast<int64_t>(spec.labels.size()), "label") +
                   ": the labels must name every class, in the model's order");
}

// Boxes in the model's input pixels (units normalised: times the input's size), then checked
// by the rules README.md states, once per model: boxes declared in pixels that all lie
// within 0-1.01 look normalised; boxes declared normalised with a number over 2 look like
// pixels; boxes of which none meets the input are reported as lying outside it.
void to_input_pixels(const ModelSpec& spec, std::vector<Detection>& dets) {
  if (dets.empty() || spec.width <= 0 || spec.height <= 0) return;
  double lo = 1e300, hi = -1e300;
  bool any_inside = false;
  for (auto& d : dets) {
    for (double v : d.box) lo = std::min(lo, v), hi = std::max(hi, v);
    if (spec.detect.normalized) {
      d.box = {d.box[0] * spec.width, d.box[1] * spec.height, d.box[2] * spec.width, d.box[3] * spec.height};
    }
    any_inside = any_inside || (d.box[2] > 0 && d.box[3] > 0 && d.box[0] < spec.width && d.box[1] < spec.height);
  }
  const std::string units = spec.detect.normalized ? "normalized" : "pixels";
  if (!spec.detect.normalized && hi <= 1.01 && lo >= -0.01 && std::min(spec.width, spec.height) >= 8)
    warn_once("units:" + spec.name, "model " + spec.name + ": every box lies within 0-1 of a " + std::to_string(spec.width) +
                                        "x" + std::to_string(spec.height) +
                                        " input: they look normalised; declare \"detect\": {\"units\": \"normalized\"}");
  else if (spec.detect.normalized && hi > 2)
    warn_once("units:" + spec.name, "model " + spec.name + ": boxes reach " + number_text(hi) +
                                        ", but \"units\" is normalized (0-1): they look like pixels; declare \"units\": \"pixels\"");
  else if (!any_inside)
    warn_once("outside:" + spec.name, "model " + spec.name + ": none of a batch's boxes meets the " + std::to_string(spec.width) +
                                          "x" + std::to_string(spec.height) + " input (boxes as " + to_string(spec.detect.box) +
                                          ", " + units + "); check \"detect\": \"box\" and \"units\"");
}

void finish_detections(const ModelSpec& spec, const Geometry& g, std::vector<Detection>& dets) {
  to_input_pixels(spec, dets);
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

Detection detection(const ModelSpec& spec, const float* box, float score, int cls) {
  Detection d;
  d.box = box_corners(box[0], box[1], box[2], box[3], spec.detect.box);
  d.score = score;
  d.cls = cls;
  d.label = spec.label(cls);
  return d;
}

// [K, 7]: row, box, score, class; rows may be missing (nothing found).
std::vector<Prediction> boxes_layout(const ModelSpec& spec, const NamedTensor& out, const Geometry& g, int64_t rows) {
  const auto& shape = out.tensor.shape();
  if (shape.size() != 2 || shape[1] != 7)
    throw ModelError("model " + spec.name + ": boxes output must be [K, 7], got " + shape_text(shape));
  const float* data = out.tensor.data_as<float>();
  std::vector<Prediction> preds(static_cast<size_t>(rows));
  for (int64_t i = 0; i < shape[0]; ++i) {
    const float* r = data + i * 7;
    const auto row = static_cast<int64_t>(r[0]);
    if (row < 0 || row >= rows)
      throw ModelError("model " + spec.name + ": a box of row " + std::to_string(row) + " in a batch of " + count_of(rows, "row"));
    if (r[5] < spec.detect.conf) continue;
    preds[static_cast<size_t>(row)].objects.push_back(detection(spec, r + 1, r[5], static_cast<int>(r[6])));
  }
  for (auto& p : preds) finish_detections(spec, g, p.objects);
  return preds;
}

// For each row, the outputs named boxes [K, 4], scores [K] and labels [K], in order.
std::vector<Prediction> torchvision_layout(const ModelSpec& spec, const std::vector<NamedTensor>& outputs,
                                           const Geometry& g, int64_t rows) {
  std::vector<const Tensor*> boxes, scores, labels;
  for (const auto& o : outputs) {
    if (o.name == "boxes") boxes.push_back(&o.tensor);
    if (o.name == "scores") scores.push_back(&o.tensor);
    if (o.name == "labels") labels.push_back(&o.tensor);
  }
  const auto n = static_cast<size_t>(rows);
  if (boxes.size() != n || scores.size() != n || labels.size() != n)
    throw ModelError("model " + spec.name + ": a torchvision detector answers each of the batch's " + count_of(rows, "row") +
                     " with boxes, scores and labels; it gave " + outputs_text(outputs));
  std::vector<Prediction> preds(n);
  for (size_t r = 0; r < n; ++r) {
    const int64_t k = scores[r]->numel();
    if (boxes[r]->numel() != 4 * k || labels[r]->numel() != k)
      throw ModelError("model " + spec.name + ": row " + std::to_string(r) + " has boxes " + shape_text(boxes[r]->shape()) +
                       ", scores " + shape_text(scores[r]->shape()) + " and labels " + shape_text(labels[r]->shape()));
    const float* b = boxes[r]->data_as<float>();
    const float* s = scores[r]->data_as<float>();
    const float* l = labels[r]->data_as<float>();
    for (int64_t i = 0; i < k; ++i)
      if (s[i] >= spec.detect.conf) preds[r].objects.push_back(detection(spec, b + 4 * i, s[i], static_cast<int>(l[i])));
    finish_detections(spec, g, preds[r].objects);
  }
  return preds;
}

std::vector<Prediction> yolo_layout(const ModelSpec& spec, const NamedTensor& out, const Geometry& g, int64_t rows) {
  const auto& shape = out.tensor.shape();
  if (shape.size() != 3)
    throw ModelError("model " + spec.name + ": a " + to_string(spec.detect.layout) +
                     " detector output must be [N, A, 5 + C] (yolov5) or [N, 4 + C, A] (yolov8), got " + shape_text(shape));
  const int64_t per_row = row_size(spec, out, rows);
  const bool v5 = spec.detect.layout == DetectLayout::YoloV5;
  const int64_t anchors = v5 ? shape[1] : shape[2], attrs = v5 ? shape[2] : shape[1];
  check_labels(spec, attrs - (v5 ? 5 : 4), "per box");
  std::vector<Prediction> preds(static_cast<size_t>(rows));
  for (int64_t n = 0; n < rows; ++n) {
    auto& objects = preds[static_cast<size_t>(n)].objects;
    objects = decode_yolo(out.tensor.data_as<float>() + n * per_row, anchors, attrs, spec.detect.layout, spec.detect.conf,
                          spec.labels, spec.detect.box);
    finish_detections(spec, g, objects);
  }
  return preds;
}

}  // namespace

std::vector<Prediction> postprocess(const ModelSpec& spec, const std::vector<NamedTensor>& outputs,
                                    const Geometry& geometry, int k, int64_t rows) {
  if (spec.task == Task::Detect && spec.detect.layout == DetectLayout::Torchvision) {
    if (rows < 0) throw ModelError("model " + spec.name + ": a torchvision detector's rows must be given");
    return torchvision_layout(spec, outputs, geometry, rows);
  }
  const NamedTensor& out = selected_output(spec, outputs);
  const auto& shape = out.tensor.shape();
  if (spec.task == Task::Detect && spec.detect.layout == DetectLayout::Boxes) {
    int64_t n = rows;
    if (n < 0) {  // the rows the boxes name
      n = 0;
      for (int64_t i = 0; shape.size() == 2 && shape[1] == 7 && i < shape[0]; ++i)
        n = std::max(n, static_cast<int64_t>(out.tensor.data_as<float>()[i * 7]) + 1);
    }
    return boxes_layout(spec, out, geometry, n);
  }
  if (shape.empty()) throw ModelError("model " + spec.name + ": output '" + out.name + "' is a scalar");
  if (rows < 0) rows = shape[0];
  if (spec.task == Task::Detect) return yolo_layout(spec, out, geometry, rows);
  const int64_t per_row = row_size(spec, out, rows);
  if (spec.task != Task::Embed) check_labels(spec, per_row, "per row");
  std::vector<Prediction> preds(static_cast<size_t>(rows));
  for (int64_t n = 0; n < rows; ++n) {
    Prediction& p = preds[static_cast<size_t>(n)];
    const float* row = out.tensor.data_as<float>() + n * per_row;
    if (spec.task == Task::Embed) {
      p.embedding.assign(row, row + per_row);
      l2_normalize(p.embedding);
    } else {
      std::span<const float> raw(row, static_cast<size_t>(per_row));
      p.scores = spec.logits ? softmax(raw) : std::vector<float>(raw.begin(), raw.end());
      p.top = top_k(p.scores, k, spec.labels);
    }
  }
  return preds;
}

}  // namespace framepipe
