#include "framepipe/infer/predict.hpp"

#include <chrono>

#include "framepipe/error.hpp"
#include "framepipe/tensor/tensor.hpp"

namespace framepipe {

ReaderOptions reader_options_for(const ModelSpec& spec, ReaderOptions base) {
  base.image = spec.image_options();
  return base;
}

bool predict(VideoReader& reader, Backend& backend, const SamplePlan& plan, int64_t batch,
             const std::function<void(std::vector<RowPrediction>&)>& sink, int top_k, const PredictHooks& hooks) {
  const ModelSpec& spec = backend.spec();
  if (plan.clip_len != spec.clip_len)
    throw ConfigError("model " + spec.name + " takes " +
                      (spec.clip_len > 1 ? "clips of " + std::to_string(spec.clip_len) + " frames"
                                         : std::string("single frames")) +
                      ", the sample gives " +
                      (plan.clip_len > 1 ? "clips of " + std::to_string(plan.clip_len) + " frames"
                                         : std::string("single frames")) +
                      (spec.clip_len > 1 ? " (use --sample clips:" + std::to_string(spec.clip_len) + ":...)" : ""));
  const ImageOptions want = spec.image_options();
  const ImageOptions& have = reader.options().image;
  if (have.width != want.width || have.height != want.height || have.pix != want.pix || have.resize != want.resize)
    throw ConfigError("predict: the reader of " + reader.source().name() + " must be opened with reader_options_for(model " +
                      spec.name + ")");
  if (batch < 1) throw ConfigError("batch must be at least 1, not " + std::to_string(batch));

  TensorLoader loader(reader, plan, spec.tensor_options(), batch);
  Tensor tensor;
  std::vector<FrameInfo> infos;
  std::vector<RowPrediction> rows;
  for (;;) {
    if (hooks.cancel && hooks.cancel->load()) return false;
    if (!loader.next(tensor, infos)) break;
    const auto t0 = std::chrono::steady_clock::now();
    if (hooks.decoded) hooks.decoded(loader.last_batch_seconds(), tensor.shape()[0]);
    std::vector<Prediction> preds = postprocess(spec, backend.run(tensor), reader.geometry(), top_k);
    if (hooks.inferred)
      hooks.inferred(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), tensor.shape()[0]);
    const auto n = static_cast<size_t>(tensor.shape()[0]);
    preds.resize(n);  // a detector's boxes output has no row for frames where nothing was found
    rows.clear();
    const auto clip = static_cast<size_t>(plan.clip_len);
    for (size_t r = 0; r < n; ++r) {
      RowPrediction row;
      row.frames.assign(infos.begin() + static_cast<std::ptrdiff_t>(r * clip),
                        infos.begin() + static_cast<std::ptrdiff_t>((r + 1) * clip));
      row.prediction = std::move(preds[r]);
      rows.push_back(std::move(row));
    }
    sink(rows);
  }
  return true;
}

std::vector<RowPrediction> predict(VideoReader& reader, Backend& backend, const SamplePlan& plan, int64_t batch,
                                   int top_k) {
  std::vector<RowPrediction> all;
  predict(
      reader, backend, plan, batch,
      [&](std::vector<RowPrediction>& rows) {
        for (auto& r : rows) all.push_back(std::move(r));
      },
      top_k);
  return all;
}

}  // namespace framepipe
