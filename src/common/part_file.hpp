// Outputs are written under a temporary name and renamed when complete (DESIGN.md, Outputs),
// so a finished-looking file is a finished file. NAME.EXT is written as NAME.part.EXT: the
// extension stays last, so whatever goes by it (FFmpeg's muxer, OpenCV's image encoder, a
// glob for *.jsonl) sees the same kind of file.
//
// A path that is not a regular file (a device such as /dev/null, a FIFO, /dev/stdout, a shell's
// >(...) substitution) is written straight through: part() is path() and commit and discard
// do nothing, so the device stays a device.
//
//   framepipe::PartFile out("results.jsonl");
//   std::ofstream os(out.part());
//   ...
//   out.commit();   // results.part.jsonl -> results.jsonl; never called: the part file stays
#pragma once

#include <string>
#include <string_view>

namespace framepipe {

// NAME.EXT -> NAME.part.EXT, in the same folder; with a tag, NAME.part-TAG.EXT (writers that
// may race for one name each write their own part, and the last rename wins whole).
std::string part_path(const std::string& path, const std::string& tag = "");

class PartFile {
 public:
  // `direct`: written straight through under its own name (an HLS playlist, whose segments
  // and updates are to be read while it is written).
  explicit PartFile(std::string path, const std::string& tag = "", bool direct = false);
  const std::string& path() const { return path_; }  // the name asked for
  const std::string& part() const { return part_; }  // the name written
  bool direct() const { return direct_; }            // written straight through (not a file)
  // The part file becomes the file (an IoError naming both where it cannot; the part file is
  // left then). `sync`: flushed to the disk first, and the rename after it, for records that
  // must survive a crash.
  void commit(bool sync = false) const;
  void discard() const;  // removes the part file, if there is one

 private:
  std::string path_, part_;
  bool direct_ = false;
};

// Whether `path` is written straight through: it exists and is not a regular file or a
// folder, or it names a device or a descriptor (/dev/..., /proc/self/fd/...), or it is a
// network URL (rtmp://, srt://, udp://, ...; not file:).
bool is_stream_path(const std::string& path);

// The whole of `bytes` as the file `path`, through a part file.
void write_file(const std::string& path, std::string_view bytes);

}  // namespace framepipe
