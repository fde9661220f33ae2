#include "common/words.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <mutex>
#include <set>

namespace framepipe {

std::string count_of(int64_t n, std::string_view singular, std::string_view plural) {
  std::string s = std::to_string(n) + " ";
  if (n == 1) return s += singular;
  if (!plural.empty()) return s += plural;
  s += singular;
  return s += 's';
}

namespace {
// The fewest significant digits that read back as `v` in its own type.
template <class T>
std::string shortest(T v, int most, T (*read)(const char*, char**)) {
  char buf[32];
  for (int precision = 1; precision <= most; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, static_cast<double>(v));
    if (read(buf, nullptr) == v) break;
  }
  return buf;
}
}  // namespace

std::string number_text(double v) { return shortest<double>(v, 17, std::strtod); }
std::string number_text(float v) { return shortest<float>(v, 9, std::strtof); }

namespace {
// Optimal string alignment: insertions, deletions, substitutions and swaps of neighbours
// ("outptu" -> "output") each count one.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}
}  // namespace

std::string nearest_word(std::string_view word, const std::vector<std::string>& known) {
  std::string best;
  size_t best_d = ~size_t{0};
  for (const auto& k : known) {
    const size_t d = edit_distance(word, k);
    if (d < best_d) best_d = d, best = k;
  }
  const size_t limit = std::max<size_t>(1, std::min(word.size(), best.size()) / 3);
  if (best_d <= limit) return best;
  for (const auto& k : known)  // a known word cut short or run on ("stdev" for "std")
    if (std::min(k.size(), word.size()) >= 3 && (word.rfind(k, 0) == 0 || k.rfind(word, 0) == 0)) return k;
  return {};
}

void warn_once(const std::string& key, const std::string& text) {
  static std::mutex mutex;
  static std::set<std::string> said;
  {
    std::lock_guard lock(mutex);
    if (!said.insert(key).second) return;
  }
  std::fprintf(stderr, "framepipe: warning: %s\n", text.c_str());
}

}  // namespace framepipe
