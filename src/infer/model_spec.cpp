#include "framepipe/infer/model_spec.hpp"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <type_traits>

#include "common/named_enum.hpp"
#include "framepipe/error.hpp"
#include "common/words.hpp"

namespace framepipe {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr std::array<std::pair<const char*, Task>, 4> kTask{{{"classify", Task::Classify},
                                                             {"clip-classify", Task::ClipClassify},
                                                             {"detect", Task::Detect},
                                                             {"embed", Task::Embed}}};
constexpr std::array<std::pair<const char*, DetectLayout>, 4> kDetect{{{"yolov5", DetectLayout::YoloV5},
                                                                       {"yolov8", DetectLayout::YoloV8},
                                                                       {"boxes", DetectLayout::Boxes},
                                                                       {"torchvision", DetectLayout::Torchvision}}};
constexpr std::array<std::pair<const char*, BoxFormat>, 3> kBox{
    {{"xyxy", BoxFormat::XYXY}, {"cxcywh", BoxFormat::CXCYWH}, {"xywh", BoxFormat::XYWH}}};
constexpr std::array<std::pair<const char*, ModelFormat>, 7> kFormat{{{"torchscript", ModelFormat::TorchScript},
                                                                      {"onnx", ModelFormat::Onnx},
                                                                      {"caffe", ModelFormat::Caffe},
                                                                      {"tensorflow", ModelFormat::TensorFlow},
                                                                      {"darknet", ModelFormat::Darknet},
                                                                      {"builtin", ModelFormat::Builtin},
                                                                      {"function", ModelFormat::Function}}};

// The file extensions each format is known by; the description's "format" overrides.
ModelFormat format_of(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (ext == ".pt" || ext == ".pth" || ext == ".ts" || ext == ".torchscript") return ModelFormat::TorchScript;
  if (ext == ".onnx") return ModelFormat::Onnx;
  if (ext == ".caffemodel") return ModelFormat::Caffe;
  if (ext == ".pb") return ModelFormat::TensorFlow;
  if (ext == ".weights") return ModelFormat::Darknet;
  throw ModelError("model " + path + ": unknown model format '" + ext +
                   "' (known: .pt/.pth/.ts TorchScript, .onnx, .caffemodel, .pb, .weights; or builtin:NAME)");
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError("model description " + path + ": cannot be read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A relative path in a description is relative to the description's folder.
std::string beside(const std::string& origin, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(origin).parent_path() / p).string();
}

// One object of a description and the keys it may hold. An unknown key is reported with the
// nearest known one; a value of the wrong type names its place ('input.width').
class Section {
 public:
  Section(const json& j, std::string where, std::vector<std::string> known)
      : j_(j), where_(std::move(where)), known_(std::move(known)) {
    if (!j_.is_object()) throw ConfigError(name_of("") + " must be an object");
  }

  // "unknown key 'meam' in 'input' (did you mean 'mean'?)", one for each; empty: none.
  void unknown_keys(std::vector<std::string>& out) const {
    for (const auto& [key, value] : j_.items()) {
      if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
      std::string m = "unknown key '" + key + "'" + (where_.empty() ? "" : " in '" + where_ + "'");
      const std::string near = nearest_word(key, known_);
      m += near.empty() ? " (the keys are: " + join(known_) + ")" : " (did you mean '" + near + "'?)";
      out.push_back(std::move(m));
    }
  }

  bool has(const char* key) const { return j_.contains(key); }
  const json& at(const char* key) const { return j_.at(key); }
  std::string name_of(const std::string& key) const {
    if (where_.empty()) return key.empty() ? "the description" : "'" + key + "'";
    return "'" + where_ + (key.empty() ? "" : "." + key) + "'";
  }

  template <class T>
  T get(const char* key, T fallback) const {
    if (!j_.contains(key)) return fallback;
    const json& v = j_.at(key);
    const char* want = nullptr;
    if constexpr (std::is_same_v<T, bool>) {
      if (!v.is_boolean()) want = "true or false";
    } else if constexpr (std::is_integral_v<T>) {
      if (!v.is_number_integer()) want = "a whole number";
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!v.is_number()) want = "a number";
    } else {
      if (!v.is_string()) want = "a string";
    }
    if (want) throw ConfigError(name_of(key) + " must be " + want + ", not " + v.dump());
    return v.get<T>();
  }

  // A word parsed by `parse` (an enum's table), its error naming the key.
  template <class F>
  auto word(const char* key, const std::string& fallback, F parse) const {
    const std::string w = get<std::string>(key, fallback);
    try {
      return parse(w);
    } catch (const ConfigError& e) {
      throw ConfigError(name_of(key) + ": " + e.what());
    }
  }

  static std::string join(const std::vector<std::string>& words) {
    std::string s;
    for (const auto& w : words) s += (s.empty() ? "" : ", ") + w;
    return s;
  }

 private:
  const json& j_;
  std::string where_;
  std::vector<std::string> known_;
};

// The keys a description may hold, section by section (README.md, "The model description").
const std::vector<std::string> kTopKeys = {"name",   "model",  "format", "config",        "task",
                                           "input",  "output", "labels", "select_output", "detect"};
const std::vector<std::string> kInputKeys = {"width", "height", "clip_len", "layout",  "dtype",        "channels",
                                             "scale", "mean",   "std",      "resize",  "interpolation"};
const std::vector<std::string> kDetectKeys = {"layout", "conf", "iou", "max", "class_agnostic", "box", "units"};

std::array<float, 3> triple(const Section& in, const char* key, std::array<float, 3> fallback) {
  if (!in.has(key)) return fallback;
  const json& v = in.at(key);
  if (v.is_number()) {
    float x = v.get<float>();
    return {x, x, x};
  }
  if (!v.is_array() || v.size() != 3 || !std::all_of(v.begin(), v.end(), [](const json& x) { return x.is_number(); }))
    throw ConfigError(in.name_of(key) + " must be a number or 3 numbers (one per channel), not " + v.dump());
  return {v[0].get<float>(), v[1].get<float>(), v[2].get<float>()};
}

std::string triple_text(const std::array<float, 3>& v) {
  std::string s = "[";  // appended piece by piece: GCC 12 reports a false -Wrestrict on chains of +
  for (size_t i = 0; i < 3; ++i) {
    if (i) s += ", ";
    s += number_text(v[i]);
  }
  s += ']';
  return s;
}

// mean/std against scale, by the rule README.md states: with scale true pixels are 0-1 before
// mean/std, so a mean or std above 1 (a 0-255 value) is an error; with scale false (0-255
// pixels, f32) a mean and std that are all within 0-1, and not the identity, get a warning.
void check_normalisation(const ModelSpec& s, const std::string& origin) {
  const auto above_one = [](const std::array<float, 3>& v) { return v[0] > 1.f || v[1] > 1.f || v[2] > 1.f; };
  if (s.scale && (above_one(s.mean) || above_one(s.std)))
    throw ConfigError("'input.mean' " + triple_text(s.mean) + " and 'input.std' " + triple_text(s.std) +
                      " look like 0-255 values, but 'input.scale' is true (pixels are 0-1 before mean and std are "
                      "applied): give them in 0-1 (divide by 255) or set \"scale\": false");
  const bool identity = s.mean == std::array<float, 3>{0.f, 0.f, 0.f} && s.std == std::array<float, 3>{1.f, 1.f, 1.f};
  if (!s.scale && s.dtype == DType::F32 && !identity && !above_one(s.mean) && !above_one(s.std))
    warn_once("scale:" + origin, "model description " + origin + ": 'input.mean' " + triple_text(s.mean) +
                                     " and 'input.std' " + triple_text(s.std) +
                                     " look like 0-1 values, but 'input.scale' is false (pixels stay 0-255)");
}

void parse_input(const Section& in, ModelSpec& s, const std::string& origin) {
  s.width = in.get<int>("width", 0);
  s.height = in.get<int>("height", 0);
  if (s.width <= 0 || s.height <= 0) throw ConfigError("'input' needs a positive width and height");
  s.clip_len = in.get<int64_t>("clip_len", s.task == Task::ClipClassify ? 16 : 1);
  if (s.clip_len < 1) throw ConfigError("'input.clip_len' must be at least 1");
  if (s.clip_len > 1 && s.task != Task::ClipClassify && s.task != Task::Embed)
    throw ConfigError("'input.clip_len' is " + std::to_string(s.clip_len) + " but the task is " + to_string(s.task) +
                      ": a model of clips is \"task\": \"clip-classify\" (or embed)");
  s.layout = in.word("layout", s.clip_len > 1 ? "ncthw" : "nchw", parse_layout);
  s.dtype = in.word("dtype", "f32", parse_dtype);
  s.channels = in.word("channels", "rgb", parse_pixel_format);
  s.scale = in.get<bool>("scale", true);
  s.mean = triple(in, "mean", s.mean);
  s.std = triple(in, "std", s.std);
  for (float v : s.std)
    if (v == 0.f) throw ConfigError("'input.std' must not contain 0");
  s.resize = in.word("resize", "stretch", parse_resize_mode);
  s.interpolation = in.word("interpolation", "bilinear", parse_interpolation);
  check_normalisation(s, origin);
}

void parse_detect(const Section& d, ModelSpec& s) {
  DetectOptions& o = s.detect;
  o.layout = d.word("layout", "yolov5", parse_detect_layout);
  const bool yolo = o.layout == DetectLayout::YoloV5 || o.layout == DetectLayout::YoloV8;
  o.box = d.word("box", yolo ? "cxcywh" : "xyxy", parse_box_format);
  const std::string units = d.get<std::string>("units", "pixels");
  if (units != "pixels" && units != "normalized" && units != "normalised")
    throw ConfigError("'detect.units' must be pixels or normalized, not '" + units + "'");
  o.normalized = units != "pixels";
  o.conf = d.get<float>("conf", o.conf);
  o.iou = d.get<float>("iou", o.iou);
  o.max_detections = d.get<int>("max", o.max_detections);
  o.class_agnostic = d.get<bool>("class_agnostic", false);
  if (!(o.conf >= 0.f && o.conf <= 1.f)) throw ConfigError("'detect.conf' must be within 0-1, not " + number_text(o.conf));
  if (!(o.iou >= 0.f && o.iou <= 1.f)) throw ConfigError("'detect.iou' must be within 0-1, not " + number_text(o.iou));
  if (o.max_detections < 1) throw ConfigError("'detect.max' must be at least 1");
}

void parse_labels(const Section& top, ModelSpec& s, const std::string& origin) {
  if (!top.has("labels")) return;
  const json& l = top.at("labels");
  if (l.is_string()) {  // a file, one label per line
    std::istringstream lines(read_text(beside(origin, l.get<std::string>())));
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) s.labels.push_back(line);
    }
  } else if (l.is_array() && std::all_of(l.begin(), l.end(), [](const json& x) { return x.is_string(); })) {
    s.labels = l.get<std::vector<std::string>>();
  } else {
    throw ConfigError("'labels' must be a list of names or the path of a text file (one per line), not " + l.dump());
  }
}

