// framepipe's own modules: shared objects built beside the core and loaded only when needed
// (the model engines, the image encoders), so that a command pays for LibTorch or OpenCV's
// codecs only if it uses them. A module is looked for in $FRAMEPIPE_MODULES (a folder) where
// that is set, else relative to the binary that holds the core (the CLI, the Python module,
// libframepipe.so): beside it, in its framepipe/, and in <libdir>/framepipe of its prefix
// (module_loader.cpp). Modules are never unloaded.
#pragma once

#include <string>

namespace framepipe::detail {

// The handle of `file` (for example "framepipe_engines.so") once `accept(handle)` takes it, or
// nullptr with `why` listing each place tried and the reason it failed.
void* load_module(const char* file, bool (*accept)(void* handle), std::string& why);

// "cannot load WHAT (FILE); tried: ...; set FRAMEPIPE_MODULES to the folder that holds it".
std::string module_error(const char* what, const char* file, const std::string& why);

}  // namespace framepipe::detail
