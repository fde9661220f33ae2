// What a call throws, for tests of error messages: the message of an E, or a marker that
// says the call threw another type or nothing (so a wrong type fails the test's message check).
#pragma once

#include <exception>
#include <functional>
#include <string>

namespace fpt {

template <class E>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("WRONG TYPE: ") + e.what();
  }
  return "NO ERROR";
}

inline bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace fpt
