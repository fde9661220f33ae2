// framepipe for Python: the module, its exceptions, and the batch types that hand decoded
// frames and tensors to numpy (and to anything that takes DLPack) without copies.
#include <Python.h>

#include <cstring>
#include <string>

#include "bindings.hpp"
#include "framepipe/error.hpp"

namespace framepipe::python {

namespace {

// ---- exceptions ---------------------------------------------------------------------------
// framepipe.Error and one subclass per ErrorKind. Where a Python built-in means the same,
// the subclass derives from it too, so `except IndexError` and `except ValueError` work.
PyObject* g_error_types[9] = {};

PyObject* new_exception(py::module_& m, const char* name, PyObject* base, PyObject* also, const char* doc) {
  const std::string qualified = std::string("framepipe.") + name;
  PyObject* bases = also ? PyTuple_Pack(2, base, also) : PyTuple_Pack(1, base);
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases, nullptr);
  Py_DECREF(bases);
  if (!type) throw py::error_already_set();
  m.add_object(name, py::reinterpret_borrow<py::object>(type));
  return type;
}

}  // namespace

void bind_errors(py::module_& m) {
  PyObject* base = PyErr_NewExceptionWithDoc("framepipe.Error", "Any error framepipe reports; message names the input "
                                             "and the reason.", PyExc_Exception, nullptr);
  if (!base) throw py::error_already_set();
  m.add_object("Error", py::reinterpret_borrow<py::object>(base));
  auto kind = [](ErrorKind k) { return static_cast<size_t>(k); };
  g_error_types[kind(ErrorKind::Open)] =
      new_exception(m, "OpenError", base, nullptr, "The input cannot be opened or is not a video framepipe can read.");
  g_error_types[kind(ErrorKind::Decode)] = new_exception(m, "DecodeError", base, nullptr, "A frame could not be decoded.");
  g_error_types[kind(ErrorKind::OutOfRange)] = new_exception(
      m, "OutOfRangeError", base, PyExc_IndexError, "An index or time outside the valid range (also an IndexError).");
  g_error_types[kind(ErrorKind::Unsupported)] =
      new_exception(m, "UnsupportedError", base, nullptr, "A codec, format or option this build cannot handle.");
  g_error_types[kind(ErrorKind::Model)] =
      new_exception(m, "ModelError", base, nullptr, "A model, its description, or what it returned is wrong.");
  g_error_types[kind(ErrorKind::Config)] =
      new_exception(m, "ConfigError", base, PyExc_ValueError, "A bad option, spec or argument (also a ValueError).");
  g_error_types[kind(ErrorKind::Io)] =
      new_exception(m, "IoError", base, PyExc_OSError, "Writing an output failed (also an OSError).");
  g_error_types[kind(ErrorKind::Transient)] =
      new_exception(m, "TransientError", base, nullptr, "Network or stream trouble that may succeed on retry.");
  g_error_types[kind(ErrorKind::Internal)] = base;

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      PyObject* type = g_error_types[static_cast<size_t>(e.kind())];
      PyErr_SetString(type ? type : PyExc_RuntimeError, e.what());
    }
  });
}

// ---- arrays -------------------------------------------------------------------------------

namespace {
// Byte strides of a C-order array.
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
}  // namespace

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

InputOptions input_options_of(const py::dict& d) {
  InputOptions out;
  for (auto [key, value] : d) out.emplace_back(py::str(key).cast<std::string>(), py::str(value).cast<std::string>());
  return out;
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

namespace {

// ---- DLPack (the stable C ABI, v0.x: what numpy >= 1.22 and PyTorch take) -----------------
struct DLDevice {
  int32_t device_type;  // 1: CPU
  int32_t device_id;
};
struct DLDataType {
  uint8_t code;  // 1: uint, 2: float
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // null: compact, row-major
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor*);
};
// Keeps the tensor's memory alive for as long as the consumer holds it; no Python object is
// touched in the deleter, so any thread may call it.
struct DLContext {
  std::shared_ptr<void> owner;
  std::vector<int64_t> shape;
  DLManagedTensor managed{};
};

void dl_delete(DLManagedTensor* m) { delete static_cast<DLContext*>(m->manager_ctx); }

extern "C" void dl_capsule_destructor(PyObject* capsule) {
  if (PyCapsule_IsValid(capsule, "used_dltensor")) return;  // a consumer took it over
  auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, "dltensor"));
  if (m) {
    m->deleter(m);
  } else {
    PyErr_Clear();
  }
}

py::capsule to_dlpack(const TensorBatch& t) {
  if (!t.tensor.owns()) throw ConfigError("this tensor does not own its memory and cannot be exported");
  auto* ctx = new DLContext{t.tensor.owner(), t.tensor.shape(), {}};
  DLTensor& dl = ctx->managed.dl_tensor;
  dl.data = const_cast<void*>(t.tensor.data());
  dl.device = {1, 0};
  dl.ndim = static_cast<int32_t>(ctx->shape.size());
  dl.dtype = t.tensor.dtype() == DType::F32 ? DLDataType{2, 32, 1} : DLDataType{1, 8, 1};
  dl.shape = ctx->shape.data();
  dl.strides = nullptr;
  dl.byte_offset = 0;
  ctx->managed.manager_ctx = ctx;
  ctx->managed.deleter = dl_delete;
  PyObject* capsule = PyCapsule_New(&ctx->managed, "dltensor", dl_capsule_destructor);
  if (!capsule) {
    delete ctx;
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::capsule>(capsule);
}

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
      .def_property_readonly("layout", [](const TensorBatch& t) { return std::string(to_string(t.tensor.layout())); })
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

PYBIND11_MODULE(framepipe, m) {
  m.doc() = R"doc(framepipe: exact, fast video frames and clips for machine learning, and models run over video.

    reader = framepipe.VideoReader("clip.mp4")        # frame i is ffmpeg's frame i
    frame = reader[1234]                               # (H, W, 3) uint8 RGB
    batch = reader.get_batch([0, 10, 20])              # (3, H, W, 3), no copy
    clips = reader.tensor("clips:16:2:4", size=(112, 112), layout="ncthw")
    for result in framepipe.run("clip.mp4", "builtin:hog-people", track=True):
        print(result["t"], result["objects"])
)doc";
  m.attr("__version__") = "0.1.0";
  framepipe::python::bind_errors(m);
  framepipe::python::bind_batches(m);
  framepipe::python::bind_reader(m);
  framepipe::python::bind_run(m);
}
