// What the tests compare against: ffprobe's timestamps and the ffmpeg CLI's frames, never
// framepipe's own output. Results are cached on disk under $FRAMEPIPE_MEDIA/ref so that the
// many test processes ctest starts pay for each reference once.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fpt {

std::string media_dir();                     // $FRAMEPIPE_MEDIA
std::string media(const std::string& name);  // media_dir()/name
std::string cli();                           // $FRAMEPIPE_CLI, the framepipe binary
std::string temp_dir(const std::string& tag);  // a fresh empty folder for one test

// Runs a shell command, returns its stdout; rc receives the exit status.
std::string run(const std::string& cmd, int* rc = nullptr);
std::string shell_quote(const std::string& s);

struct ProbeFrame {
  int64_t pts = 0;  // best_effort_timestamp, what ffprobe's pts_time is computed from
  bool key = false;
  bool has_pts = true;  // false where ffprobe prints N/A (pts then follows framepipe's rule)
  int64_t duration = 0;  // pkt_duration (0 where ffprobe has none)
};
struct Probe {
  int tb_num = 0, tb_den = 1;
  int width = 0, height = 0;
  std::string pix_fmt, color_space, color_range;
  int64_t nb_frames_header = -1;
  int rotation = 0;
  std::vector<ProbeFrame> frames;  // in decode output order, as ffprobe -show_frames lists them
  double seconds(int64_t pts) const { return static_cast<double>(pts) * tb_num / tb_den; }
};
const Probe& ffprobe(const std::string& path);

// The matrix and range of the colour contract for this stream, as ffmpeg's scale filter
// spells them (in_color_matrix / in_range).
std::string contract_matrix(const Probe& p);
std::string contract_range(const Probe& p);

// One MD5 per frame of `ffmpeg -threads 1 -i path -vf scale=in_color_matrix=M:in_range=R[,extra]
// -vsync passthrough -pix_fmt PIX -f framemd5`, in order. One decoder thread: frame threads
// conceal damaged data by timing, and framepipe decodes damaged files on one thread (the same
// frames as threads give wherever the data is whole). `scale_args` are extra arguments
// of that scale filter (e.g. "w=160:h=120"); `pre` a filter chain before it (e.g. a crop).
// autorotate false: with -noautorotate (frames as stored).
std::vector<std::string> reference_md5(const std::string& path, const std::string& pix_fmt = "rgb24",
                                       const std::string& scale_args = "", const std::string& pre = "",
                                       bool autorotate = true);
// Raw frames of the same command for chosen indices (select=eq(n,I)), index -> bytes.
std::map<int64_t, std::vector<uint8_t>> reference_frames(const std::string& path, const std::vector<int64_t>& indices,
                                                         const std::string& pix_fmt = "rgb24", bool autorotate = true);

std::string md5(const uint8_t* data, size_t size);

// Reads the frame number that make-test-media.sh drew into the top rows (16 blocks, bit b
// white when set). `channels` 1 (grey) or 3.
int64_t pixel_index(const uint8_t* pixels, int width, int height, int channels);

// Writes an image (PPM/PGM) for a failing comparison and returns its path.
std::string dump_image(const std::string& tag, const uint8_t* pixels, int width, int height, int channels);

}  // namespace fpt
