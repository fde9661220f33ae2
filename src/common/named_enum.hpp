// Enums spelled as words in options, specs and description files: one table per enum,
// parsed and printed by the same two helpers, and an unknown word answered with the choices.
// A value may have more than one name: the first is the one printed, the rest are aliases.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "framepipe/error.hpp"

namespace framepipe::detail {

template <class E, size_t N>
E parse_enum(std::string_view s, const std::array<std::pair<const char*, E>, N>& names, const char* what) {
  for (const auto& [name, value] : names)
    if (s == name) return value;
  std::string choices;  // the first name of each value: later ones are aliases
  for (size_t i = 0; i < N; ++i) {
    bool alias = false;
    for (size_t k = 0; k < i; ++k) alias = alias || names[k].second == names[i].second;
    if (alias) continue;
    choices += choices.empty() ? "" : ", ";
    choices += names[i].first;
  }
  throw ConfigError("unknown " + std::string(what) + " '" + std::string(s) + "' (one of: " + choices + ")");
}

template <class E, size_t N>
const char* enum_name(E v, const std::array<std::pair<const char*, E>, N>& names) {
  for (const auto& [name, value] : names)
    if (value == v) return name;
  return "?";
}

}  // namespace framepipe::detail
