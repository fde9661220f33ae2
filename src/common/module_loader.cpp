#include "common/module_loader.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <vector>

namespace framepipe::detail {

namespace {
// The folders to look in, in order, without repeats.
std::vector<std::filesystem::path> folders() {
  std::vector<std::filesystem::path> out;
  auto add = [&](std::filesystem::path p) {
    if (!p.empty() && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(std::move(p));
  };
  if (const char* env = std::getenv("FRAMEPIPE_MODULES"); env && *env) return {env};
  Dl_info self{};
  if (dladdr(reinterpret_cast<void*>(&folders), &self) && self.dli_fname && *self.dli_fname) {
    std::error_code ec;
    const std::filesystem::path image = std::filesystem::canonical(self.dli_fname, ec);
    if (!ec) add(image.parent_path());
  }
#ifdef FRAMEPIPE_MODULES_BUILT
  add(FRAMEPIPE_MODULES_BUILT);
#endif
  return out;
}
}  // namespace

void* load_module(const char* file, bool (*accept)(void* handle), std::string& why) {
  for (const auto& folder : folders()) {
    const std::string path = (folder / file).string();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      why += "\n  " + path + ": no such file";
      continue;
    }
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* said = dlerror();
      std::string e = said ? said : "";
      if (e.rfind(path + ": ", 0) == 0) e.erase(0, path.size() + 2);  // dlerror() says "PATH: reason"
      why += "\n  " + path + ": " + (e.empty() ? "cannot be loaded" : e);
      continue;
    }
    if (accept(handle)) return handle;
    why += "\n  " + path + ": not this framepipe's module (another build, or another library)";
    dlclose(handle);
  }
  return nullptr;
}

std::string module_error(const char* what, const char* file, const std::string& why) {
  return std::string("cannot load ") + what + " (" + file + "); tried:" + why +
         "\nset FRAMEPIPE_MODULES to the folder that holds it, or rebuild (make build)";
}

}  // namespace framepipe::detail
