// DLPack capsules of tensors (the stable C ABI, v0.x: what numpy >= 1.22 and PyTorch take).
#include <Python.h>

#include <cstring>
#include <string>

#include "bindings.hpp"
#include "framepipe/error.hpp"

namespace framepipe::python {

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

}  // namespace

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

}  // namespace framepipe::python
