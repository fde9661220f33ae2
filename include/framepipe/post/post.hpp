// From raw model outputs to answers: class scores with labels, boxes in source pixels,
// unit-length embeddings.
//
//   auto out = backend->run(batch);
//   auto preds = framepipe::postprocess(backend->spec(), out, geometry);   // one per row
//   preds[0].top[0].label, preds[0].objects[0].box (x1, y1, x2, y2 in source pixels)
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "framepipe/image/geometry.hpp"
#include "framepipe/infer/backend.hpp"
#include "framepipe/post/prediction.hpp"

namespace framepipe {

// Numerically stable (max subtracted), in place or copied.
std::vector<float> softmax(std::span<const float> logits);
// The k best (all if k <= 0 or k > size), best first; ties keep the lower index first.
std::vector<ClassScore> top_k(std::span<const float> scores, int k, const std::vector<std::string>& labels = {});
// Scales to unit length; an all-zero vector stays zero.
void l2_normalize(std::span<float> v);

// Intersection over union of two [x1, y1, x2, y2] boxes; 0 when either is empty.
double iou(const std::array<double, 4>& a, const std::array<double, 4>& b);
// Greedy NMS: indices of kept boxes, best score first; a box is dropped when it overlaps a
// kept one by IoU > threshold. Class-wise unless class_agnostic (boxes of different classes
// never suppress each other). At most max_keep (<= 0: all).
std::vector<size_t> nms(const std::vector<Detection>& dets, float iou_threshold, bool class_agnostic = false,
                        int max_keep = 0);

// Decodes one row of a YOLO head, in the model's input pixels, keeping score >= conf:
//   YOLOv5 data[a * (5 + C) + k]: cx, cy, w, h, objectness, C class scores; score = obj x cls
//   YOLOv8 data[k * A + a]: cx, cy, w, h, C class scores; score = cls
// The best class of each anchor only (as both projects' own NMS does).
// Boxes are read as `box` says (YOLO heads: cxcywh) and returned as corners, x1 y1 x2 y2.
std::vector<Detection> decode_yolo(const float* data, int64_t anchors, int64_t attributes, DetectLayout layout,
                                   float conf, const std::vector<std::string>& labels = {},
                                   BoxFormat box = BoxFormat::CXCYWH);
// A box's four numbers, read as `format` says, as corners x1, y1, x2, y2.
std::array<double, 4> box_corners(double a, double b, double c, double d, BoxFormat format);

// A detector's frame as class scores: each class scored by its best box (0 where none), so
// that smoothing and events work on detectors as on classifiers.
std::vector<float> class_presence(const Prediction& p, size_t classes);

// Post-processing of a batch as the spec's task says. `geometry` maps the model's input
// back to source pixels (the reader's geometry for the spec's size and resize mode); boxes
// are returned in source pixels, clamped to the frame. top_k: classes kept per row. `rows`:
// the batch's rows (one Prediction each; an output that does not answer each of them is a
// ModelError); -1 takes them from the output. The output read is the spec's select_output;
// the checks README.md states (labels against the output's width, boxes that look
// normalised or lie outside the input) are errors or warnings said once.
std::vector<Prediction> postprocess(const ModelSpec& spec, const std::vector<NamedTensor>& outputs,
                                    const Geometry& geometry, int top_k = 5, int64_t rows = -1);

}  // namespace framepipe
