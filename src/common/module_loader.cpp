#include "common/module_loader.hpp"

#include <dlfcn.h>
#include <link.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <vector>

namespace framepipe::detail {

namespace {
// The folders to look in, in order, without repeats: $FRAMEPIPE_MODULES alone where it is
// set; else, from the folder of the binary that holds this code (the CLI, the Python module,
// libframepipe.so, a test), that folder, its framepipe/ (a wheel: the modules beside the
// Python module's parts), and FRAMEPIPE_MODULES_RELATIVE's paths from it (src/CMakeLists.txt:
// bin/ -> <libdir>/framepipe, the Python module's folder -> <libdir>/framepipe). All relative
// to where the binary is: a moved prefix or a copied build finds its own modules.
std::vector<std::filesystem::path> folders() {
  std::vector<std::filesystem::path> out;
  auto add = [&](std::filesystem::path p) {
    p = p.lexically_normal();
    if (!p.empty() && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(std::move(p));
  };
  if (const char* env = std::getenv("FRAMEPIPE_MODULES"); env && *env) return {env};
  Dl_info self{};
  link_map* map = nullptr;
  if (dladdr1(reinterpret_cast<void*>(&folders), &self, reinterpret_cast<void**>(&map), RTLD_DL_LINKMAP)) {
    // In the program itself (the CLI), dladdr names it by argv[0], which may be anything
    // (`framepipe` run by pip's script): its link map's name is empty, and the kernel knows it.
    const bool program = map && (!map->l_name || !*map->l_name);
    std::error_code ec;
    const std::filesystem::path image =
        std::filesystem::canonical(program || !self.dli_fname ? "/proc/self/exe" : self.dli_fname, ec);
    if (!ec) {
      const std::filesystem::path here = image.parent_path();
      add(here);
      add(here / "framepipe");
#ifdef FRAMEPIPE_MODULES_RELATIVE
      const std::string relative = FRAMEPIPE_MODULES_RELATIVE;
      for (size_t from = 0; from <= relative.size();) {
        const size_t colon = std::min(relative.find(':', from), relative.size());
        if (colon > from) add(here / relative.substr(from, colon - from));
        from = colon + 1;
      }
#endif
    }
  }
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
         "\nset FRAMEPIPE_MODULES to the folder that holds it (installed: <libdir>/framepipe)";
}

}  // namespace framepipe::detail