void parse_output(const Section& top, ModelSpec& s) {
  const std::string output = top.get<std::string>("output", "logits");
  if (output != "logits" && output != "probabilities")
    throw ConfigError("'output' must be logits or probabilities, not '" + output + "'");
  s.logits = output == "logits";
  if (!top.has("select_output")) return;
  const json& v = top.at("select_output");
  if (v.is_number_integer() && v.get<int>() >= 0) {
    s.output_index = v.get<int>();
  } else if (v.is_string() && !v.get<std::string>().empty()) {
    s.output_name = v.get<std::string>();
  } else {
    throw ConfigError("'select_output' must be an output's position (0 is the first) or its name, not " + v.dump());
  }
}

ModelSpec builtin_spec(const std::string& name) {
  ModelSpec s;
  s.name = name;
  s.path = name;
  s.format = ModelFormat::Builtin;
  s.task = Task::Detect;
  s.layout = Layout::NHWC;
  s.dtype = DType::U8;
  s.channels = PixelFormat::Bgr;  // what OpenCV's detectors are trained on
  s.scale = false;
  s.detect.layout = DetectLayout::Boxes;
  s.detect.box = BoxFormat::XYXY;
  s.detect.conf = 0.f;
  if (name == "builtin:hog-people") {
    s.labels = {"person"};
  } else if (name == "builtin:motion") {
    s.labels = {"motion"};
  } else if (name == "builtin:faces") {
    s.labels = {"face"};
  } else {
    std::string known;
    for (const auto& b : builtin_models()) known += (known.empty() ? "" : ", ") + b;
    throw ModelError("model " + name + ": no such built-in detector (known: " + known + ")");
  }
  return s;
}
}  // namespace

