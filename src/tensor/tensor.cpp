#include "framepipe/tensor/tensor.hpp"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <sstream>

#include "common/named_enum.hpp"
#include "framepipe/error.hpp"
#include "common/part_file.hpp"
#include "framepipe/reader/video_reader.hpp"

namespace framepipe {

namespace {
// Clips in nchw / nhwc are [N, T, C, H, W] / [N, T, H, W, C]: ntchw and nthwc by their own names.
constexpr std::array<std::pair<const char*, Layout>, 5> kLayouts{{{"nhwc", Layout::NHWC},
                                                                  {"nchw", Layout::NCHW},
                                                                  {"ncthw", Layout::NCTHW},
                                                                  {"nthwc", Layout::NHWC},
                                                                  {"ntchw", Layout::NCHW}}};
constexpr std::array<std::pair<const char*, DType>, 4> kDTypes{
    {{"u8", DType::U8}, {"f32", DType::F32}, {"uint8", DType::U8}, {"float32", DType::F32}}};
}  // namespace

Layout parse_layout(const std::string& s) { return detail::parse_enum(s, kLayouts, "layout"); }
DType parse_dtype(const std::string& s) { return detail::parse_enum(s, kDTypes, "dtype"); }
const char* to_string(Layout l) { return detail::enum_name(l, kLayouts); }
const char* layout_name(Layout l, bool clips) {
  if (clips && l == Layout::NHWC) return "nthwc";
  if (clips && l == Layout::NCHW) return "ntchw";
  return to_string(l);
}
const char* to_string(DType d) { return detail::enum_name(d, kDTypes); }
size_t dtype_size(DType d) { return d == DType::U8 ? 1 : 4; }

int64_t Tensor::numel() const {
  if (shape_.empty()) return 0;
  int64_t n = 1;
  for (int64_t d : shape_) n *= d;
  return n;
}

Tensor Tensor::allocate(std::vector<int64_t> shape, Layout layout, DType dtype) {
  Tensor t;
  t.shape_ = std::move(shape);
  t.layout_ = layout;
  t.dtype_ = dtype;
  for (int64_t d : t.shape_)
    if (d < 0) throw ConfigError("tensor dimensions must be >= 0");
  const size_t bytes = t.nbytes();
  const size_t rounded = (std::max<size_t>(bytes, 1) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw Error(ErrorKind::Internal, "out of memory allocating a tensor of " + std::to_string(bytes) + " bytes");
  std::memset(p, 0, rounded);
  t.owner_ = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  t.data_ = p;
  t.capacity_ = bytes;
  return t;
}

void Tensor::set_rows(int64_t n) {
  if (shape_.empty()) throw ConfigError("set_rows on an empty tensor");
  const int64_t old = shape_[0];
  shape_[0] = n;
  if (n < 0 || nbytes() > capacity_) {
    shape_[0] = old;
    throw ConfigError("set_rows(" + std::to_string(n) + ") exceeds the tensor's memory");
  }
}

std::vector<int64_t> tensor_shape(const TensorOptions& o, int64_t rows, int64_t T, int h, int w, int c) {
  const bool clips = T > 1 || o.layout == Layout::NCTHW;
  switch (o.layout) {
    case Layout::NHWC: return clips ? std::vector<int64_t>{rows, T, h, w, c} : std::vector<int64_t>{rows, h, w, c};
    case Layout::NCHW: return clips ? std::vector<int64_t>{rows, T, c, h, w} : std::vector<int64_t>{rows, c, h, w};
    case Layout::NCTHW: return {rows, c, T, h, w};
  }
  return {};
}

namespace {

void check_options(const TensorOptions& o) {
  if (o.dtype == DType::U8) {
    const bool plain = o.mean == std::array<float, 3>{0.f, 0.f, 0.f} && o.std == std::array<float, 3>{1.f, 1.f, 1.f};
    if (!plain || o.clip_norm) throw ConfigError("mean/std and per-clip normalisation need dtype f32");
  }
  for (float s : o.std)
    if (!(s != 0.f) || !std::isfinite(s)) throw ConfigError("std must be finite and non-zero");
}

// Offset of the plane holding channel ch of frame t in row n, for planar layouts.
size_t plane_offset(Layout l, int64_t n, int64_t t, int ch, int64_t T, int c, size_t hw) {
  const int64_t plane = l == Layout::NCTHW ? (n * c + ch) * T + t : (n * T + t) * c + ch;
  return static_cast<size_t>(plane) * hw;
}

template <class T>
void pack(const uint8_t* src, int h, int w, int c, Layout layout, int64_t Tn, T* dst, int64_t n, int64_t t,
          const T (*lut)[256]) {
  const size_t hw = static_cast<size_t>(h) * w;
  if (layout == Layout::NHWC) {
    T* out = dst + static_cast<size_t>(n * Tn + t) * hw * c;
    const size_t total = hw * c;
    if constexpr (std::is_same_v<T, uint8_t>) {
      std::memcpy(out, src, total);
    } else {
      for (size_t k = 0; k < hw; ++k)
        for (int ch = 0; ch < c; ++ch) out[k * c + ch] = lut[ch][src[k * c + ch]];
    }
    return;
  }
  T* planes[3];
  for (int ch = 0; ch < c; ++ch) planes[ch] = dst + plane_offset(layout, n, t, ch, Tn, c, hw);
  if (c == 3) {
    T* p0 = planes[0];
    T* p1 = planes[1];
    T* p2 = planes[2];
    for (size_t k = 0; k < hw; ++k) {
      const uint8_t* px = src + 3 * k;
      if constexpr (std::is_same_v<T, uint8_t>) {
        p0[k] = px[0];
        p1[k] = px[1];
        p2[k] = px[2];
      } else {
        p0[k] = lut[0][px[0]];
        p1[k] = lut[1][px[1]];
        p2[k] = lut[2][px[2]];
      }
    }
  } else {
    for (size_t k = 0; k < hw; ++k) {
      if constexpr (std::is_same_v<T, uint8_t>) planes[0][k] = src[k];
      else planes[0][k] = lut[0][src[k]];
    }
  }
}

}  // namespace

void pack_frame(const uint8_t* hwc, int h, int w, int c, const TensorOptions& o, int64_t T, Tensor& out, int64_t n,
                int64_t t) {
  check_options(o);
  if (out.dtype() != o.dtype || out.layout() != o.layout) throw ConfigError("pack_frame: tensor of another dtype/layout");
  if (o.dtype == DType::U8) {
    pack<uint8_t>(hwc, h, w, c, o.layout, T, out.data_as<uint8_t>(), n, t, nullptr);
    return;
  }
  // Every value is one of 256 per channel: a table computed in double precision gives the
  // correctly rounded float of (x * scale - mean) / std.
  float lut[3][256];
  for (int ch = 0; ch < 3; ++ch) {
    const double mean = o.clip_norm ? 0.0 : o.mean[static_cast<size_t>(ch)];
    const double sd = o.clip_norm ? 1.0 : o.std[static_cast<size_t>(ch)];
    for (int v = 0; v < 256; ++v) {
      const double x = o.scale ? v / 255.0 : static_cast<double>(v);
      lut[ch][v] = static_cast<float>((x - mean) / sd);
    }
  }
  pack<float>(hwc, h, w, c, o.layout, T, out.data_as<float>(), n, t, lut);
}

void normalize_clip(const TensorOptions& o, int64_t T, int h, int w, int c, Tensor& out, int64_t n) {
  if (o.dtype != DType::F32) throw ConfigError("per-clip normalisation needs dtype f32");
  const size_t hw = static_cast<size_t>(h) * w;
  float* d = out.data_as<float>();
  for (int ch = 0; ch < c; ++ch) {
    // Two passes in double: mean, then the population variance.
    auto visit = [&](auto&& fn) {
      for (int64_t t = 0; t < T; ++t) {
        if (o.layout == Layout::NHWC) {
          float* base = d + static_cast<size_t>(n * T + t) * hw * c;
          for (size_t k = 0; k < hw; ++k) fn(base[k * c + ch]);
        } else {
          float* base = d + plane_offset(o.layout, n, t, ch, T, c, hw);
          for (size_t k = 0; k < hw; ++k) fn(base[k]);
        }
      }
    };
    double sum = 0;
    visit([&](float& v) { sum += v; });
    const double count = static_cast<double>(hw) * static_cast<double>(T);
    const double mean = sum / count;
    double sq = 0;
    visit([&](float& v) { sq += (v - mean) * (v - mean); });
    double sd = std::sqrt(sq / count);
    if (sd < 1e-6) sd = 1.0;  // a flat clip: centred, not blown up
    visit([&](float& v) { v = static_cast<float>((v - mean) / sd); });
  }
}

struct TensorLoader::Pending {
  std::future<void> done;
  int slot = 0;
};

TensorLoader::TensorLoader(VideoReader& reader, SamplePlan plan, TensorOptions options, int64_t batch, bool prefetch,
                           size_t chunk_bytes)
    : reader_(reader), plan_(std::move(plan)), opt_(options), batch_(batch), prefetch_(prefetch),
      chunk_bytes_(chunk_bytes) {
  if (batch_ < 1) throw ConfigError("batch must be at least 1, got " + std::to_string(batch_));
  check_options(opt_);
  if (plan_.clip_len < 1) throw ConfigError("a sample plan needs clip_len >= 1");
  // The reader's limit on what one request holds applies to a batch's tensor, and to the
  // frames a request spans.
  const int64_t limit = reader_.options().batch_bytes;
  const int64_t rows = std::min(batch_, total_rows());
  const int64_t bytes = rows * plan_.clip_len * reader_.out_height() * reader_.out_width() * reader_.out_channels() *
                        static_cast<int64_t>(dtype_size(opt_.dtype));
  check_batch_bytes(reader_.options(), reader_.source().name(),
                    "a batch of " + std::to_string(rows) + (plan_.clip_len > 1 ? " clips" : " frames") + " of " +
                        std::to_string(reader_.out_width()) + "x" + std::to_string(reader_.out_height()),
                    bytes, "use a smaller batch");
  if (limit > 0) chunk_bytes_ = std::min(chunk_bytes_, static_cast<size_t>(limit));
}

TensorLoader::~TensorLoader() {
  if (pending_ && pending_->done.valid()) pending_->done.wait();
}

void TensorLoader::produce(Slot& slot, int64_t first_row) {
  const int64_t T = plan_.clip_len;
  const int64_t n = std::min(batch_, total_rows() - first_row);
  const int h = reader_.out_height(), w = reader_.out_width(), c = reader_.out_channels();
  Tensor& out = slot.tensor;
  // Allocated once per slot; the last, shorter batch only changes the first dimension.
  if (!out.owns()) out = Tensor::allocate(tensor_shape(opt_, batch_, T, h, w, c), opt_.layout, opt_.dtype);
  out.set_rows(n);
  const size_t fb = static_cast<size_t>(h) * w * c;
  const auto frames_of = [&](int64_t rows) { return static_cast<size_t>(rows * T); };
  // Whole batches up to chunk_bytes_ of frames, at least this one.
  const int64_t per_chunk =
      std::max<int64_t>(1, static_cast<int64_t>(chunk_bytes_ / std::max<size_t>(frames_of(batch_) * fb, 1))) * batch_;
  const int64_t end_row = std::min(total_rows(), first_row + std::max(per_chunk, n));
  const bool straight = opt_.dtype == DType::U8 && opt_.layout == Layout::NHWC && end_row == first_row + n;
  Chunk& ch = chunk_;
  if (first_row < ch.first_row || first_row + n > ch.end_row) {
    const auto first = plan_.frames.begin() + static_cast<ptrdiff_t>(frames_of(first_row));
    ch.indices.assign(first, first + static_cast<ptrdiff_t>(frames_of(end_row - first_row)));
    ch.info.resize(ch.indices.size());
    ch.first_row = ch.end_row = first_row;  // holds nothing until the request has succeeded
    if (straight) {  // one batch, u8 NHWC: straight into the tensor, no copy
      reader_.frames_into(ch.indices, out.data_as<uint8_t>(), ch.info.data());
      slot.rows = ch.info;
      return;
    }
    if (ch.capacity < ch.indices.size() * fb) {
      ch.pixels.reset();  // the old chunk goes before the new one is taken
      ch.pixels = std::make_unique_for_overwrite<uint8_t[]>(ch.indices.size() * fb);
      ch.capacity = ch.indices.size() * fb;
    }
    reader_.frames_into(ch.indices, ch.pixels.get(), ch.info.data());
    ch.end_row = end_row;
  }
  const size_t skip = frames_of(first_row - ch.first_row);
  slot.rows.assign(ch.info.begin() + static_cast<ptrdiff_t>(skip),
                   ch.info.begin() + static_cast<ptrdiff_t>(skip + frames_of(n)));
  const uint8_t* src = ch.pixels.get() + skip * fb;
  if (opt_.dtype == DType::U8 && opt_.layout == Layout::NHWC) {
    std::memcpy(out.data(), src, frames_of(n) * fb);
    return;
  }
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t t = 0; t < T; ++t)
      pack_frame(src + static_cast<size_t>(r * T + t) * fb, h, w, c, opt_, T, out, r, t);
    if (opt_.clip_norm) normalize_clip(opt_, T, h, w, c, out, r);
  }
}

