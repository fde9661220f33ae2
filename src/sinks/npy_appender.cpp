#include "framepipe/sinks/npy_appender.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "framepipe/error.hpp"
#include "common/part_file.hpp"
#include "framepipe/tensor/tensor.hpp"

namespace framepipe {

namespace {
// Room for any N x D header; npy_header pads to exactly this, so the final one overwrites
// the placeholder in place.
constexpr size_t kHeader = 128;

std::string header(int64_t rows, int64_t cols) {
  return npy_header(DType::F32, {rows, cols < 0 ? 0 : cols}, kHeader);
}
}  // namespace

NpyAppender::NpyAppender(std::string path) : path_(std::move(path)) {
  part_ = part_path(path_);
  file_ = std::fopen(part_.c_str(), "wb");
  if (!file_) throw IoError("cannot write '" + part_ + "': " + std::strerror(errno));
  const std::string h = header(0, 0);
  if (std::fwrite(h.data(), 1, h.size(), file_) != h.size()) throw IoError("cannot write '" + part_ + "'");
}

NpyAppender::~NpyAppender() {
  try {
    close();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "framepipe: %s\n", e.what());
  }
}

int64_t NpyAppender::append(std::span<const float> row) {
  if (!file_) throw IoError("'" + path_ + "' is closed");
  if (cols_ < 0) cols_ = static_cast<int64_t>(row.size());
  if (static_cast<int64_t>(row.size()) != cols_)
    throw ConfigError("'" + path_ + "': a row of " + std::to_string(row.size()) + " values after rows of " +
                      std::to_string(cols_));
  if (std::fwrite(row.data(), sizeof(float), row.size(), file_) != row.size())
    throw IoError("cannot write '" + part_ + "': " + std::strerror(errno));
  return rows_++;
}

void NpyAppender::close() {
  if (!file_) return;
  const std::string h = header(rows_, cols_);
  const bool ok = std::fseek(file_, 0, SEEK_SET) == 0 && std::fwrite(h.data(), 1, h.size(), file_) == h.size();
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!ok || !closed) throw IoError("cannot finish '" + part_ + "'");
  PartFile(path_).commit();
}

}  // namespace framepipe
