#include "framepipe/pipeline/inputs.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>

#include "framepipe/error.hpp"
#include "framepipe/media/source.hpp"

namespace framepipe {

namespace {

namespace fs = std::filesystem;

bool is_video_name(const fs::path& p) {
  static const char* kExt[] = {".mp4", ".mkv", ".webm", ".avi", ".mov", ".ts", ".m4v", ".mpg", ".mpeg", ".flv", ".wmv", ".m2ts", ".mts", ".3gp"};
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(std::begin(kExt), std::end(kExt), ext) != std::end(kExt);
}

// Hidden files and folders, and what framepipe is still writing (NAME.part.EXT).
bool passed_over(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.empty() || name[0] == '.' || name.find(".part.") != std::string::npos;
}

using Found = std::function<void(const std::string& path, const std::string& name)>;

// A folder's video files, sub-folders too, in the order of their relative paths compared
// component by component (a folder's entries sorted, each sub-folder where its name sorts).
// Holds one listing per level of depth, never the whole tree. Symlinked files are followed,
// symlinked folders are not (as a recursive listing does); unreadable sub-folders are passed.
int64_t walk(const fs::path& folder, const fs::path& rel, const std::string& root, const Found& found) {
  std::error_code ec;
  std::vector<std::pair<std::string, bool>> entries;  // name, is a folder to go into
  fs::directory_iterator it(folder, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) {
    if (rel.empty()) throw IoError("cannot list input folder " + root + ": " + ec.message());
    return 0;
  }
  for (; it != end; it.increment(ec)) {
    if (ec) throw IoError("cannot list input folder " + root + ": " + ec.message());
    if (passed_over(it->path())) continue;
    const bool dir = it->is_directory(ec) && !it->is_symlink(ec);
    if (dir || (it->is_regular_file(ec) && is_video_name(it->path())))
      entries.emplace_back(it->path().filename().string(), dir);
  }
  std::sort(entries.begin(), entries.end());
  int64_t n = 0;
  for (const auto& [name, dir] : entries) {
    if (dir) {
      n += walk(folder / name, rel / name, root, found);
    } else {
      found((folder / name).string(), (rel / name).generic_string());
      ++n;
    }
  }
  return n;
}

void videos_in(const std::string& folder, const Found& found) {
  if (walk(folder, {}, folder, found) == 0)
    throw ConfigError("input folder " + folder + " holds no video files (sub-folders included)");
}

void read_list(const std::string& list_file, const Found& found) {
  std::ifstream list(list_file);
  if (!list) throw IoError("cannot read input list " + list_file);
  const fs::path base = fs::path(list_file).parent_path();
  for (std::string line; std::getline(list, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const bool as_is = fs::path(line).is_absolute() || line.find("://") != std::string::npos ||
                       is_device_location(line) || base.empty();
    const std::string path = as_is ? line : (base / line).string();
    found(path, line);
  }
}

void each_input(const std::vector<std::string>& inputs, const Found& found) {
  for (const auto& in : inputs) {
    std::error_code ec;
    const auto ext = fs::path(in).extension();
    if (fs::is_directory(in, ec)) {
      videos_in(in, found);
    } else if ((ext == ".txt" || ext == ".list") && fs::is_regular_file(in, ec)) {
      read_list(in, found);
    } else {
      found(in, in);
    }
  }
}

}  // namespace

std::vector<InputVideo> expand_input_videos(const std::vector<std::string>& inputs) {
  std::vector<InputVideo> out;
  each_input(inputs, [&](const std::string& path, const std::string& name) { out.push_back({path, name}); });
  // Names are relative and stay inside whatever folder they name outputs in: no root, no "..",
  // no scheme; a name met twice gets a number.
  std::set<std::string> seen;
  for (auto& v : out) {
    std::string name;
    const auto scheme = v.name.find("://");
    for (const auto& part : fs::path(scheme == std::string::npos ? v.name : v.name.substr(scheme + 3)).relative_path())
      if (part != ".." && part != "." && !part.empty()) {
        if (!name.empty()) name += '/';
        name += part.string();
      }
    if (name.empty()) name = "video";
    std::string unique = name;
    for (int k = 2; !seen.insert(unique).second; ++k) {
      unique = name;
      unique += '~';
      unique += std::to_string(k);
    }
    v.name = unique;
  }
  return out;
}

int64_t for_each_input(const std::vector<std::string>& inputs, const std::function<void(const std::string&)>& fn) {
  int64_t n = 0;
  each_input(inputs, [&](const std::string& path, const std::string&) {
    fn(path);
    ++n;
  });
  return n;
}

std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs) {
  std::vector<std::string> out;
  for (auto& v : expand_input_videos(inputs)) out.push_back(std::move(v.path));
  return out;
}

}  // namespace framepipe