void TensorLoader::start(int slot) {
  const int64_t first_row = next_row_;
  next_row_ += std::min(batch_, total_rows() - first_row);
  if (!pending_) pending_ = std::make_unique<Pending>();
  pending_->slot = slot;
  Slot& s = slots_[slot];
  pending_->done = std::async(prefetch_ ? std::launch::async : std::launch::deferred,
                              [this, &s, first_row] {
                                const auto t0 = std::chrono::steady_clock::now();
                                produce(s, first_row);
                                s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                              });
}

bool TensorLoader::next(Tensor& out, std::vector<FrameInfo>& rows) {
  if (!pending_ || !pending_->done.valid()) {
    if (next_row_ >= total_rows()) return false;
    start(0);
  }
  const int slot = pending_->slot;
  pending_->done.get();  // rethrows what stopped the batch
  out = slots_[slot].tensor;  // shares the slot's memory
  rows = slots_[slot].rows;
  last_seconds_ = slots_[slot].seconds;
  if (next_row_ < total_rows()) start(1 - slot);
  return true;
}

void write_npy(const std::string& path, const Tensor& t) { write_npy(path, t.data(), t.dtype(), t.shape()); }

std::string npy_header(DType dtype, const std::vector<int64_t>& shape, size_t size) {
  std::ostringstream dict;
  dict << "{'descr': '" << (dtype == DType::U8 ? "|u1" : "<f4") << "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) dict << shape[i] << (shape.size() == 1 || i + 1 < shape.size() ? ", " : "");
  dict << "), }";
  std::string text = dict.str();
  // magic (6) + version (2) + header length (2) + text, padded with spaces to a multiple of
  // 64 (or to `size`) and ended by a newline.
  const size_t bare = 10 + text.size() + 1;
  const size_t total = size >= bare ? size : bare + (64 - bare % 64) % 64;
  text.append(total - bare, ' ');
  text.push_back('\n');
  const auto len = static_cast<uint16_t>(text.size());
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(len & 0xff));
  out.push_back(static_cast<char>(len >> 8));
  return out + text;
}

