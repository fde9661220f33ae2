#include "framepipe/infer/backend.hpp"

#include <sstream>

#include "framepipe/error.hpp"
#include "infer/engine_abi.hpp"

namespace framepipe {

namespace {
// [2, 3, 64, 64]; with `batch_free` the first dimension prints as N, and 0 (any size) as *.
std::string shape_text(const std::vector<int64_t>& shape, bool batch_free = false) {
  std::ostringstream s;
  s << '[';
  for (size_t i = 0; i < shape.size(); ++i) {
    s << (i ? ", " : "");
    if (i == 0 && batch_free) s << 'N';
    else if (shape[i] == 0 && batch_free) s << '*';
    else s << shape[i];
  }
  s << ']';
  return s.str();
}
}  // namespace

std::vector<NamedTensor> Backend::run(const Tensor& batch) {
  const auto& given = batch.shape();
  const int64_t rows = given.empty() ? 0 : given[0];
  std::vector<int64_t> expected = spec_.input_shape(rows);
  // Source-sized models (width/height 0) accept any height and width.
  bool ok = given.size() == expected.size() && rows > 0;
  for (size_t i = 1; ok && i < given.size(); ++i) ok = expected[i] == 0 || expected[i] == given[i];
  if (!ok)
    throw ModelError("model " + spec_.name + ": input shape expected " + shape_text(spec_.input_shape(0), true) +
                     ", given " + shape_text(given));
  if (batch.dtype() != spec_.dtype)
    throw ModelError("model " + spec_.name + ": input dtype expected " + to_string(spec_.dtype) + ", given " +
                     to_string(batch.dtype()));
  return forward(batch);
}

namespace {
class FunctionBackend final : public Backend {
 public:
  FunctionBackend(ModelSpec spec, ModelFunction fn, std::string engine)
      : Backend(std::move(spec)), fn_(std::move(fn)), engine_(std::move(engine)) {}
  const char* engine() const override { return engine_.c_str(); }
  void set_threads(int) override {}

 protected:
  std::vector<NamedTensor> forward(const Tensor& batch) override {
    std::vector<NamedTensor> out = fn_(batch);
    if (out.empty()) throw ModelError("model " + spec_.name + ": the function returned no outputs");
    for (const auto& o : out)
      if (o.tensor.dtype() != DType::F32)
        throw ModelError("model " + spec_.name + ": output '" + o.name + "' is not float32");
    return out;
  }

 private:
  ModelFunction fn_;
  std::string engine_;
};
}  // namespace

std::unique_ptr<Backend> function_backend(ModelSpec spec, ModelFunction fn, std::string engine) {
  if (!fn) throw ConfigError("function_backend: no function given");
  return std::make_unique<FunctionBackend>(std::move(spec), std::move(fn), std::move(engine));
}

bool torchscript_available() { return detail::engines().torchscript; }

std::unique_ptr<Backend> open_backend(const ModelSpec& spec, const BackendOptions& options) {
  std::unique_ptr<Backend> backend;
  if (spec.format == ModelFormat::Builtin) {
    backend = detail::engines().open_builtin(spec);
  } else if (spec.format == ModelFormat::Function) {
    throw ModelError("model " + spec.name + ": its description names no model file (a function model is run "
                     "through function_backend)");
  } else {
    std::string engine = options.engine;
    if (engine == "auto") engine = spec.format == ModelFormat::TorchScript ? "torchscript" : "opencv";
    if (engine == "torchscript") {
      if (spec.format != ModelFormat::TorchScript)
        throw ModelError("model " + spec.path + ": the torchscript engine runs TorchScript files (.pt), not " +
                         to_string(spec.format));
      backend = detail::engines().open_torchscript(spec);
    } else if (engine == "opencv") {
      if (spec.format == ModelFormat::TorchScript)
        throw ModelError("model " + spec.path + ": OpenCV DNN cannot read TorchScript; use the torchscript engine");
      backend = detail::engines().open_opencv_dnn(spec);
    } else {
      throw ConfigError("unknown engine '" + engine + "' (one of: auto, torchscript, opencv)");
    }
  }
  if (options.threads > 0) backend->set_threads(options.threads);
  return backend;
}

std::unique_ptr<Backend> open_backend(const std::string& model, const BackendOptions& options) {
  return open_backend(load_model_spec(model), options);
}

}  // namespace framepipe
