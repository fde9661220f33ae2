// The engines behind open_backend(), each in its own file so that LibTorch's and OpenCV
// DNN's headers stay inside the one translation unit that needs them. They are built into
// the framepipe_engines.so module (engine_abi.hpp), not into the core.
#pragma once

#include <memory>

#include "framepipe/infer/backend.hpp"

namespace framepipe::detail {

std::unique_ptr<Backend> open_torchscript(const ModelSpec& spec);  // torchscript_backend.cpp
bool torchscript_engine_built();
std::unique_ptr<Backend> open_opencv_dnn(const ModelSpec& spec);   // opencv_dnn_backend.cpp
std::unique_ptr<Backend> open_builtin(const ModelSpec& spec);      // builtin_detectors.cpp

// Copies a float tensor of any shape into an owning framepipe Tensor (engine_entry.cpp).
NamedTensor copy_output(std::string name, const float* data, std::vector<int64_t> shape);

}  // namespace framepipe::detail
