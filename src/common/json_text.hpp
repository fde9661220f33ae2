// JSON text of a value whose strings may not be UTF-8 (file paths, container tags, labels from
// a user's file): invalid bytes become U+FFFD instead of the type_error nlohmann's dump()
// throws, so one odd file name cannot stop a run or a probe.
#pragma once

#include <string>

namespace framepipe {

template <class Json>
std::string json_text(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

}  // namespace framepipe
