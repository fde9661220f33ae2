#include "common/part_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "framepipe/error.hpp"

namespace framepipe {

std::string part_path(const std::string& path, const std::string& tag) {
  const std::filesystem::path p(path);
  std::string name = p.stem().string();
  name += tag.empty() ? ".part" : ".part-" + tag;
  name += p.extension().string();
  return (p.parent_path() / name).string();
}

bool is_stream_path(const std::string& path) {
  if (path.rfind("/dev/", 0) == 0 || path.rfind("/proc/", 0) == 0) return true;
  if (const size_t colon = path.find("://"); colon != std::string::npos && colon > 0 && path.rfind("file:", 0) != 0)
    return true;
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

PartFile::PartFile(std::string path, const std::string& tag, bool direct)
    : path_(std::move(path)), direct_(direct || is_stream_path(path_)) {
  part_ = direct_ ? path_ : part_path(path_, tag);
}

namespace {
bool sync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  const bool synced = fd >= 0 && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  return synced;
}
}  // namespace

void PartFile::commit(bool sync) const {
  if (direct_) return;
  if (sync && !sync_path(part_, O_RDONLY)) throw IoError("cannot flush '" + part_ + "' to disk: " + std::strerror(errno));
  if (std::rename(part_.c_str(), path_.c_str()) != 0)
    throw IoError("cannot rename '" + part_ + "' to '" + path_ + "': " + std::strerror(errno));
  if (sync) {  // the folder holds the new name
    const std::string folder = std::filesystem::path(path_).parent_path().string();
    if (!sync_path(folder.empty() ? "." : folder, O_RDONLY | O_DIRECTORY))
      throw IoError("cannot flush the folder of '" + path_ + "' to disk: " + std::strerror(errno));
  }
}

void PartFile::discard() const {
  if (!direct_) std::remove(part_.c_str());
}

void write_file(const std::string& path, std::string_view bytes) {
  const PartFile out(path);
  FILE* f = std::fopen(out.part().c_str(), "wb");
  if (!f) throw IoError("cannot write '" + out.part() + "': " + std::strerror(errno));
  bool ok = bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok) {
    out.discard();
    throw IoError("cannot write '" + path + "': " + std::strerror(errno));
  }
  out.commit();
}

}  // namespace framepipe
