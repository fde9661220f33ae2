#include "support/reference.hpp"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

extern "C" {
#include <libavutil/md5.h>
}

namespace fpt {

namespace fs = std::filesystem;

std::string media_dir() {
  const char* d = std::getenv("FRAMEPIPE_MEDIA");
  return d ? d : FRAMEPIPE_MEDIA_DEFAULT;
}

std::string media(const std::string& name) { return media_dir() + "/" + name; }

std::string cli() {
  const char* c = std::getenv("FRAMEPIPE_CLI");
  return c ? c : FRAMEPIPE_CLI_DEFAULT;
}

std::string temp_dir(const std::string& tag) {
  fs::path p = fs::path(media_dir()) / "tmp" / (tag + "." + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out.append("'\\''");
    else out.push_back(c);
  }
  return out + "'";
}

std::string run(const std::string& cmd, int* rc) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run: " + cmd);
  std::string out;
  std::array<char, 65536> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = ::pclose(p);
  if (rc) *rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

namespace {

// Disk cache keyed by the command that makes the value.
std::string cached(const std::string& cmd) {
  const std::string key = std::to_string(std::hash<std::string>{}(cmd));
  const fs::path dir = fs::path(media_dir()) / "ref";
  fs::create_directories(dir);
  const fs::path file = dir / key;
  if (fs::exists(file)) {
    std::ifstream is(file, std::ios::binary);
    std::stringstream ss;
    ss << is.rdbuf();
    return ss.str();
  }
  int rc = 0;
  std::string out = run(cmd, &rc);
  if (rc != 0) throw std::runtime_error("reference command failed (" + std::to_string(rc) + "): " + cmd);
  const fs::path tmp = dir / (key + ".tmp." + std::to_string(::getpid()));
  {
    std::ofstream os(tmp, std::ios::binary);
    os << out;
  }
  fs::rename(tmp, file);
  return out;
}

int parse_int(const nlohmann::json& j, const char* key, int fallback) {
  if (!j.contains(key)) return fallback;
  if (j[key].is_number()) return j[key].get<int>();
  return std::atoi(j[key].get<std::string>().c_str());
}

std::string scale_filter(const std::string& path, const std::string& scale_args, const std::string& pre,
                         const std::string& pix_fmt) {
  const Probe& p = ffprobe(path);
  std::string vf = pre.empty() ? "" : pre + ",";
  vf += "scale=in_color_matrix=" + contract_matrix(p) + ":in_range=" + contract_range(p);
  if (pix_fmt == "gray") vf += ":out_range=pc";
  if (!scale_args.empty()) vf += ":" + scale_args;
  return vf;
}

}  // namespace

const Probe& ffprobe(const std::string& path) {
  static std::mutex mu;
  static std::map<std::string, Probe> memo;
  std::lock_guard<std::mutex> lock(mu);
  auto it = memo.find(path);
  if (it != memo.end()) return it->second;
  const std::string cmd = "ffprobe -v quiet -select_streams v:0 -show_frames -show_streams "
                          "-show_entries frame=key_frame,best_effort_timestamp,pkt_duration "
                          "-show_entries stream=time_base,width,height,pix_fmt,color_space,color_range,nb_frames:"
                          "stream_side_data=rotation -of json " +
                          shell_quote(path);
  const auto j = nlohmann::json::parse(cached(cmd));
  Probe p;
  const auto& st = j.at("streams").at(0);
  const std::string tb = st.at("time_base");
  std::sscanf(tb.c_str(), "%d/%d", &p.tb_num, &p.tb_den);
  p.width = parse_int(st, "width", 0);
  p.height = parse_int(st, "height", 0);
  p.pix_fmt = st.value("pix_fmt", "");
  p.color_space = st.value("color_space", "unknown");
  p.color_range = st.value("color_range", "unknown");
  p.nb_frames_header = parse_int(st, "nb_frames", -1);
  if (st.contains("side_data_list"))
    for (const auto& sd : st["side_data_list"])
      if (sd.contains("rotation")) p.rotation = sd["rotation"].get<int>();
  if (j.contains("frames"))
    for (const auto& f : j["frames"]) {
      ProbeFrame pf;
      pf.key = parse_int(f, "key_frame", 0) != 0;
      pf.has_pts = f.contains("best_effort_timestamp");
      pf.duration = f.contains("pkt_duration") ? f["pkt_duration"].get<int64_t>() : 0;
      if (pf.has_pts) {
        pf.pts = f["best_effort_timestamp"].get<int64_t>();
      } else {
        // ffprobe prints N/A (the last frame out of some AVI decoders). framepipe's stated
        // rule: one frame on from the previous (the gap before it, for constant-rate files).
        const size_t n = p.frames.size();
        const int64_t step = n >= 2 ? p.frames[n - 1].pts - p.frames[n - 2].pts : 1;
        pf.pts = n ? p.frames[n - 1].pts + std::max<int64_t>(step, 1) : 0;
      }
      p.frames.push_back(pf);
    }
  return memo.emplace(path, std::move(p)).first->second;
}

std::string contract_matrix(const Probe& p) {
  if (p.color_space == "bt709") return "bt709";
  if (p.color_space == "bt470bg" || p.color_space == "smpte170m") return "bt601";
  if (p.color_space == "bt2020nc" || p.color_space == "bt2020c") return "bt2020";
  if (p.color_space == "smpte240m") return "smpte240m";
  if (p.color_space == "fcc") return "fcc";
  return p.height > 576 ? "bt709" : "bt601";
}

std::string contract_range(const Probe& p) {
  if (p.color_range == "pc") return "pc";
  if (p.color_range == "tv") return "tv";
  return p.pix_fmt.rfind("yuvj", 0) == 0 ? "pc" : "tv";
}

std::vector<std::string> reference_md5(const std::string& path, const std::string& pix_fmt,
                                       const std::string& scale_args, const std::string& pre, bool autorotate) {
  const std::string cmd = std::string("ffmpeg -nostdin -v error -threads 1 ") + (autorotate ? "" : "-noautorotate ") + "-i " + shell_quote(path) +
                          " -map 0:v:0 -vf " + shell_quote(scale_filter(path, scale_args, pre, pix_fmt)) +
                          " -vsync passthrough -pix_fmt " + pix_fmt + " -f framemd5 -";
  std::vector<std::string> out;
  std::istringstream is(cached(cmd));
  std::string line;
  while (std::getline(is, line)) {
    if (line.empty() || line[0] == '#') continue;
    out.push_back(line.substr(line.rfind(',') + 1));
    auto& h = out.back();
    h.erase(0, h.find_first_not_of(' '));
  }
  return out;
}

std::map<int64_t, std::vector<uint8_t>> reference_frames(const std::string& path, const std::vector<int64_t>& indices,
                                                         const std::string& pix_fmt, bool autorotate) {
  std::vector<int64_t> sorted(indices);
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string sel;
  for (int64_t i : sorted) {
    if (!sel.empty()) sel += '+';
    sel.append("eq(n\\,").append(std::to_string(i)).append(")");
  }
  const std::string cmd = std::string("ffmpeg -nostdin -v error -threads 1 ") + (autorotate ? "" : "-noautorotate ") + "-i " +
                          shell_quote(path) + " -map 0:v:0 -vf " +
                          shell_quote("select=" + sel + "," + scale_filter(path, "", "", pix_fmt)) +
                          " -vsync passthrough -pix_fmt " + pix_fmt + " -f rawvideo -";
  const std::string raw = cached(cmd);
  const Probe& p = ffprobe(path);
  const size_t c = pix_fmt == "gray" ? 1 : 3;
  const size_t fb = static_cast<size_t>(p.width) * p.height * c;
  std::map<int64_t, std::vector<uint8_t>> out;
  for (size_t k = 0; k < sorted.size() && (k + 1) * fb <= raw.size(); ++k)
    out[sorted[k]] = std::vector<uint8_t>(raw.begin() + static_cast<ptrdiff_t>(k * fb),
                                          raw.begin() + static_cast<ptrdiff_t>((k + 1) * fb));
  return out;
}

std::string md5(const uint8_t* data, size_t size) {
  uint8_t digest[16];
  av_md5_sum(digest, data, static_cast<int>(size));
  char hex[33];
  for (int i = 0; i < 16; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  return std::string(hex, 32);
}

int64_t pixel_index(const uint8_t* pixels, int width, int height, int channels) {
  int64_t v = 0;
  const int y = 8 * height / 240;
  for (int b = 0; b < 16; ++b) {
    const int x = static_cast<int>((b + 0.5) * width / 16.0);
    const uint8_t* px = pixels + (static_cast<size_t>(y) * width + x) * channels;
    int sum = 0;
    for (int k = 0; k < channels; ++k) sum += px[k];
    if (sum / channels > 128) v |= int64_t{1} << b;
  }
  return v;
}

std::string dump_image(const std::string& tag, const uint8_t* pixels, int width, int height, int channels) {
  const fs::path dir = fs::path(media_dir()) / "failures";
  fs::create_directories(dir);
  const fs::path file = dir / (tag + (channels == 1 ? ".pgm" : ".ppm"));
  std::ofstream os(file, std::ios::binary);
  os << (channels == 1 ? "P5" : "P6") << "\n" << width << " " << height << "\n255\n";
  os.write(reinterpret_cast<const char*>(pixels), static_cast<std::streamsize>(size_t(width) * height * channels));
  return file.string();
}

}  // namespace fpt
