// What every fuzz target shares: the libFuzzer entry point's signature, a reader of the
// input as fields, and the rule that only framepipe's typed errors may leave the code under
// test (anything else, a std::out_of_range from a parser say, is a bug and aborts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "framepipe/error.hpp"

namespace framepipe::fuzz {

// Takes the input apart: numbers and strings from the front, the rest as bytes.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  size_t left() const { return n_; }
  uint8_t byte() { return n_ ? (--n_, *p_++) : 0; }
  uint32_t u32() {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) v = (v << 8) | byte();
    return v;
  }
  // Up to the next '\n' (or the end), at most `max` bytes.
  std::string line(size_t max = 4096) {
    std::string s;
    while (n_ && s.size() < max) {
      const char c = static_cast<char>(byte());
      if (c == '\n') break;
      s += c;
    }
    return s;
  }
  std::vector<uint8_t> rest() {
    std::vector<uint8_t> v(p_, p_ + n_);
    p_ += n_;
    n_ = 0;
    return v;
  }
  std::string rest_string() {
    std::string s(reinterpret_cast<const char*>(p_), n_);
    p_ += n_;
    n_ = 0;
    return s;
  }

 private:
  const uint8_t* p_;
  size_t n_;
};

[[noreturn]] inline void fail(const char* target, const std::string& why) {
  std::fprintf(stderr, "%s: FAILED: %s\n", target, why.c_str());
  if (const char* path = std::getenv("FRAMEPIPE_FUZZ_COUNTS"))  // the failure, for fork mode's summary
    if (FILE* f = std::fopen(path, "a")) {
      std::fprintf(f, "%s: FAILED: %s\n", target, why.c_str());
      std::fclose(f);
    }
  std::fflush(stderr);
  std::abort();
}

// Runs `f`; a framepipe::Error is an answer, any other exception a bug.
template <class F>
bool run_typed(const char* target, F&& f) {
  try {
    f();
    return true;
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Internal) fail(target, std::string("internal error: ") + e.what());
    return false;
  } catch (const std::exception& e) {
    fail(target, std::string("untyped exception: ") + e.what());
  } catch (...) {
    fail(target, "unknown exception");
  }
}

}  // namespace framepipe::fuzz
