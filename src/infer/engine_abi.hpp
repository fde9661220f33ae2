// The boundary between the core and the model engines. LibTorch and OpenCV DNN live in a module
// of their own, framepipe_engines.so, loaded when the first model opens: their static
// initialisers cost ~0.5 s and ~130 MiB, which no command that runs no model should pay.
// Both sides are built from the same tree in one build; the ABI number and the sizes of the
// types that cross catch a module from another build.
#pragma once

#include <cstddef>
#include <memory>

#include "framepipe/infer/backend.hpp"

namespace framepipe::detail {

inline constexpr int kEngineAbi = 1;

// What the module calls back into: the core's tensor functions, of which it has no copy.
struct EngineHost {
  int abi;
  size_t spec_size, tensor_size;
  Tensor (*allocate)(std::vector<int64_t> shape, Layout layout, DType dtype);
  int64_t (*numel)(const Tensor& t);
  size_t (*dtype_size)(DType d);
  const char* (*format_name)(ModelFormat f);
};

// What the module gives: the engines.
struct EngineTable {
  int abi;
  size_t spec_size, tensor_size;
  bool torchscript;  // built with LibTorch
  std::unique_ptr<Backend> (*open_torchscript)(const ModelSpec& spec);
  std::unique_ptr<Backend> (*open_opencv_dnn)(const ModelSpec& spec);
  std::unique_ptr<Backend> (*open_builtin)(const ModelSpec& spec);
};

// Host side: the module, loaded once (thread-safe; common/module_loader.hpp says where it is
// looked for). A ModelError names each place tried and why it failed.
const EngineTable& engines();

}  // namespace framepipe::detail

extern "C" const framepipe::detail::EngineTable* framepipe_engine_table(const framepipe::detail::EngineHost* host);