void write_npy(const std::string& path, const void* data, DType dtype, const std::vector<int64_t>& shape) {
  size_t count = 1;
  for (int64_t d : shape) count *= static_cast<size_t>(d);
  const std::string header = npy_header(dtype, shape);
  const size_t bytes = count * dtype_size(dtype);
  const PartFile out(path);
  FILE* f = std::fopen(out.part().c_str(), "wb");
  if (!f) throw IoError("cannot write '" + path + "': " + std::strerror(errno));
  bool ok = std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
            (bytes == 0 || std::fwrite(data, 1, bytes, f) == bytes);
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    out.discard();
    throw IoError("cannot write '" + path + "': " + std::strerror(errno));
  }
  out.commit();
}

}  // namespace framepipe

namespace framepipe {

Tensor read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw OpenError("cannot read '" + path + "': " + std::strerror(errno));
  auto bad = [&](const std::string& why) { return OpenError("'" + path + "' is not a .npy framepipe reads: " + why); };
  unsigned char magic[8];
  if (!in.read(reinterpret_cast<char*>(magic), 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) throw bad("no NUMPY magic");
  uint32_t hlen = 0;
  if (magic[6] == 1) {
    uint16_t h16 = 0;
    in.read(reinterpret_cast<char*>(&h16), 2);
    hlen = h16;
  } else {
    in.read(reinterpret_cast<char*>(&hlen), 4);
  }
  std::string header(hlen, '\0');
  if (!in.read(header.data(), hlen)) throw bad("header cut short");
  auto field = [&](const std::string& key) {
    size_t k = header.find("'" + key + "'");
    if (k == std::string::npos) throw bad("header has no '" + key + "'");
    return header.substr(header.find(':', k) + 1);
  };
  std::string descr = field("descr");
  DType dtype;
  if (descr.find("'|u1'") < descr.find(',')) dtype = DType::U8;
  else if (descr.find("'<f4'") < descr.find(',')) dtype = DType::F32;
  else throw bad("dtype " + descr.substr(0, descr.find(',')) + " (only |u1 and <f4)");
  if (field("fortran_order").find("False") > field("fortran_order").find(',')) throw bad("Fortran order");
  std::string shape_text = field("shape");
  shape_text = shape_text.substr(shape_text.find('(') + 1, shape_text.find(')') - shape_text.find('(') - 1);
  std::vector<int64_t> shape;
  std::istringstream s(shape_text);
  for (std::string part; std::getline(s, part, ',');) {
    if (part.find_first_not_of(' ') == std::string::npos) continue;
    shape.push_back(std::stoll(part));
  }
  Tensor t = Tensor::allocate(shape, Layout::NCHW, dtype);
  if (t.nbytes() && !in.read(static_cast<char*>(t.data()), static_cast<std::streamsize>(t.nbytes())))
    throw bad("data cut short");
  return t;
}

}  // namespace framepipe
