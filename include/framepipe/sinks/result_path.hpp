// Which result files framepipe writes, checked before a run does any work.
#pragma once

#include <string>

namespace framepipe {

// A ConfigError where `path` is a regular file whose extension framepipe does not write
// (.jsonl and .ndjson are JSON Lines, .csv is CSV); "-" (stdout), a device and a FIFO take
// JSON Lines unless the name ends in .csv. "" (no file) is accepted.
void check_results_path(const std::string& path);

}  // namespace framepipe