Task parse_task(const std::string& s) { return detail::parse_enum(s, kTask, "task"); }
DetectLayout parse_detect_layout(const std::string& s) { return detail::parse_enum(s, kDetect, "detector layout"); }
const char* to_string(Task t) { return detail::enum_name(t, kTask); }
const char* to_string(DetectLayout l) { return detail::enum_name(l, kDetect); }
BoxFormat parse_box_format(const std::string& s) { return detail::parse_enum(s, kBox, "box format"); }
const char* to_string(BoxFormat b) { return detail::enum_name(b, kBox); }
const char* to_string(ModelFormat f) { return detail::enum_name(f, kFormat); }

std::vector<std::string> builtin_models() { return {"builtin:hog-people", "builtin:motion", "builtin:faces"}; }

ImageOptions ModelSpec::image_options() const {
  ImageOptions o;
  o.pix = channels;
  o.width = width;
  o.height = height;
  o.resize = resize;
  o.interpolation = interpolation;
  return o;
}

TensorOptions ModelSpec::tensor_options() const {
  TensorOptions o;
  o.layout = layout;
  o.dtype = dtype;
  o.scale = scale;
  o.mean = mean;
  o.std = std;
  return o;
}

std::vector<int64_t> ModelSpec::input_shape(int64_t rows) const {
  int c = framepipe::channels(channels);
  return tensor_shape(tensor_options(), rows, clip_len, height, width, c);
}

