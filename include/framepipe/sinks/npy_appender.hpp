// A .npy file of float32 rows that grows as rows come: embeddings of a whole video (or many)
// in one N x D array, its header written when the file is closed. Written as NAME.part.npy
// and renamed on close(); a writer that unwinds still closes a valid file with the rows so far.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

namespace framepipe {

class NpyAppender {
 public:
  explicit NpyAppender(std::string path);
  ~NpyAppender();
  NpyAppender(const NpyAppender&) = delete;
  NpyAppender& operator=(const NpyAppender&) = delete;
  // Appends one row; every row must have the first row's length. Returns its row number.
  int64_t append(std::span<const float> row);
  void close();
  int64_t rows() const { return rows_; }

 private:
  std::string path_, part_;
  std::FILE* file_ = nullptr;
  int64_t rows_ = 0, cols_ = -1;
};

}  // namespace framepipe
