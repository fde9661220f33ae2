// What a model expects and what it answers: the description file that sits beside a model
// (`resnet.pt` and `resnet.onnx` share `resnet.json`), or the fixed description of a
// `builtin:` detector. Everything the reader, the tensor packer and post-processing need
// to feed the model and read its outputs comes from here.
//
//   {
//     "name": "shapes2d",                 // optional; the file stem otherwise
//     "task": "classify",                 // classify | clip-classify | detect | embed
//     "input": {"width": 64, "height": 64, "layout": "nchw", "mean": [0.5, 0.5, 0.5], ...},
//     "labels": ["circle", "square", "triangle"]
//   }
//
// README.md, "The model description", is the reference: every key, its type and default,
// the rules its values are checked by, and an example for each kind of model. Every key is
// checked: one the description does not know is an error that names it and the nearest
// known key.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "framepipe/image/pixel_format.hpp"
#include "framepipe/tensor/tensor.hpp"

namespace framepipe {

enum class Task { Classify, ClipClassify, Detect, Embed };
// Detector outputs: YOLOv5 [N, A, 5 + C] (box, objectness, class scores); YOLOv8
// [N, 4 + C, A] (box, class scores); Boxes [K, 7] (row, box, score, class) already decoded
// (the built-in detectors); Torchvision: for each row, outputs named boxes [K, 4], scores [K]
// and labels [K] (what torchvision's detection models return: a list of dicts).
enum class DetectLayout { YoloV5, YoloV8, Boxes, Torchvision };
// How a box's four numbers read: corners, centre and size, or corner and size.
enum class BoxFormat { XYXY, CXCYWH, XYWH };
// Function: a description without a model file, for function_backend (e.g. a Python callable).
enum class ModelFormat { TorchScript, Onnx, Caffe, TensorFlow, Darknet, Builtin, Function };

Task parse_task(const std::string& s);
DetectLayout parse_detect_layout(const std::string& s);
BoxFormat parse_box_format(const std::string& s);
const char* to_string(BoxFormat b);
const char* to_string(Task t);
const char* to_string(DetectLayout l);
const char* to_string(ModelFormat f);

// A class's name: labels[index], or "class N" where there is no label for it.
std::string label_name(const std::vector<std::string>& labels, int64_t index);

struct DetectOptions {
  DetectLayout layout = DetectLayout::YoloV5;
  float conf = 0.25f;          // keep boxes whose score (objectness x class) reaches this
  float iou = 0.45f;           // NMS: drop a box overlapping a better one of its class by more
  int max_detections = 300;    // per frame, best first
  bool class_agnostic = false; // NMS across classes
  BoxFormat box = BoxFormat::CXCYWH;  // YOLO heads: cxcywh; boxes and torchvision: xyxy
  bool normalized = false;     // box numbers are 0-1 of the input's width and height, not pixels
};

struct ModelSpec {
  std::string name;              // for messages and results
  std::string path;              // the model file, or "builtin:NAME"
  std::string config_path;       // second file (Caffe prototxt, Darknet cfg, TF pbtxt), if any
  std::string description_path;  // the JSON it came from; empty for builtins
  ModelFormat format = ModelFormat::Onnx;
  Task task = Task::Classify;

  // Input. width/height 0: the source's own size (built-in detectors).
  int width = 0, height = 0;
  int64_t clip_len = 1;  // frames per row; > 1 for clip-classify
  Layout layout = Layout::NCHW;
  DType dtype = DType::F32;
  PixelFormat channels = PixelFormat::Rgb;
  bool scale = true;
  std::array<float, 3> mean{0.f, 0.f, 0.f};
  std::array<float, 3> std{1.f, 1.f, 1.f};
  ResizeMode resize = ResizeMode::Stretch;
  Interpolation interpolation = Interpolation::Bilinear;

  bool logits = true;  // classify outputs are logits (softmax applied) or probabilities
  // The output post-processing reads: by name where one is given, else by position (0: the
  // first; a tuple's items and a dict's entries count in order).
  int output_index = 0;
  std::string output_name;
  std::vector<std::string> labels;
  DetectOptions detect;

  // What the reader and the tensor packer are to produce for this model.
  ImageOptions image_options() const;
  TensorOptions tensor_options() const;
  // The shape of a batch of `rows`, e.g. [rows, 3, 64, 64]; empty dims for source size.
  std::vector<int64_t> input_shape(int64_t rows) const;
  std::string label(int index) const { return label_name(labels, index); }
};

// Resolves a model argument: "builtin:NAME", or a model file whose description is the
// .json beside it (same stem), or a .json description whose "model" field names the file.
// Throws ModelError naming the model and what is missing or wrong.
ModelSpec load_model_spec(const std::string& model);
// `model` described by the file `description` instead (the CLI's --spec); "" as above.
ModelSpec load_model_spec(const std::string& model, const std::string& description);
// Parses description text (JSON; // and /* */ comments allowed); `origin` names it in
// errors, `model_path` is the model file (empty: a description for function_backend).
ModelSpec parse_model_spec(const std::string& json_text, const std::string& origin, const std::string& model_path);
// The names `builtin:` accepts, for --help and errors.
std::vector<std::string> builtin_models();

}  // namespace framepipe
