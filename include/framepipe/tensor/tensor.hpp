// Tensors for models: a shape, a layout, a dtype, and memory the tensor owns.
// Preprocessing (channel order and resize are the reader's ImageOptions; scale, mean/std and
// per-clip normalisation here) writes frames straight into one preallocated batch.
//
//   framepipe::VideoReader reader("clip.mp4", opts);              // 224 x 224 RGB out
//   auto spec = framepipe::SampleSpec::parse("clips:16:2:32:uniform");
//   framepipe::TensorOptions t;                                    // f32, NCTHW below
//   t.layout = framepipe::Layout::NCTHW;
//   t.mean = {0.485f, 0.456f, 0.406f};
//   t.std = {0.229f, 0.224f, 0.225f};
//   framepipe::TensorLoader loader(reader, framepipe::plan_sample(spec, reader), t, 8);
//   framepipe::Tensor batch;
//   std::vector<framepipe::FrameInfo> rows;
//   while (loader.next(batch, rows)) { /* batch: 8 x 3 x 16 x 224 x 224 */ }
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "framepipe/media/frame.hpp"
#include "framepipe/sample/sampling.hpp"

namespace framepipe {

class VideoReader;

// Frames: NHWC [N,H,W,C], NCHW [N,C,H,W]. Clips of T frames: NHWC [N,T,H,W,C], NCHW
// [N,T,C,H,W], NCTHW [N,C,T,H,W] (what 3-D CNNs take).
enum class Layout { NHWC, NCHW, NCTHW };
enum class DType { U8, F32 };
Layout parse_layout(const std::string& s);
DType parse_dtype(const std::string& s);
const char* to_string(Layout l);
// The name of a tensor's dimensions as they are: clips (5 dimensions) in NCHW are ntchw
// ([N, T, C, H, W]), in NHWC nthwc; NCTHW is ncthw.
const char* layout_name(Layout l, bool clips);
const char* to_string(DType d);
size_t dtype_size(DType d);

class Tensor {
 public:
  Tensor() = default;
  // Owning, 64-byte aligned, zero-filled.
  static Tensor allocate(std::vector<int64_t> shape, Layout layout, DType dtype);

  const std::vector<int64_t>& shape() const { return shape_; }
  Layout layout() const { return layout_; }
  DType dtype() const { return dtype_; }
  int64_t numel() const;
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  void* data() { return data_; }
  const void* data() const { return data_; }
  template <class T>
  T* data_as() { return static_cast<T*>(data_); }
  template <class T>
  const T* data_as() const { return static_cast<const T*>(data_); }
  bool owns() const { return owner_ != nullptr; }
  // Keeps the memory alive (for bindings that hand it out); null when empty.
  const std::shared_ptr<void>& owner() const { return owner_; }
  // Shrinks the first dimension in place (a last, shorter batch), memory kept.
  void set_rows(int64_t n);

 private:
  std::vector<int64_t> shape_;
  Layout layout_ = Layout::NCHW;
  DType dtype_ = DType::F32;
  void* data_ = nullptr;
  size_t capacity_ = 0;
  std::shared_ptr<void> owner_;
};

struct TensorOptions {
  Layout layout = Layout::NCHW;
  DType dtype = DType::F32;
  bool scale = true;                          // f32: x / 255 first
  std::array<float, 3> mean{0.f, 0.f, 0.f};   // then (x - mean[c]) / std[c], c in output order
  std::array<float, 3> std{1.f, 1.f, 1.f};
  // Per clip, per channel: subtract the clip's own mean and divide by its own (population)
  // standard deviation, after scaling; replaces mean/std. For temporal models.
  bool clip_norm = false;
};

// Shape of a batch of `rows` rows (frames, or clips of clip_len frames) of h x w x c.
std::vector<int64_t> tensor_shape(const TensorOptions& o, int64_t rows, int64_t clip_len, int h, int w, int c);

// Writes one H x W x C uint8 frame into row n, frame t of the clip (t = 0 for frames).
void pack_frame(const uint8_t* hwc, int h, int w, int c, const TensorOptions& o, int64_t clip_len, Tensor& out,
                int64_t n, int64_t t);
// Per-clip normalisation of row n (f32 only).
void normalize_clip(const TensorOptions& o, int64_t clip_len, int h, int w, int c, Tensor& out, int64_t n);

// Reads a sample plan as batches of `batch` rows. `rows` receives the provenance of every
// frame of the batch, row-major (row r, frame t at r * clip_len + t).
//
// With prefetch (the default), the next batch is decoded and packed on a thread of its own
// while the caller uses this one: two buffers, allocated once, take turns. A tensor that
// next() hands out stays valid until the following call to next(); the reader belongs to
// the loader until it is destroyed.
//
// Each batch is one request to the reader (its frames decoded at once on the reader's
// workers), so a model can run on one batch while the next decodes. A caller that does little
// with a batch (writes it out) can give `chunk_bytes`: requests then take as many whole
// batches as fit in that many bytes of decoded frames (at least one), so that the workers
// are not left idle at every batch's end; the memory that costs is the chunk's frames.
class TensorLoader {
 public:
  TensorLoader(VideoReader& reader, SamplePlan plan, TensorOptions options, int64_t batch, bool prefetch = true,
               size_t chunk_bytes = 0);
  ~TensorLoader();
  TensorLoader(const TensorLoader&) = delete;
  TensorLoader& operator=(const TensorLoader&) = delete;
  bool next(Tensor& out, std::vector<FrameInfo>& rows);
  int64_t total_rows() const { return static_cast<int64_t>(plan_.rows()); }
  int64_t clip_len() const { return plan_.clip_len; }
  const SamplePlan& plan() const { return plan_; }
  // Seconds the batch that next() last handed out took to decode and pack (on its thread).
  double last_batch_seconds() const { return last_seconds_; }

 private:
  struct Slot {
    Tensor tensor;
    std::vector<FrameInfo> rows;
    double seconds = 0;
  };
  // Decoded frames of rows [first_row, end_row), used by one producer at a time.
  struct Chunk {
    int64_t first_row = 0, end_row = 0;
    std::unique_ptr<uint8_t[]> pixels;  // not zeroed first: the decoders write every byte
    size_t capacity = 0;
    std::vector<FrameInfo> info;
    std::vector<int64_t> indices;
  };
  void produce(Slot& slot, int64_t first_row);
  void start(int slot);

  VideoReader& reader_;
  SamplePlan plan_;
  TensorOptions opt_;
  int64_t batch_;
  bool prefetch_;
  size_t chunk_bytes_;
  Chunk chunk_;
  int64_t next_row_ = 0;  // first row not yet started
  double last_seconds_ = 0;
  Slot slots_[2];
  struct Pending;
  std::unique_ptr<Pending> pending_;
};

// The .npy (format 1.0) header of a C-order '|u1' or '<f4' array: magic, version, length
// and the dict, padded to a multiple of 64 bytes, or to exactly `size` bytes where that is
// enough (a writer that fills in the shape at the end reserves a fixed size).
std::string npy_header(DType dtype, const std::vector<int64_t>& shape, size_t size = 0);
// .npy (format 1.0), C order: '|u1' or '<f4'.
void write_npy(const std::string& path, const Tensor& t);
void write_npy(const std::string& path, const void* data, DType dtype, const std::vector<int64_t>& shape);
// Reads a C-order .npy of dtype '|u1' or '<f4' (layout left as NCHW).
Tensor read_npy(const std::string& path);

}  // namespace framepipe
