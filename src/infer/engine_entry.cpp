// The module's side of engine_abi.hpp. The engines use a few of the core's tensor functions;
// the module defines them here as calls back into the core (its linker script keeps every
// symbol but framepipe_engine_table local, so these never stand in for the core's own).
#include "framepipe/error.hpp"
#include "infer/engine_abi.hpp"
#include "infer/engines.hpp"

#include <cstring>

namespace {
const framepipe::detail::EngineHost* host_ = nullptr;
}

namespace framepipe {
size_t dtype_size(DType d) { return host_->dtype_size(d); }
int64_t Tensor::numel() const { return host_->numel(*this); }
Tensor Tensor::allocate(std::vector<int64_t> shape, Layout layout, DType dtype) {
  return host_->allocate(std::move(shape), layout, dtype);
}
const char* to_string(ModelFormat f) { return host_->format_name(f); }
}  // namespace framepipe

namespace framepipe::detail {
NamedTensor copy_output(std::string name, const float* data, std::vector<int64_t> shape) {
  NamedTensor out{std::move(name), Tensor::allocate(std::move(shape), Layout::NCHW, DType::F32)};
  if (out.tensor.nbytes() > 0) std::memcpy(out.tensor.data(), data, out.tensor.nbytes());
  return out;
}
}  // namespace framepipe::detail

extern "C" __attribute__((visibility("default"))) const framepipe::detail::EngineTable* framepipe_engine_table(
    const framepipe::detail::EngineHost* host) {
  using namespace framepipe::detail;
  if (!host || host->abi != kEngineAbi || host->spec_size != sizeof(framepipe::ModelSpec) ||
      host->tensor_size != sizeof(framepipe::Tensor))
    return nullptr;
  host_ = host;
  static const EngineTable table{kEngineAbi,      sizeof(framepipe::ModelSpec), sizeof(framepipe::Tensor),
                                 torchscript_engine_built(), open_torchscript, open_opencv_dnn,
                                 open_builtin};
  return &table;
}
