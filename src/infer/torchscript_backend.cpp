// TorchScript through LibTorch. The only file that includes LibTorch's headers.
#include "infer/engines.hpp"

#include "framepipe/error.hpp"

#ifdef FRAMEPIPE_HAVE_TORCH
#include <ATen/Parallel.h>
#include <torch/script.h>
#endif

namespace framepipe::detail {

#ifdef FRAMEPIPE_HAVE_TORCH
namespace {

// The first line of a LibTorch message says what went wrong; the rest is a C++ backtrace.
std::string first_lines(const std::string& what, int n = 3) {
  size_t pos = 0;
  for (int i = 0; i < n && pos != std::string::npos; ++i) {
    pos = what.find('\n', pos == 0 ? 0 : pos + 1);
  }
  return pos == std::string::npos ? what : what.substr(0, pos);
}

class TorchScriptBackend final : public Backend {
 public:
  explicit TorchScriptBackend(ModelSpec spec) : Backend(std::move(spec)) {
    try {
      module_ = torch::jit::load(spec_.path, torch::kCPU);
    } catch (const c10::Error& e) {
      throw ModelError("model " + spec_.path + ": not a TorchScript file LibTorch can load (" +
                       first_lines(e.what_without_backtrace(), 1) +
                       "); save it with torch.jit.trace(...).save() or torch.jit.script(...).save()");
    }
    module_.eval();
    // Freezing inlines the weights and folds batch norms into convolutions; the inference
    // pass then picks oneDNN kernels and layouts. About a third faster on CPU convnets
    // (bench/bench_infer.py); outputs move by float rounding only. Some modules cannot be
    // frozen (no forward, mutable attributes): they run as loaded.
    try {
      module_ = torch::jit::optimize_for_inference(module_);
      optimized_ = true;
    } catch (const std::exception&) {
      optimized_ = false;
    }
    // torchvision's detection models take a list of images, not a batch tensor.
    try {
      const auto& args = module_.get_method("forward").function().getSchema().arguments();
      list_input_ = args.size() > 1 && args[1].type()->kind() == c10::TypeKind::ListType;
    } catch (const std::exception&) {
      list_input_ = false;
    }
  }

  const char* engine() const override { return "torchscript"; }
  void set_threads(int threads) override { at::set_num_threads(threads); }

 protected:
  std::vector<NamedTensor> forward(const Tensor& batch) override {
    std::vector<int64_t> shape = batch.shape();
    auto type = batch.dtype() == DType::F32 ? torch::kFloat32 : torch::kUInt8;
    // from_blob borrows the batch: no copy on the way in.
    torch::Tensor input = torch::from_blob(const_cast<void*>(batch.data()), shape, torch::TensorOptions().dtype(type));
    c10::InferenceMode guard;
    c10::IValue result;
    try {
      if (list_input_) {  // one [C, H, W] (or [C, T, H, W]) image a row
        c10::List<torch::Tensor> images;
        for (int64_t i = 0; i < input.size(0); ++i) images.push_back(input[i]);
        result = module_.forward({images});
      } else {
        result = module_.forward({input});
      }
    } catch (const c10::Error& e) {
      throw ModelError("model " + spec_.path + ": forward failed on input " + sizes(input) + ": " +
                       first_lines(e.what_without_backtrace()));
    } catch (const std::exception& e) {
      throw ModelError("model " + spec_.path + ": forward failed on input " + sizes(input) + ": " + first_lines(e.what()));
    }
    std::vector<NamedTensor> out;
    collect("output", result, out);
    if (out.empty()) throw ModelError("model " + spec_.path + ": forward returned no tensor");
    return out;
  }

 private:
  static std::string sizes(const torch::Tensor& t) {
    std::string s = "[";
    for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
    return s + "]";
  }

  // Outputs are named: a lone tensor "output", a tuple or list "output0", "output1", ...,
  // a dict by its keys.
  void collect(const std::string& name, const c10::IValue& v, std::vector<NamedTensor>& out) {
    if (v.isTensor()) {
      torch::Tensor t = v.toTensor().to(torch::kFloat32).contiguous();
      out.push_back(copy_output(name, t.data_ptr<float>(), t.sizes().vec()));
    } else if (v.isTuple()) {
      const auto& items = v.toTupleRef().elements();
      for (size_t i = 0; i < items.size(); ++i) collect(name + std::to_string(i), items[i], out);
    } else if (v.isList()) {
      auto items = v.toListRef();
      for (size_t i = 0; i < items.size(); ++i) collect(name + std::to_string(i), items[i], out);
    } else if (v.isGenericDict()) {
      for (const auto& item : v.toGenericDict()) {
        if (item.key().isString()) collect(item.key().toStringRef(), item.value(), out);
      }
    } else {
      throw ModelError("model " + spec_.path + ": output '" + name + "' is a " + v.tagKind() +
                       ", not a tensor, tuple, list or dict of tensors");
    }
  }

  torch::jit::script::Module module_;
  bool optimized_ = false, list_input_ = false;
};

}  // namespace

std::unique_ptr<Backend> open_torchscript(const ModelSpec& spec) { return std::make_unique<TorchScriptBackend>(spec); }
bool torchscript_engine_built() { return true; }

#else

std::unique_ptr<Backend> open_torchscript(const ModelSpec& spec) {
  throw UnsupportedError("model " + spec.path +
                         ": this framepipe was built without LibTorch (FRAMEPIPE_TORCH=OFF); install libtorch-dev and "
                         "rebuild, or export the model to ONNX");
}
bool torchscript_engine_built() { return false; }

#endif

}  // namespace framepipe::detail
