// The core's side of engine_abi.hpp: loads framepipe_engines.so once, when the first model
// opens (common/module_loader.hpp says where it is looked for).
#include <dlfcn.h>

#include <mutex>
#include <string>

#include "common/module_loader.hpp"
#include "framepipe/error.hpp"
#include "infer/engine_abi.hpp"

namespace framepipe::detail {

namespace {
const EngineTable* table = nullptr;

const EngineHost host{kEngineAbi,
                      sizeof(ModelSpec),
                      sizeof(Tensor),
                      [](std::vector<int64_t> shape, Layout layout, DType dtype) {
                        return Tensor::allocate(std::move(shape), layout, dtype);
                      },
                      [](const Tensor& t) { return t.numel(); },
                      [](DType d) { return dtype_size(d); },
                      [](ModelFormat f) { return to_string(f); }};

bool accept(void* handle) {
  using Entry = const EngineTable* (*)(const EngineHost*);
  auto entry = reinterpret_cast<Entry>(dlsym(handle, "framepipe_engine_table"));
  const EngineTable* t = entry ? entry(&host) : nullptr;
  if (!t || t->abi != kEngineAbi || t->spec_size != sizeof(ModelSpec) || t->tensor_size != sizeof(Tensor))
    return false;
  table = t;
  return true;
}
}  // namespace

const EngineTable& engines() {
  static std::mutex m;
  std::lock_guard<std::mutex> lock(m);
  if (!table) {
    std::string why;
    if (!load_module("framepipe_engines.so", accept, why))
      throw ModelError(module_error("the model engines (LibTorch, OpenCV DNN)", "framepipe_engines.so", why));
  }
  return *table;
}

}  // namespace framepipe::detail
