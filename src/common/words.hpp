// Messages that read as English: counts with the right number ("1 video", "3 videos"),
// numbers without trailing zeros ("4", not "4.000000"), the known word nearest a misspelt
// one, and warnings said once per process.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace framepipe {

// "1 video", "2 videos"; `plural` where adding an s is wrong ("1 batch", "2 batches").
std::string count_of(int64_t n, std::string_view singular, std::string_view plural = {});
// The shortest text that reads back as `v`: 4 -> "4", 0.25 -> "0.25".
std::string number_text(double v);
std::string number_text(float v);  // as a float reads back: 0.1f -> "0.1"
// The word of `known` nearest `word` by edit distance, where it is near enough to be a
// misspelling of it (at most a third of its letters, and 1 for short words); "" otherwise.
std::string nearest_word(std::string_view word, const std::vector<std::string>& known);
// Prints "framepipe: warning: TEXT" on stderr the first time `key` is warned of in this process.
void warn_once(const std::string& key, const std::string& text);

}  // namespace framepipe
