// ONNX, Caffe, TensorFlow and Darknet models through OpenCV DNN.
#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>

#include "framepipe/error.hpp"
#include "infer/engines.hpp"

namespace framepipe::detail {

namespace {

// OpenCV's importer says which node it failed on, in a message of several lines:
//   ... error: (-2:Unspecified error) in function 'handleNode'
//   > Node [GlobalAveragePool@ai.onnx]:(onnx_node!/pool/GlobalAveragePool) parse error: OpenCV(4.6.0) ...
//   > >  (expected: 'addedDims <= pads_begin.size()'), where ...
// Keep "Node [...]:(...)" and the check that failed; drop source locations.
std::string opencv_reason(const cv::Exception& e) {
  const std::string msg = e.what();
  auto line_at = [&](size_t pos) { return msg.substr(pos, msg.find('\n', pos) - pos); };
  // "OpenCV(4.6.0) ./modules/x.cpp:12: error: (-215:Assertion failed) ..." -> "(-215:...) ..."
  auto without_location = [](std::string text) {
    if (size_t err = text.rfind(": error: "); err != std::string::npos) text = text.substr(err + 9);
    return text;
  };
  std::string node, why;
  if (size_t at = msg.find("Node ["); at != std::string::npos) {
    std::string line = line_at(at);
    size_t cut = line.find(" parse error");
    node = "node " + line.substr(5, cut == std::string::npos ? std::string::npos : cut - 5);
    if (cut != std::string::npos && line.find(": ", cut) != std::string::npos)
      why = without_location(line.substr(line.find(": ", cut) + 2));
  }
  if (size_t exp = msg.find("(expected: "); exp != std::string::npos) {
    why = line_at(exp);
    if (size_t where = why.find("), where"); where != std::string::npos) why.resize(where + 1);
  }
  if (why.empty()) why = without_location(e.err.empty() ? line_at(0) : e.err.substr(0, e.err.find('\n')));
  return node.empty() ? why : node + ": " + why;
}

std::string suggestion(const ModelSpec& spec) {
  return spec.format == ModelFormat::Onnx
             ? "; OpenCV 4.6 cannot run every ONNX export: use TorchScript instead (save the model with "
               "torch.jit.trace(...).save() and give framepipe the .pt; LibTorch runs every PyTorch model)"
             : "";
}

class OpenCvDnnBackend final : public Backend {
 public:
  explicit OpenCvDnnBackend(ModelSpec spec) : Backend(std::move(spec)) {
    // OpenCV also logs import failures on stderr; the exception below carries the reason.
    auto level = cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    try {
      switch (spec_.format) {
        case ModelFormat::Onnx: net_ = cv::dnn::readNetFromONNX(spec_.path); break;
        case ModelFormat::Caffe: net_ = cv::dnn::readNetFromCaffe(need_config(), spec_.path); break;
        case ModelFormat::TensorFlow: net_ = cv::dnn::readNetFromTensorflow(spec_.path, spec_.config_path); break;
        case ModelFormat::Darknet: net_ = cv::dnn::readNetFromDarknet(need_config(), spec_.path); break;
        default:
          throw ModelError("model " + spec_.path + ": OpenCV DNN cannot read " + to_string(spec_.format) + " models");
      }
    } catch (const cv::Exception& e) {
      cv::utils::logging::setLogLevel(level);
      throw ModelError("model " + spec_.path + ": OpenCV DNN cannot import it: " + opencv_reason(e) + suggestion(spec_));
    }
    cv::utils::logging::setLogLevel(level);
    if (net_.empty()) throw ModelError("model " + spec_.path + ": OpenCV DNN read an empty network");
    net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    out_names_ = net_.getUnconnectedOutLayersNames();
  }

  const char* engine() const override { return "opencv-dnn"; }
  void set_threads(int threads) override { cv::setNumThreads(threads); }

