#include "media/hw_device.hpp"

#include <dlfcn.h>

#include <charconv>

extern "C" {
#include <libavutil/hwcontext.h>
}

#include "framepipe/error.hpp"

namespace framepipe {

DeviceSpec parse_device(std::string_view s) {
  DeviceSpec d;
  d.text = std::string(s);
  if (s == "cpu") return d;
  if (s == "cuda" || s.rfind("cuda:", 0) == 0) {
    d.cuda = true;
    if (s.size() > 4) {
      const std::string_view n = s.substr(5);
      const auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), d.index);
      if (n.empty() || ec != std::errc() || end != n.data() + n.size() || d.index < 0)
        throw ConfigError("device must be cpu, cuda or cuda:N (N a device number), not '" + d.text + "'");
    }
    return d;
  }
  throw ConfigError("device must be cpu, cuda or cuda:N (N a device number), not '" + d.text + "'");
}

std::shared_ptr<AVBufferRef> open_device(const DeviceSpec& spec, const std::string& input) {
  if (!spec.cuda) return nullptr;
  // FFmpeg loads the driver itself; asking first names what is missing plainly.
  if (void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL); !driver)
    throw UnsupportedError("cannot decode '" + input + "' on " + spec.text +
                           ": no NVIDIA driver on this machine (" + dlerror() + "); decode on the CPU (device cpu)");
  AVBufferRef* ref = nullptr;
  const int r = av_hwdevice_ctx_create(&ref, AV_HWDEVICE_TYPE_CUDA, std::to_string(spec.index).c_str(), nullptr, 0);
  if (r < 0) {
    char msg[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(r, msg, sizeof msg);
    throw UnsupportedError("cannot decode '" + input + "' on " + spec.text + ": FFmpeg cannot open CUDA device " +
                           std::to_string(spec.index) + " (" + msg + "); decode on the CPU (device cpu)");
  }
  return std::shared_ptr<AVBufferRef>(ref, [](AVBufferRef* p) { av_buffer_unref(&p); });
}

bool decodes_on_cuda(const AVCodec* codec) {
  for (int i = 0;; ++i) {
    const AVCodecHWConfig* c = avcodec_get_hw_config(codec, i);
    if (!c) return false;
    if (c->device_type == AV_HWDEVICE_TYPE_CUDA && (c->methods & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX)) return true;
  }
}

}  // namespace framepipe
