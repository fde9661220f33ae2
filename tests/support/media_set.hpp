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
  None,      // real footage (no number drawn), or a turned picture (the number is not on top)
};

struct MediaCase {
  std::string file;
  PixelLabel label;
  std::string structure;  // what the file is a case of (the conformance table prints it)
};

// The conformance matrix: codecs x containers x structures, made by make-test-media.sh
// (and real footage from opencv-doc). Every test that walks it checks each file whole.
inline const std::vector<MediaCase>& conformance_set() {
  using L = PixelLabel;
  static const std::vector<MediaCase> set = {
      {"h264_bframes.mp4", L::Index, "B-pyramid, closed GOP, edit list of the B delay"},
      {"h264_opengop.mkv", L::Index, "open GOP"},
      {"h264_opengop_long.mp4", L::Index, "open GOP, groups of 50 (x264 open_gop)"},
      {"h264_opengop_long.mkv", L::Index, "open GOP, groups of 50, B-pyramid"},
      {"h264_opengop_long.ts", L::Index, "open GOP, groups of 50, MPEG-TS"},
      {"hevc.mp4", L::Index, "B-frames, CRA keyframes"},
      {"hevc_10bit.mkv", L::Index, "10-bit"},
      {"hevc_10bit_opengop.mkv", L::Index, "10-bit, open GOP, leading pictures, 4 B-frames"},
      {"vp8.webm", L::Index, "VP8"},
      {"vp9_odd.webm", L::Index, "odd size 317x239"},
      {"av1.mkv", L::Index, "AV1"},
      {"h264_paff.ts", L::Index, "field-coded (PAFF): a packet per field, IDR frames and field pairs"},
      {"h264_paff.mkv", L::Index, "field-coded (PAFF) in Matroska"},
      {"h264_paff.mp4", L::Index, "field-coded (PAFF) in MP4: two samples a frame"},
      {"mpeg2_interlaced.ts", L::Index, "interlaced (field DCT/motion), B-frames"},
      {"mpeg4_bframes.avi", L::Index, "B-frames, packets without pts"},
      {"mpeg4_packed.avi", L::Selected, "Xvid, packed B-frames"},
      {"mjpeg_full.avi", L::Index, "full range"},
      {"prores.mov", L::Index, "4:2:2 10-bit, intra only"},
      {"ffv1_odd.mkv", L::Index, "lossless, odd size 317x239"},
      {"theora.ogv", L::Index, "Theora in Ogg"},
      {"h264.ts", L::Index, "starts at 1.4 s"},
      {"h264_wrap.ts", L::Index, "33-bit clock wraps mid-file"},
      {"h264_discontinuity.ts", L::None, "two recordings joined: clock restarts"},
      {"h264_interlaced.ts", L::Index, "interlaced (MBAFF)"},
      {"h264_ptsdts.mp4", L::Index, "pts = dts with B-frames"},
      {"h264_editlist.mp4", L::Selected, "edit list with a negative start"},
      {"h264_rotated.mov", L::None, "rotation 90"},
      {"h264_rot180.mp4", L::None, "rotation 180"},
      {"h264_rot270.mp4", L::None, "rotation 270"},
      {"h264_hflip.mp4", L::None, "mirrored display matrix (hflip)"},
      {"h264_vflip.mp4", L::None, "upside-down display matrix (vflip)"},
      {"h264_transpose.mp4", L::None, "quarter turn and mirror (transpose=cclock_flip)"},
      {"h264_clockflip.mp4", L::None, "quarter turn and mirror (transpose=clock_flip)"},
      {"h264_rot45.mp4", L::None, "turned 45 degrees (the CLI's rotate filter)"},
      {"h264_rot330.mp4", L::None, "turned 30 degrees counter-clockwise (rotate filter)"},
      {"h264_422_rot90.mp4", L::None, "4:2:2 turned 90 (made 4:4:4 first, as libavfilter does)"},
      {"phone_rotated.mp4", L::None, "portrait phone video (stored 568x320, turned 90), AAC"},
      {"vfr.mkv", L::Selected, "variable frame rate"},
      {"vfr.mp4", L::Selected, "variable frame rate, 90 kHz"},
      {"start_offset.mkv", L::Index, "starts at 2.5 s"},
      {"h264_audio.mp4", L::Index, "with AAC audio"},
      {"h264_nopicture.mp4", L::Selected, "a packet that decodes to nothing"},
      {"h264_damaged.mp4", L::None, "3000 bytes zeroed mid-file"},
      {"h264_broken_idr.mp4", L::None, "a broken slice in the first IDR, concealed"},
      {"truncated.mp4", L::Selected, "truncated tail (index promises more)"},
      {"truncated.ts", L::Selected, "truncated tail"},
      {"truncated.mkv", L::Selected, "truncated tail (Matroska: the demuxer only logs it)"},
      {"midgop.ts", L::Selected, "starts mid-GOP"},
      {"real/vtest.avi", L::None, "real footage, msmpeg4v3"},
      {"real/Megamind.avi", L::None, "real footage, MPEG-4"},
      {"real/Megamind_bugy.avi", L::None, "real footage, damaged"},
      {"real/tree.avi", L::None, "real footage, cinepak"},
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
