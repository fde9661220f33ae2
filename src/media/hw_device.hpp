// Decoding on a device other than the CPU: NVDEC through FFmpeg's cuda hwaccel (Debian's
// FFmpeg loads the driver at run time; nothing CUDA is needed to build). Frames decoded there
// are copied to host memory before conversion, so frame i, its pts and t are the CPU
// reader's: NVDEC's output is the codec's exact picture, as libavcodec's is.
#pragma once

#include <memory>
#include <string>
#include <string_view>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/buffer.h>
}

namespace framepipe {

struct DeviceSpec {
  bool cuda = false;
  int index = 0;
  std::string text = "cpu";  // as the user wrote it, for messages
};

// "cpu", "cuda" (device 0) or "cuda:N"; anything else is a ConfigError.
DeviceSpec parse_device(std::string_view s);

// An FFmpeg hardware device for `spec` (nullptr for the CPU), shared by the decoders of one
// reader. Throws UnsupportedError naming `input` and what is missing: the NVIDIA driver
// (libcuda.so.1), or the device FFmpeg could not open.
std::shared_ptr<AVBufferRef> open_device(const DeviceSpec& spec, const std::string& input);

// Whether FFmpeg's `codec` decodes through a CUDA device (a hwaccel with a device context).
bool decodes_on_cuda(const AVCodec* codec);

}  // namespace framepipe
