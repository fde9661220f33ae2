// framepipe.Frames and framepipe.Tensor: the batch types handed to Python.
#include <string>

#include "bindings.hpp"
#include "framepipe/error.hpp"

namespace framepipe::python {

namespace {

py::list scenes_list(const std::vector<Scene>& scenes) {
  py::list out;
  for (const auto& s : scenes) {
    py::dict d;
    d["start"] = s.start;
    d["end"] = s.end;
    d["start_t"] = s.start_t;
    d["end_t"] = s.end_t;
    out.append(d);
  }
  return out;
}

}  // namespace

void bind_batches(py::module_& m) {
  py::class_<FrameBatch, std::shared_ptr<FrameBatch>>(m, "Frames", py::buffer_protocol(), R"doc(
Decoded frames with where each came from. ``numpy.asarray(frames)`` (or ``frames.array``) is
an (N, H, W, C) uint8 array, (N, T, H, W, C) for clips, sharing this object's memory.
``index``, ``pts``, ``t`` (seconds, as ffprobe's pts_time) and ``keyframe`` are per frame,
shaped (N,) or (N, T).)doc")
      .def_buffer([](FrameBatch& b) {
        return py::buffer_info(b.batch.pixels.data(), 1, py::format_descriptor<uint8_t>::format(),
                               static_cast<py::ssize_t>(b.shape.size()), b.shape, c_strides(b.shape, 1));
      })
      .def_property_readonly("array", [](py::object self) { return batch_array(self.cast<FrameBatch&>(), self); },
                             "the frames as a numpy array (no copy)")
      .def("__array__", [](py::object self, py::object dtype) {
            py::array a = batch_array(self.cast<FrameBatch&>(), self);
            return dtype.is_none() ? py::object(a) : a.attr("astype")(dtype);
          }, py::arg("dtype") = py::none())
      .def("__len__", [](const FrameBatch& b) { return b.shape.empty() ? 0 : b.shape[0]; })
      .def_property_readonly("shape", [](const FrameBatch& b) { return py::tuple(py::cast(b.shape)); })
      .def_property_readonly("clip_len", [](const FrameBatch& b) { return b.clip_len; })
      .def_property_readonly("index", [](const FrameBatch& b) { return info_array(b.batch.info, b.clip_len, "index"); })
      .def_property_readonly("pts", [](const FrameBatch& b) { return info_array(b.batch.info, b.clip_len, "pts"); })
      .def_property_readonly("t", [](const FrameBatch& b) { return info_array(b.batch.info, b.clip_len, "t"); })
      .def_property_readonly("keyframe",
                             [](const FrameBatch& b) { return info_array(b.batch.info, b.clip_len, "keyframe"); })
      .def_property_readonly("scenes", [](const FrameBatch& b) { return scenes_list(b.scenes); },
                             "scene samples: [{start, end, start_t, end_t}] (frames [start, end))")
      .def("__repr__", [](const FrameBatch& b) {
        std::string s = "<framepipe.Frames shape=(";
        for (size_t i = 0; i < b.shape.size(); ++i) s += (i ? ", " : "") + std::to_string(b.shape[i]);
        return s + ") uint8>";
      });

  py::class_<TensorBatch, std::shared_ptr<TensorBatch>>(m, "Tensor", py::buffer_protocol(), R"doc(
A preprocessed batch, ready for a model: float32 (or uint8) in layout NCHW, NHWC or NCTHW.
``numpy.asarray(t)``, ``t.numpy()``, ``numpy.from_dlpack(t)`` and ``torch.from_dlpack(t)``
share its memory. ``index``, ``pts`` and ``t`` give each row's frame (or each clip's
frames).)doc")
      .def_buffer([](TensorBatch& t) {
        const auto shp = tensor_shape_of(t);
        const auto item = item_size(t);
        const auto strides = c_strides(shp, item);
        const std::string fmt = t.tensor.dtype() == DType::F32 ? py::format_descriptor<float>::format()
                                                                : py::format_descriptor<uint8_t>::format();
        return py::buffer_info(t.tensor.data(), item, fmt, static_cast<py::ssize_t>(shp.size()), shp, strides);
      })
      .def("numpy", [](py::object self) { return tensor_array(self.cast<TensorBatch&>(), self); },
           "the tensor as a numpy array (no copy)")
      .def("__array__", [](py::object self, py::object dtype) {
            py::array a = tensor_array(self.cast<TensorBatch&>(), self);
            return dtype.is_none() ? py::object(a) : a.attr("astype")(dtype);
          }, py::arg("dtype") = py::none())
      .def("__dlpack__", [](const TensorBatch& t, py::object stream) {
            if (!stream.is_none() && !(py::isinstance<py::int_>(stream) && stream.cast<int64_t>() == -1))
              throw ConfigError("a framepipe.Tensor lives in CPU memory: __dlpack__ takes no stream");
            return to_dlpack(t);
          }, py::arg("stream") = py::none())
      .def("__dlpack_device__", [](const TensorBatch&) { return py::make_tuple(1, 0); })
      .def("__len__", [](const TensorBatch& t) { return t.tensor.shape().empty() ? 0 : t.tensor.shape()[0]; })
      .def_property_readonly("shape", [](const TensorBatch& t) { return py::tuple(py::cast(t.tensor.shape())); })
      .def_property_readonly("dtype", [](const TensorBatch& t) {
        return t.tensor.dtype() == DType::F32 ? py::dtype::of<float>() : py::dtype::of<uint8_t>();
      })
      .def_property_readonly("layout", [](const TensorBatch& t) {
                               return std::string(layout_name(t.tensor.layout(), t.tensor.shape().size() == 5));
                             })
      .def_property_readonly("clip_len", [](const TensorBatch& t) { return t.clip_len; })
      .def_property_readonly("index", [](const TensorBatch& t) { return info_array(t.rows, t.clip_len, "index"); })
      .def_property_readonly("pts", [](const TensorBatch& t) { return info_array(t.rows, t.clip_len, "pts"); })
      .def_property_readonly("t", [](const TensorBatch& t) { return info_array(t.rows, t.clip_len, "t"); })
      .def("__repr__", [](const TensorBatch& t) {
        std::string s = "<framepipe.Tensor shape=(";
        const auto& shape = t.tensor.shape();
        for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
        return s + ") " + to_string(t.tensor.dtype()) + " " + to_string(t.tensor.layout()) + ">";
      });
}


}  // namespace framepipe::python
