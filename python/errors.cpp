// framepipe.Error and its kinds as Python exceptions.
#include <Python.h>

#include <cerrno>

#include "bindings.hpp"
#include "framepipe/error.hpp"

namespace framepipe::python {

namespace {

// framepipe.Error and one subclass per ErrorKind. Where a Python built-in means the same,
// the subclass derives from it too, so `except IndexError` and `except ValueError` work.
PyObject* g_error_types[9] = {};
// A kind's error where the system said why, also the matching OSError subclass:
// FileNotFoundError (ENOENT), PermissionError (EACCES, EPERM), IsADirectoryError (EISDIR).
struct OsTwin {
  int os_error;
  PyObject** builtin;
};
const OsTwin kOsTwins[] = {{ENOENT, &PyExc_FileNotFoundError},
                           {EACCES, &PyExc_PermissionError},
                           {EPERM, &PyExc_PermissionError},
                           {EISDIR, &PyExc_IsADirectoryError}};
PyObject* g_os_types[9][4] = {};

PyObject* new_type(const char* name, PyObject* base, PyObject* also, const char* doc) {
  const std::string qualified = std::string("framepipe.") + name;
  PyObject* bases = also ? PyTuple_Pack(2, base, also) : PyTuple_Pack(1, base);
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases, nullptr);
  Py_DECREF(bases);
  if (!type) throw py::error_already_set();
  return type;
}

PyObject* new_exception(py::module_& m, const char* name, PyObject* base, PyObject* also, const char* doc) {
  PyObject* type = new_type(name, base, also, doc);
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

  // OpenError and ModelError of a missing file are also FileNotFoundError, and so on: types of
  // the kind's own name (a traceback reads framepipe.OpenError) that derive from both, kept
  // out of the module's names (catch the kind, or the built-in).
  for (size_t k = 0; k < 9; ++k)
    for (size_t t = 0; t < 4; ++t) {
      if (t == 2) {  // EPERM shares EACCES's type
        g_os_types[k][t] = g_os_types[k][1];
        continue;
      }
      // A heap type's tp_name is its own name, "OpenError" (the module is in __module__).
      const std::string name = reinterpret_cast<PyTypeObject*>(g_error_types[k])->tp_name;
      g_os_types[k][t] = new_type(name.c_str(), g_error_types[k], *kOsTwins[t].builtin,
                                  "The framepipe error and the OSError of the same cause.");
    }

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      const auto k = static_cast<size_t>(e.kind());
      for (size_t t = 0; t < 4 && e.os_error(); ++t) {
        if (kOsTwins[t].os_error != e.os_error()) continue;
        // OSError's (errno, message) form: e.errno is set, str(e) is "[Errno 2] message".
        py::tuple args = py::make_tuple(e.os_error(), std::string(e.what()));
        PyErr_SetObject(g_os_types[k][t], args.ptr());
        return;
      }
      PyObject* type = g_error_types[k];
      PyErr_SetString(type ? type : PyExc_RuntimeError, e.what());
    }
  });
}

}  // namespace framepipe::python
