// Decoded frames and tensors as numpy arrays over their own memory, without copies.
#include <cstring>
#include <string>

#include "bindings.hpp"
#include "framepipe/error.hpp"

namespace framepipe::python {

std::vector<py::ssize_t> c_strides(const std::vector<py::ssize_t>& shape, py::ssize_t item) {
  std::vector<py::ssize_t> strides(shape.size());
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = item;
    item *= shape[i];
  }
  return strides;
}
std::vector<py::ssize_t> tensor_shape_of(const TensorBatch& t) {
  return {t.tensor.shape().begin(), t.tensor.shape().end()};
}
py::ssize_t item_size(const TensorBatch& t) { return static_cast<py::ssize_t>(dtype_size(t.tensor.dtype())); }

py::array batch_array(const FrameBatch& b, py::handle owner) {
  const auto strides = c_strides(b.shape, 1);
  // A const_cast: numpy wants a mutable pointer; the array is writable and the batch is its.
  return py::array(py::dtype::of<uint8_t>(), b.shape, strides, const_cast<uint8_t*>(b.batch.pixels.data()), owner);
}

py::array tensor_array(const TensorBatch& t, py::handle owner) {
  const auto shp = tensor_shape_of(t);
  const auto strides = c_strides(shp, item_size(t));
  py::dtype dt = t.tensor.dtype() == DType::F32 ? py::dtype::of<float>() : py::dtype::of<uint8_t>();
  return py::array(dt, shp, strides, const_cast<void*>(t.tensor.data()), owner);
}

py::array info_array(const std::vector<FrameInfo>& info, int64_t clip_len, const char* field) {
  std::vector<py::ssize_t> shape;
  if (clip_len > 1) {
    shape = {static_cast<py::ssize_t>(info.size() / static_cast<size_t>(clip_len)), static_cast<py::ssize_t>(clip_len)};
  } else {
    shape = {static_cast<py::ssize_t>(info.size())};
  }
  const std::string f = field;
  if (f == "t") {
    py::array_t<double> a(shape);
    double* p = a.mutable_data();
    for (size_t i = 0; i < info.size(); ++i) p[i] = info[i].t;
    return a;
  }
  if (f == "keyframe") {
    py::array_t<bool> a(shape);
    bool* p = a.mutable_data();
    for (size_t i = 0; i < info.size(); ++i) p[i] = info[i].keyframe;
    return a;
  }
  py::array_t<int64_t> a(shape);
  int64_t* p = a.mutable_data();
  for (size_t i = 0; i < info.size(); ++i) p[i] = f == "index" ? info[i].index : info[i].pts;
  return a;
}


}  // namespace framepipe::python
