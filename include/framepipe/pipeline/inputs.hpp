// What a run's INPUT arguments name.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace framepipe {

struct InputVideo {
  std::string path;  // what is opened: as given, or a list's entry resolved against the list's folder
  std::string name;  // a path relative to the folder it was found in (a file's name otherwise): unique
                     // per folder, for per-video outputs that must not collide (annotated copies)
};

// INPUT arguments to videos: a folder gives its video files, sub-folders too, in the order
// of their relative paths compared component by component (hidden entries and framepipe's own part files are passed over); a .txt or
// .list file one video per line (# comments; relative paths are relative to the list's
// folder); anything else is itself (a file or a URL). A folder with no video is a ConfigError.
std::vector<InputVideo> expand_input_videos(const std::vector<std::string>& inputs);
// The same paths in the same order, one call each, without keeping them: memory is one
// folder's listing (per level of depth), not the corpus. Returns how many.
int64_t for_each_input(const std::vector<std::string>& inputs, const std::function<void(const std::string&)>& fn);
// The paths alone.
std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs);

}  // namespace framepipe
