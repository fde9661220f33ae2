// Times one framepipe inference engine on one model: the helper bench/bench_infer.py runs
// next to PyTorch eager in the same run. Backend time only (the batch is already packed), so
// that both sides time the same thing: a forward pass on a ready tensor.
//   infer_bench MODEL --engine torchscript|opencv --batch N --iters K --threads T
//               [--check IN.npy OUT.npy]   (also runs IN once and writes the output to OUT)
// Prints one JSON line: {"model", "engine", "batch", "threads", "seconds", "rows_per_s"}, or
// {"error": "..."} when the engine cannot load or run the model.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "framepipe/error.hpp"
#include "framepipe/infer/backend.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: infer_bench MODEL --engine E --batch N --iters K --threads T\n");
    return 2;
  }
  std::string model = argv[1];
  framepipe::BackendOptions options;
  int64_t batch = 1;
  int iters = 10;
  std::string check_in, check_out;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--check") && i + 2 < argc) {
      check_in = argv[i + 1];
      check_out = argv[i + 2];
      ++i;
      continue;
    }
    if (!std::strcmp(argv[i], "--engine")) options.engine = argv[i + 1];
    else if (!std::strcmp(argv[i], "--batch")) batch = std::stoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--iters")) iters = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads")) options.threads = std::stoi(argv[i + 1]);
  }
  nlohmann::json out{{"model", model}, {"engine", options.engine}, {"batch", batch}, {"threads", options.threads}};
  try {
    auto backend = framepipe::open_backend(model, options);
    auto input = framepipe::Tensor::allocate(backend->spec().input_shape(batch), backend->spec().layout, backend->spec().dtype);
    std::mt19937 rng(1);
    std::normal_distribution<float> normal;
    for (int64_t i = 0; i < input.numel(); ++i) input.data_as<float>()[i] = normal(rng);
    backend->run(input);  // warm-up: first-run allocations and, for LibTorch, the profiling run
    backend->run(input);
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) backend->run(input);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    out["seconds"] = seconds;
    out["rows_per_s"] = static_cast<double>(batch * iters) / seconds;
    if (!check_in.empty()) framepipe::write_npy(check_out, backend->run(framepipe::read_npy(check_in)).at(0).tensor);
  } catch (const framepipe::Error& e) {
    out["error"] = e.what();
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
