// The core's side of engine_abi.hpp: finds framepipe_engines.so and loads it once, when the
// first model opens. It is never unloaded (backends it made may live until exit).
#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "framepipe/error.hpp"
#include "infer/engine_abi.hpp"

namespace framepipe::detail {

namespace {
constexpr const char* kModuleName = "framepipe_engines.so";
std::atomic<bool> loaded{false};

const EngineHost host{kEngineAbi,
                      sizeof(ModelSpec),
                      sizeof(Tensor),
                      [](std::vector<int64_t> shape, Layout layout, DType dtype) {
                        return Tensor::allocate(std::move(shape), layout, dtype);
                      },
                      [](const Tensor& t) { return t.numel(); },
                      [](DType d) { return dtype_size(d); },
                      [](ModelFormat f) { return to_string(f); }};

// Where to look, in order, without repeats.
std::vector<std::string> candidates() {
  std::vector<std::string> out;
  auto add = [&](std::string p) {
    if (!p.empty() && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(std::move(p));
  };
  if (const char* env = std::getenv("FRAMEPIPE_ENGINES"); env && *env) return {env};
  Dl_info self{};
  if (dladdr(reinterpret_cast<void*>(&candidates), &self) && self.dli_fname && *self.dli_fname) {
    std::error_code ec;
    std::filesystem::path image = std::filesystem::canonical(self.dli_fname, ec);
    if (!ec) add((image.parent_path() / kModuleName).string());
  }
#ifdef FRAMEPIPE_ENGINES_BUILT
  add(FRAMEPIPE_ENGINES_BUILT);
#endif
  return out;
}

const EngineTable* load(std::string& why) {
  for (const std::string& path : candidates()) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      why += "\n  " + path + ": no such file";
      continue;
    }
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* said = dlerror();
      std::string e = said ? said : "";
      // dlerror() says "PATH: reason"; keep the reason.
      if (e.rfind(path + ": ", 0) == 0) e.erase(0, path.size() + 2);
      why += "\n  " + path + ": " + (e.empty() ? "cannot be loaded" : e);
      continue;
    }
    using Entry = const EngineTable* (*)(const EngineHost*);
    auto entry = reinterpret_cast<Entry>(dlsym(handle, "framepipe_engine_table"));
    const EngineTable* table = entry ? entry(&host) : nullptr;
    if (table && table->abi == kEngineAbi && table->spec_size == sizeof(ModelSpec) &&
        table->tensor_size == sizeof(Tensor))
      return table;
    why += "\n  " + path + (entry ? ": built from another framepipe (its interface differs)" : ": not framepipe's engines");
    dlclose(handle);
  }
  return nullptr;
}
}  // namespace

const EngineTable& engines() {
  static std::mutex m;
  static const EngineTable* table = nullptr;
  std::lock_guard<std::mutex> lock(m);
  if (!table) {
    std::string why;
    table = load(why);
    if (!table)
      throw ModelError(std::string("cannot load the model engines (LibTorch, OpenCV DNN), ") + kModuleName +
                       "; tried:" + why + "\nset FRAMEPIPE_ENGINES to its path, or rebuild (make build)");
    loaded.store(true);
  }
  return *table;
}

bool engines_loaded() { return loaded.load(); }

}  // namespace framepipe::detail
