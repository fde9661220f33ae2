// framepipe's exception hierarchy. Library code throws these; the CLI maps them to exit
// codes (exit_code()) and the Python binding to Python exceptions. Nothing else catches.
#pragma once

#include <stdexcept>
#include <string>

namespace framepipe {

enum class ErrorKind {
  Open,         // the input cannot be opened or is not a video we can read
  Decode,       // a frame could not be decoded
  OutOfRange,   // an index or time outside the valid range
  Unsupported,  // a codec, format or option this build cannot handle
  Model,        // a model file or its description is wrong
  Config,       // a bad option, spec or argument
  Io,           // writing an output failed
  Transient,    // network / stream trouble that may succeed on retry
  Internal,     // a bug in framepipe
};

// Exit codes of the CLI (DESIGN.md): 0 done, 1 failed, 2 bad usage,
// 3 input unusable (do not retry), 4 transient (retry).
inline int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::OutOfRange:
    case ErrorKind::Config: return 2;
    case ErrorKind::Open:
    case ErrorKind::Decode:
    case ErrorKind::Unsupported: return 3;
    case ErrorKind::Transient: return 4;
    case ErrorKind::Model:
    case ErrorKind::Io:
    case ErrorKind::Internal: return 1;
  }
  return 1;
}

inline const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Open: return "open";
    case ErrorKind::Decode: return "decode";
    case ErrorKind::OutOfRange: return "out-of-range";
    case ErrorKind::Unsupported: return "unsupported";
    case ErrorKind::Model: return "model";
    case ErrorKind::Config: return "config";
    case ErrorKind::Io: return "io";
    case ErrorKind::Transient: return "transient";
    case ErrorKind::Internal: return "internal";
  }
  return "error";
}

class Error : public std::runtime_error {
 public:
  // `os_error`: the errno behind it where the system said why (ENOENT: a missing file), so
  // the Python binding can raise FileNotFoundError and the like; 0 otherwise.
  Error(ErrorKind kind, const std::string& message, int os_error = 0)
      : std::runtime_error(message), kind_(kind), os_error_(os_error) {}
  ErrorKind kind() const noexcept { return kind_; }
  int exit_code() const noexcept { return exit_code_for(kind_); }
  int os_error() const noexcept { return os_error_; }

 private:
  ErrorKind kind_;
  int os_error_;
};

#define FRAMEPIPE_ERROR_KIND(Name, Kind)                                              \
  class Name : public Error {                                                         \
   public:                                                                            \
    explicit Name(const std::string& message, int os_error = 0)                      \
        : Error(ErrorKind::Kind, message, os_error) {}                                \
  };
FRAMEPIPE_ERROR_KIND(OpenError, Open)
FRAMEPIPE_ERROR_KIND(DecodeError, Decode)
FRAMEPIPE_ERROR_KIND(OutOfRangeError, OutOfRange)
FRAMEPIPE_ERROR_KIND(UnsupportedError, Unsupported)
FRAMEPIPE_ERROR_KIND(ModelError, Model)
FRAMEPIPE_ERROR_KIND(ConfigError, Config)
FRAMEPIPE_ERROR_KIND(IoError, Io)
FRAMEPIPE_ERROR_KIND(TransientError, Transient)
#undef FRAMEPIPE_ERROR_KIND

}  // namespace framepipe
