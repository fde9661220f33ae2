// The conformance set made by scripts/make-test-media.sh, and what each file's pixels say.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace fpt {

enum class PixelLabel {
  Index,     // frame i shows the number i
  Selected,  // frames were dropped from the source (VFR files) or lost to a cut tail:
             // the numbers rise but may skip
  None,      // real footage: no number drawn
};

struct MediaCase {
  std::string file;
  PixelLabel label;
};

inline const std::vector<MediaCase>& conformance_set() {
  static const std::vector<MediaCase> set = {
      {"h264_bframes.mp4", PixelLabel::Index},   {"h264_opengop.mkv", PixelLabel::Index},
      {"hevc.mp4", PixelLabel::Index},           {"hevc_10bit.mkv", PixelLabel::Index},
      {"vp9_odd.webm", PixelLabel::Index},       {"av1.mkv", PixelLabel::Index},
      {"mpeg4_bframes.avi", PixelLabel::Index},  {"mjpeg_full.avi", PixelLabel::Index},
      {"h264.ts", PixelLabel::Index},            {"h264_rotated.mov", PixelLabel::Index},
      {"vfr.mkv", PixelLabel::Selected},         {"vfr.mp4", PixelLabel::Selected},
      {"start_offset.mkv", PixelLabel::Index},   {"h264_audio.mp4", PixelLabel::Index},
      {"truncated.mp4", PixelLabel::Selected},   {"truncated.ts", PixelLabel::Selected},
      {"midgop.ts", PixelLabel::Selected},
      {"real/vtest.avi", PixelLabel::None},      {"real/Megamind.avi", PixelLabel::None},
      {"real/Megamind_bugy.avi", PixelLabel::None}, {"real/tree.avi", PixelLabel::None},
  };
  return set;
}

inline void PrintTo(const MediaCase& c, std::ostream* os) { *os << c.file; }

// gtest parameter names: letters, digits and underscores only.
inline std::string case_name(const std::string& file) {
  std::string s;
  for (char c : file) s += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return s;
}

}  // namespace fpt
