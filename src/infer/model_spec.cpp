#include "framepipe/infer/model_spec.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/named_enum.hpp"
#include "framepipe/error.hpp"

namespace framepipe {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr std::array<std::pair<const char*, Task>, 4> kTask{{{"classify", Task::Classify},
                                                             {"clip-classify", Task::ClipClassify},
                                                             {"detect", Task::Detect},
                                                             {"embed", Task::Embed}}};
constexpr std::array<std::pair<const char*, DetectLayout>, 3> kDetect{
    {{"yolov5", DetectLayout::YoloV5}, {"yolov8", DetectLayout::YoloV8}, {"boxes", DetectLayout::Boxes}}};
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

template <class T>
T get_or(const json& j, const char* key, T fallback) {
  return j.contains(key) ? j.at(key).get<T>() : fallback;
}

std::array<float, 3> triple(const json& j, const char* key, std::array<float, 3> fallback) {
  if (!j.contains(key)) return fallback;
  const json& v = j.at(key);
  if (v.is_number()) {
    float x = v.get<float>();
    return {x, x, x};
  }
  auto list = v.get<std::vector<float>>();
  if (list.size() != 3) throw ConfigError(std::string("'") + key + "' must have 3 values (one per channel)");
  return {list[0], list[1], list[2]};
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
    s.name = get_or<std::string>(j, "name", fs::path(model_path).stem().string());
    s.format = j.contains("format") ? detail::parse_enum(j.at("format").get<std::string>(), kFormat, "format")
                    : model_path.empty() ? ModelFormat::Function  // a description for function_backend
                                         : format_of(model_path);
    s.config_path = beside(origin, get_or<std::string>(j, "config", ""));
    if (!j.contains("task")) throw ConfigError("'task' is missing (classify, clip-classify, detect or embed)");
    s.task = parse_task(j.at("task").get<std::string>());

    if (!j.contains("input")) throw ConfigError("'input' is missing (width, height, layout, mean, std, ...)");
    const json& in = j.at("input");
    s.width = get_or<int>(in, "width", 0);
    s.height = get_or<int>(in, "height", 0);
    if (s.width <= 0 || s.height <= 0) throw ConfigError("'input' needs a positive width and height");
    s.clip_len = get_or<int64_t>(in, "clip_len", s.task == Task::ClipClassify ? 16 : 1);
    if (s.clip_len < 1) throw ConfigError("'input.clip_len' must be at least 1");
    s.layout = parse_layout(get_or<std::string>(in, "layout", s.clip_len > 1 ? "ncthw" : "nchw"));
    s.dtype = parse_dtype(get_or<std::string>(in, "dtype", "f32"));
    s.channels = parse_pixel_format(get_or<std::string>(in, "channels", "rgb"));
    s.scale = get_or<bool>(in, "scale", true);
    s.mean = triple(in, "mean", s.mean);
    s.std = triple(in, "std", s.std);
    for (float v : s.std)
      if (v == 0.f) throw ConfigError("'input.std' must not contain 0");
    s.resize = parse_resize_mode(get_or<std::string>(in, "resize", "stretch"));
    s.interpolation = parse_interpolation(get_or<std::string>(in, "interpolation", "bilinear"));

    std::string output = get_or<std::string>(j, "output", "logits");
    if (output != "logits" && output != "probabilities")
      throw ConfigError("'output' must be logits or probabilities, not '" + output + "'");
    s.logits = output == "logits";

    if (j.contains("labels")) {
      const json& l = j.at("labels");
      if (l.is_string()) {  // a file, one label per line
        std::istringstream lines(read_text(beside(origin, l.get<std::string>())));
        for (std::string line; std::getline(lines, line);) {
          if (!line.empty() && line.back() == '\r') line.pop_back();
          if (!line.empty()) s.labels.push_back(line);
        }
      } else {
        s.labels = l.get<std::vector<std::string>>();
      }
    }
    if (s.task == Task::Detect) {
      const json d = j.value("detect", json::object());
      s.detect.layout = parse_detect_layout(get_or<std::string>(d, "layout", "yolov5"));
      s.detect.conf = get_or<float>(d, "conf", s.detect.conf);
      s.detect.iou = get_or<float>(d, "iou", s.detect.iou);
      s.detect.max_detections = get_or<int>(d, "max", s.detect.max_detections);
      s.detect.class_agnostic = get_or<bool>(d, "class_agnostic", false);
    }
  } catch (const json::exception& e) {
    throw ModelError("model description " + origin + ": " + e.what());
  } catch (const ConfigError& e) {
    throw ModelError("model description " + origin + ": " + e.what());
  }
  return s;
}

ModelSpec load_model_spec(const std::string& model) {
  if (model.rfind("builtin:", 0) == 0) return builtin_spec(model);
  fs::path p(model);
  std::error_code ec;
  if (p.extension() == ".json") {
    if (!fs::is_regular_file(p, ec)) throw ModelError("model description " + model + ": no such file");
    std::string text = read_text(model);
    std::string file;
    try {
      file = json::parse(text, nullptr, true, true).value("model", "");
    } catch (const json::exception& e) {
      throw ModelError("model description " + model + ": " + e.what());
    }
    if (file.empty()) throw ModelError("model description " + model + ": 'model' (the model file) is missing");
    file = beside(model, file);
    if (!fs::is_regular_file(file, ec)) throw ModelError("model " + file + " (named by " + model + "): no such file");
    return parse_model_spec(text, model, file);
  }
  if (!fs::is_regular_file(p, ec)) throw ModelError("model " + model + ": no such file");
  format_of(model);  // an unknown extension is an error before the description is looked for
  fs::path desc = p;
  desc.replace_extension(".json");
  if (!fs::is_regular_file(desc, ec))
    throw ModelError("model " + model + ": its description " + desc.string() +
                     " is missing (input size, layout, mean/std, labels and task; see infer/model_spec.hpp)");
  return parse_model_spec(read_text(desc.string()), desc.string(), model);
}

}  // namespace framepipe