 protected:
  // Many ONNX exports fix the batch at 1 (YOLOv5's own export does), and OpenCV 4.6 cannot
  // broadcast some of their constants over a larger batch. When a batch of N fails and one
  // row runs, this backend runs rows one at a time from then on, and says so in per_row().
  std::vector<NamedTensor> forward(const Tensor& batch) override {
    const int64_t rows = batch.shape()[0];
    if (!per_row_ || rows == 1) {
      try {
        return to_named(run_rows(batch, 0, rows));
      } catch (const ModelError&) {
        if (rows == 1 || per_row_) throw;
        per_row_ = true;  // undone below if a single row cannot run either
      }
    }
    // Each row's outputs go straight into the batch's tensors, before the next forward
    // reuses the network's memory.
    std::vector<NamedTensor> result;
    for (int64_t n = 0; n < rows; ++n) {
      std::vector<cv::Mat> outs;
      try {
        outs = run_rows(batch, n, 1);
      } catch (const ModelError&) {
        if (n == 0) per_row_ = false;
        throw;
      }
      for (size_t o = 0; o < outs.size(); ++o) {
        if (n == 0) {
          std::vector<int64_t> shape(outs[o].size.p, outs[o].size.p + outs[o].dims);
          if (shape.empty() || shape[0] != 1)
            throw ModelError("model " + spec_.path + ": output " + name_of(o) + " does not start with the batch dimension");
          shape[0] = rows;
          result.push_back({name_of(o), Tensor::allocate(shape, Layout::NCHW, DType::F32)});
        }
        const size_t row_bytes = outs[o].total() * sizeof(float);
        std::memcpy(result[o].tensor.data_as<uint8_t>() + static_cast<size_t>(n) * row_bytes, outs[o].data, row_bytes);
      }
    }
    return result;
  }

 public:
  bool per_row() const { return per_row_; }

 private:
  std::string name_of(size_t i) const { return i < out_names_.size() ? out_names_[i] : "output" + std::to_string(i); }

  // Rows [first, first + count) of the batch through the network; outputs continuous f32.
  std::vector<cv::Mat> run_rows(const Tensor& batch, int64_t first, int64_t count) {
    std::vector<int> dims(batch.shape().begin(), batch.shape().end());
    dims[0] = static_cast<int>(count);
    const size_t row_bytes = batch.nbytes() / static_cast<size_t>(batch.shape()[0]);
    void* data = const_cast<uint8_t*>(static_cast<const uint8_t*>(batch.data()) + static_cast<size_t>(first) * row_bytes);
    cv::Mat blob;
    if (batch.dtype() == DType::F32) {
      blob = cv::Mat(static_cast<int>(dims.size()), dims.data(), CV_32F, data);
    } else {  // OpenCV DNN computes in float
      cv::Mat(static_cast<int>(dims.size()), dims.data(), CV_8U, data).convertTo(blob, CV_32F);
    }
    std::vector<cv::Mat> outs;
    auto level = cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    try {
      net_.setInput(blob);
      net_.forward(outs, out_names_);
    } catch (const cv::Exception& e) {
      cv::utils::logging::setLogLevel(level);
      throw ModelError("model " + spec_.path + ": OpenCV DNN failed to run it on input " + dims_text(dims) + ": " +
                       opencv_reason(e) + suggestion(spec_));
    }
    cv::utils::logging::setLogLevel(level);
    // Valid until the next forward, which reuses the network's output memory: callers copy.
    for (auto& m : outs) {
      if (m.type() != CV_32F) m.convertTo(m, CV_32F);
      if (!m.isContinuous()) m = m.clone();
    }
    return outs;
  }

  std::vector<NamedTensor> to_named(const std::vector<cv::Mat>& outs) const {
    std::vector<NamedTensor> result;
    for (size_t i = 0; i < outs.size(); ++i) {
      std::vector<int64_t> shape(outs[i].size.p, outs[i].size.p + outs[i].dims);
      result.push_back(copy_output(name_of(i), outs[i].ptr<float>(), std::move(shape)));
    }
    return result;
  }

  static std::string dims_text(const std::vector<int>& d) {
    std::string s = "[";
    for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
    return s + "]";
  }

  bool per_row_ = false;

  const std::string& need_config() const {
    if (spec_.config_path.empty())
      throw ModelError("model " + spec_.path + ": " + to_string(spec_.format) +
                       " models need their second file; name it in the description's \"config\"");
    return spec_.config_path;
  }

  cv::dnn::Net net_;
  std::vector<std::string> out_names_;
};

}  // namespace

std::unique_ptr<Backend> open_opencv_dnn(const ModelSpec& spec) { return std::make_unique<OpenCvDnnBackend>(spec); }

}  // namespace framepipe::detail
