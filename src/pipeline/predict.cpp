#include "framepipe/pipeline/predict.hpp"

#include <chrono>

#include "framepipe/error.hpp"
#include "framepipe/tensor/tensor.hpp"

namespace framepipe {

namespace {
// The model and post-processing for one packed batch: a Prediction per row, also for the rows
// where a detector's boxes output has nothing; an output without a row for each is an error.
std::vector<Prediction> run_batch(Backend& backend, const Tensor& batch, const Geometry& geometry, int top_k) {
  return postprocess(backend.spec(), backend.run(batch), geometry, top_k, batch.shape()[0]);
}
}  // namespace

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
    std::vector<Prediction> preds = run_batch(backend, tensor, reader.geometry(), top_k);
    if (hooks.inferred)
      hooks.inferred(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), tensor.shape()[0]);
    const auto n = static_cast<size_t>(tensor.shape()[0]);
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

std::vector<Prediction> predict_frames(Backend& backend, const std::vector<const Frame*>& frames,
                                       const Geometry& geometry, Tensor& buffer, int top_k) {
  const ModelSpec& spec = backend.spec();
  if (spec.clip_len > 1) throw ConfigError("model " + spec.name + " takes clips; predict_frames feeds single frames");
  if (frames.empty()) return {};
  const Frame& f0 = *frames.front();
  const TensorOptions to = spec.tensor_options();
  const auto n = static_cast<int64_t>(frames.size());
  const std::vector<int64_t> shape = tensor_shape(to, n, 1, f0.height, f0.width, f0.channels);
  if (buffer.shape() != shape || buffer.layout() != to.layout || buffer.dtype() != to.dtype || !buffer.owns())
    buffer = Tensor::allocate(shape, to.layout, to.dtype);
  for (int64_t r = 0; r < n; ++r) {
    const Frame& f = *frames[static_cast<size_t>(r)];
    if (f.width != f0.width || f.height != f0.height || f.channels != f0.channels)
      throw ConfigError("predict_frames: frame " + std::to_string(f.info.index) + " is " + std::to_string(f.width) + "x" +
                        std::to_string(f.height) + ", the batch's first " + std::to_string(f0.width) + "x" +
                        std::to_string(f0.height));
    pack_frame(f.data(), f.height, f.width, f.channels, to, 1, buffer, r, 0);
  }
  return run_batch(backend, buffer, geometry, top_k);
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
