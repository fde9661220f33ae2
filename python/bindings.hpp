// The pybind11 module `framepipe`: shared pieces of its translation units.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <vector>

#include "framepipe/media/frame.hpp"
#include "framepipe/reader/video_reader.hpp"
#include "framepipe/sample/sampling.hpp"
#include "framepipe/tensor/tensor.hpp"

namespace framepipe::python {

namespace py = pybind11;

// Decoded frames handed to Python: N x H x W x C (or N x T x H x W x C for clips) uint8 in
// one buffer that numpy arrays view without a copy (the arrays' base is this object).
struct FrameBatch {
  Batch batch;
  std::vector<py::ssize_t> shape;  // the array's shape
  int64_t clip_len = 1;            // > 1: rows are clips
  std::vector<Scene> scenes;       // scene samples only
};

// A preprocessed tensor handed to Python (numpy view, buffer protocol, DLPack).
struct TensorBatch {
  Tensor tensor;
  std::vector<FrameInfo> rows;  // row-major: row r, frame t at r * clip_len + t
  int64_t clip_len = 1;
};

// A numpy array over the whole batch, sharing its memory; `owner` is the Python object that
// holds the batch.
py::array batch_array(const FrameBatch& b, py::handle owner);
py::array tensor_array(const TensorBatch& t, py::handle owner);
// index / pts / t / keyframe of every frame, shaped as the rows (N) or (N, T).
py::array info_array(const std::vector<FrameInfo>& info, int64_t clip_len, const char* field);
// {"video_size": "1280x720", "framerate": 30} -> FFmpeg's open options, values as str() gives them.
InputOptions input_options_of(const py::dict& d);

// Byte strides of a C-order array; a tensor's shape and item size as numpy counts them.
std::vector<py::ssize_t> c_strides(const std::vector<py::ssize_t>& shape, py::ssize_t item);
std::vector<py::ssize_t> tensor_shape_of(const TensorBatch& t);
py::ssize_t item_size(const TensorBatch& t);
// A DLPack capsule over the tensor (kept alive by the capsule).
py::capsule to_dlpack(const TensorBatch& t);

// A path (str or os.PathLike), a URL, or bytes-like data in memory; `who` names the caller
// in the ConfigError for anything else.
Source source_of(py::handle source, const char* who);
// Frame indices from an int, a list, a range or an integer numpy array.
std::vector<int64_t> to_indices(py::handle obj);

void bind_errors(py::module_& m);
void bind_batches(py::module_& m);
void bind_reader(py::module_& m);
void bind_audio(py::module_& m);
void bind_transform(py::module_& m);
void bind_writer(py::module_& m);
void bind_run(py::module_& m);
void bind_corpus(py::module_& m);

}  // namespace framepipe::python
