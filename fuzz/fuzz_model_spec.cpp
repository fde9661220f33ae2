// The model-description parser (the JSON beside a model): whatever the text, a ModelError
// that names the description, or a spec whose values are in range, never a crash.
#include "framepipe/infer/model_spec.hpp"
#include "fuzz_common.hpp"

using namespace framepipe;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const char* model : {"model.onnx", "model.pt", ""}) {
    ModelSpec s;
    if (!fuzz::run_typed("fuzz_model_spec", [&] { s = parse_model_spec(text, "fuzz.json", model); })) continue;
    if (s.width < 0 || s.height < 0 || s.clip_len < 1)
      fuzz::fail("fuzz_model_spec", "accepted a size " + std::to_string(s.width) + "x" + std::to_string(s.height) +
                                        ", clip " + std::to_string(s.clip_len));
    fuzz::run_typed("fuzz_model_spec", [&] {
      (void)s.tensor_options();
      (void)s.input_shape(1);
    });
  }
  return 0;
}
