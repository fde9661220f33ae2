// framepipe.Error and its kinds as Python exceptions.
#include <Python.h>

#include "bindings.hpp"
#include "framepipe/error.hpp"

namespace framepipe::python {

namespace {

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

}  // namespace framepipe::python