std::string label_name(const std::vector<std::string>& labels, int64_t index) {
  if (index >= 0 && static_cast<size_t>(index) < labels.size()) return labels[static_cast<size_t>(index)];
  return "class " + std::to_string(index);
}

ModelSpec parse_model_spec(const std::string& json_text, const std::string& origin, const std::string& model_path) {
  ModelSpec s;
  s.description_path = origin;
  s.path = model_path;
  try {
    json j = json::parse(json_text, nullptr, true, /*ignore_comments=*/true);
    if (!j.is_object()) throw ConfigError("the description must be a JSON object");
    const Section top(j, "", kTopKeys);
    if (!top.has("input")) throw ConfigError("'input' is missing (width, height, layout, mean, std, ...)");
    const Section in(top.at("input"), "input", kInputKeys);
    const json no_detect = json::object();
    const Section det(top.has("detect") ? top.at("detect") : no_detect, "detect", kDetectKeys);
    std::vector<std::string> unknown;  // every misspelt key at once, before any value is read
    top.unknown_keys(unknown);
    in.unknown_keys(unknown);
    det.unknown_keys(unknown);
    if (!unknown.empty()) throw ConfigError(Section::join(unknown));

    s.name = top.get<std::string>("name", fs::path(model_path).stem().string());
    s.format = top.has("format") ? top.word("format", "", [](const std::string& w) { return detail::parse_enum(w, kFormat, "format"); })
               : model_path.empty() ? ModelFormat::Function  // a description for function_backend
                                    : format_of(model_path);
    s.config_path = beside(origin, top.get<std::string>("config", ""));
    if (!top.has("task")) throw ConfigError("'task' is missing (classify, clip-classify, detect or embed)");
    s.task = top.word("task", "", parse_task);
    parse_input(in, s, origin);
    parse_output(top, s);
    parse_labels(top, s, origin);
    if (s.task == Task::Detect) {
      parse_detect(det, s);
    } else if (top.has("detect")) {
      throw ConfigError("'detect' is given but the task is " + std::string(to_string(s.task)) + " (it is for \"task\": \"detect\")");
    }
  } catch (const json::exception& e) {
    throw ModelError("model description " + origin + ": " + e.what());
  } catch (const ConfigError& e) {
    throw ModelError("model description " + origin + ": " + e.what());
  }
  return s;
}

ModelSpec load_model_spec(const std::string& model, const std::string& description) {
  if (description.empty()) return load_model_spec(model);
  if (model.rfind("builtin:", 0) == 0) throw ModelError("model " + model + ": a built-in detector takes no description");
  std::error_code ec;
  if (!fs::is_regular_file(description, ec)) throw ModelError("model description " + description + ": no such file", ENOENT);
  if (!fs::is_regular_file(model, ec)) throw ModelError("model " + model + ": no such file", ENOENT);
  return parse_model_spec(read_text(description), description, model);
}

ModelSpec load_model_spec(const std::string& model) {
  if (model.rfind("builtin:", 0) == 0) return builtin_spec(model);
  fs::path p(model);
  std::error_code ec;
  if (p.extension() == ".json") {
    if (!fs::is_regular_file(p, ec)) throw ModelError("model description " + model + ": no such file", ENOENT);
    std::string text = read_text(model);
    std::string file;
    try {
      file = json::parse(text, nullptr, true, true).value("model", "");
    } catch (const json::exception& e) {
      throw ModelError("model description " + model + ": " + e.what());
    }
    if (file.empty()) throw ModelError("model description " + model + ": 'model' (the model file) is missing");
    file = beside(model, file);
    if (!fs::is_regular_file(file, ec)) throw ModelError("model " + file + " (named by " + model + "): no such file", ENOENT);
    return parse_model_spec(text, model, file);
  }
  if (!fs::is_regular_file(p, ec)) throw ModelError("model " + model + ": no such file", ENOENT);
  format_of(model);  // an unknown extension is an error before the description is looked for
  fs::path desc = p;
  desc.replace_extension(".json");
  if (!fs::is_regular_file(desc, ec))
    throw ModelError("model " + model + ": its description " + desc.string() +
                     " is missing: give one with --spec FILE (Python: spec=), or write it there; README.md, \"The model description\", "
                     "lists its keys with an example for each kind of model");
  return parse_model_spec(read_text(desc.string()), desc.string(), model);
}

}  // namespace framepipe
