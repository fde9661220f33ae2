// Python values to framepipe options.
#include "bindings.hpp"
#include "framepipe/error.hpp"

namespace framepipe::python {

InputOptions input_options_of(const py::dict& d) {
  InputOptions out;
  for (auto [key, value] : d) out.emplace_back(py::str(key).cast<std::string>(), py::str(value).cast<std::string>());
  return out;
}


}  // namespace framepipe::python
