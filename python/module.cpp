// framepipe for Python: the module. It only registers what the other files bind.
#include <dlfcn.h>

#include <string>

#include "framepipe/version.hpp"
#include "bindings.hpp"

namespace {
// The folder of pure-Python submodules beside this extension (framepipe.compat.decord, ...):
// <folder of framepipe*.so>/framepipe. Setting it as __path__ lets `import framepipe.compat`
// find them, while `import framepipe` stays this module.
std::string python_parts() {
  Dl_info self{};
  if (!dladdr(reinterpret_cast<void*>(&python_parts), &self) || !self.dli_fname) return {};
  std::string file = self.dli_fname;
  const size_t slash = file.rfind('/');
  return (slash == std::string::npos ? std::string(".") : file.substr(0, slash)) + "/framepipe";
}
}  // namespace

PYBIND11_MODULE(framepipe, m) {
  m.doc() = R"doc(framepipe: exact, fast video frames and clips for machine learning, and models run over video.

    reader = framepipe.VideoReader("clip.mp4")        # frame i is ffmpeg's frame i
    frame = reader[1234]                               # (H, W, 3) uint8 RGB
    batch = reader.get_batch([0, 10, 20])              # (3, H, W, 3), no copy
    clips = reader.tensor("clips:16:2:4", size=(112, 112), layout="ncthw")
    for result in framepipe.run("clip.mp4", "builtin:hog-people", track=True):
        print(result["t"], result["objects"])
)doc";
  m.attr("__version__") = framepipe::kVersion;
  pybind11::list path;
  if (std::string parts = python_parts(); !parts.empty()) path.append(parts);
  m.attr("__path__") = path;
  framepipe::python::bind_errors(m);
  framepipe::python::bind_batches(m);
  framepipe::python::bind_reader(m);
  framepipe::python::bind_audio(m);
  framepipe::python::bind_transform(m);
  framepipe::python::bind_writer(m);
  framepipe::python::bind_run(m);
  framepipe::python::bind_corpus(m);
}
