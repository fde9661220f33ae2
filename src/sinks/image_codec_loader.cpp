// The core's side of image_codec.hpp.
#include <dlfcn.h>

#include <mutex>
#include <string>

#include "common/module_loader.hpp"
#include "framepipe/error.hpp"
#include "sinks/image_codec.hpp"

namespace framepipe::detail {

namespace {
WriteImage writer = nullptr;

bool accept(void* handle) {
  auto abi = reinterpret_cast<int (*)()>(dlsym(handle, "framepipe_images_abi"));
  auto write = reinterpret_cast<WriteImage>(dlsym(handle, "framepipe_write_image"));
  if (!abi || !write || abi() != kImagesAbi) return false;
  writer = write;
  return true;
}
}  // namespace

WriteImage image_writer() {
  static std::mutex m;
  std::lock_guard<std::mutex> lock(m);
  if (!writer) {
    std::string why;
    if (!load_module("framepipe_images.so", accept, why))
      throw IoError(module_error("the image encoders (OpenCV imgcodecs)", "framepipe_images.so", why));
  }
  return writer;
}

}  // namespace framepipe::detail
