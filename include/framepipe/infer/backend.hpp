// One interface for every way of running a model: a batch tensor in, named outputs out.
//
//   auto backend = framepipe::open_backend("models/shapes2d.pt");   // or .onnx, builtin:...
//   const auto& spec = backend->spec();      // input size, layout, mean/std, labels, task
//   framepipe::Tensor batch = ...;           // spec.input_shape(n), spec.dtype
//   std::vector<framepipe::NamedTensor> out = backend->run(batch);
//
// Engines: TorchScript through LibTorch (any PyTorch model, 2-D and 3-D), ONNX / Caffe /
// TensorFlow / Darknet through OpenCV DNN, and built-in detectors that need no model file
// (builtin:hog-people, builtin:motion, builtin:faces). A backend is used by one thread at a
// time; builtin:motion keeps state from frame to frame, so feed it frames in order.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "framepipe/infer/model_spec.hpp"
#include "framepipe/tensor/tensor.hpp"

namespace framepipe {

struct NamedTensor {
  std::string name;
  Tensor tensor;  // owning, f32, C order
};

class Backend {
 public:
  virtual ~Backend() = default;
  const ModelSpec& spec() const { return spec_; }
  // "torchscript", "opencv-dnn" or "builtin".
  virtual const char* engine() const = 0;
  // Runs one batch; its shape must be spec().input_shape(N) (source-sized dims free) and its
  // dtype spec().dtype, else ModelError "expected [..], given [..]".
  std::vector<NamedTensor> run(const Tensor& batch);
  // Intra-op threads of this engine (LibTorch and OpenCV keep this setting per process).
  virtual void set_threads(int threads) = 0;

 protected:
  explicit Backend(ModelSpec spec) : spec_(std::move(spec)) {}
  virtual std::vector<NamedTensor> forward(const Tensor& batch) = 0;
  ModelSpec spec_;
};

struct BackendOptions {
  // auto: TorchScript for .pt/.pth/.ts/.torchscript, OpenCV DNN for the rest; or force
  // "torchscript" / "opencv".
  std::string engine = "auto";
  int threads = 0;  // 0: the engine's default (every core)
};

std::unique_ptr<Backend> open_backend(const ModelSpec& spec, const BackendOptions& options = {});
std::unique_ptr<Backend> open_backend(const std::string& model, const BackendOptions& options = {});
// A model that is a function (a Python callable, a hand-written C++ model): `spec` says what it
// takes and what it answers, as a description file would. The function gets each batch as
// the spec's shape and dtype (valid during the call only) and returns the outputs, f32.
using ModelFunction = std::function<std::vector<NamedTensor>(const Tensor& batch)>;
std::unique_ptr<Backend> function_backend(ModelSpec spec, ModelFunction fn, std::string engine = "function");
// Whether this build carries the LibTorch engine (FRAMEPIPE_TORCH).
bool torchscript_available();

}  // namespace framepipe
