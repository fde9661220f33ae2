// A model over a video: the sample's frames (or clips) read at the model's size, packed as
// the model wants them, run in batches, post-processed into source-pixel answers.
//
//   auto backend = framepipe::open_backend("tests/models/squares.pt");
//   framepipe::VideoReader reader("in.mp4", framepipe::reader_options_for(backend->spec()));
//   auto plan = framepipe::plan_sample(framepipe::SampleSpec::parse("fps:2"), reader);
//   framepipe::predict(reader, *backend, plan, 8, [](std::vector<framepipe::RowPrediction>& rows) {
//     for (auto& r : rows) use(r.frames.front().t, r.prediction.objects);
//   });
#pragma once

#include <atomic>
#include <functional>
#include <vector>

#include "framepipe/infer/backend.hpp"
#include "framepipe/post/post.hpp"
#include "framepipe/reader/video_reader.hpp"
#include "framepipe/sample/sampling.hpp"

namespace framepipe {

struct RowPrediction {
  std::vector<FrameInfo> frames;  // the row's frame, or every frame of its clip
  Prediction prediction;
};

// `base` with the image options the model needs (size, resize mode, channel order).
ReaderOptions reader_options_for(const ModelSpec& spec, ReaderOptions base = {});

// Optional: a flag that stops the run between batches (a signal handler sets it), and
// timings of each batch's decode (decode + pack, on the loader's thread) and inference (the
// model and post-processing): seconds, rows.
struct PredictHooks {
  const std::atomic<bool>* cancel = nullptr;
  std::function<void(double, int64_t)> decoded;
  std::function<void(double, int64_t)> inferred;
};

// Runs the rows of `plan` through `backend`, `batch` rows at a time (the next batch is
// decoded while this one runs), and hands each batch's predictions to `sink` in plan order.
// The reader must have been opened with reader_options_for(backend.spec()); a plan whose
// clip length is not the model's is a ConfigError.
// Returns false when `hooks.cancel` stopped it early.
bool predict(VideoReader& reader, Backend& backend, const SamplePlan& plan, int64_t batch,
             const std::function<void(std::vector<RowPrediction>&)>& sink, int top_k = 5,
             const PredictHooks& hooks = {});
std::vector<RowPrediction> predict(VideoReader& reader, Backend& backend, const SamplePlan& plan, int64_t batch,
                                   int top_k = 5);

// Frames already at the model's size and channel order (a live source's), packed into
// `buffer` (reallocated only when the batch's shape changes), run and post-processed: one
// Prediction per frame. `geometry` maps the model's input back to source pixels.
std::vector<Prediction> predict_frames(Backend& backend, const std::vector<const Frame*>& frames,
                                       const Geometry& geometry, Tensor& buffer, int top_k = 5);

}  // namespace framepipe
