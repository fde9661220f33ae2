// Opening a reader: demuxer, decoder, the index (scanned, or a fresh sidecar), geometry.
#include "reader/reader_impl.hpp"

#include <cmath>

#include "image/rotate.hpp"
#include "media/describe.hpp"
#include "media/index_scan.hpp"
#include "media/sidecar.hpp"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace framepipe {

void fill_color_used(VideoStreamInfo& v, AVColorSpace space, AVColorRange range, AVPixelFormat fmt,
                     const ImageOptions& opt) {
  if (v.index < 0) return;
  v.color_matrix_used = to_string(resolve_matrix(space, v.height, opt.matrix));
  v.color_range_used = to_string(resolve_range(range, fmt, opt.range));
}

void fill_upright(VideoStreamInfo& v, const AVStream* stream, bool autorotate) {
  if (stream) v.upright = autorotate ? upright_of(av::display_matrix(stream)).filters() : "";
}

FrameCursor::FrameCursor(const Source& s, const ReaderOptions& o, std::shared_ptr<const ProbedStreams> probed_by)
    : source(s), opt(o), probed(std::move(probed_by)) {
  if (!opt.input_options.empty()) opt.use_sidecar = false;  // an index made without them would not fit
  if (opt.threads < 0) throw ConfigError("threads must be >= 0, got " + std::to_string(opt.threads));
  if (opt.workers < 0) throw ConfigError("workers must be >= 0, got " + std::to_string(opt.workers));
  device = open_device(parse_device(opt.device), source.name());
  open_stream();
  if (opt.known_index) index = *opt.known_index;
  if (opt.index == IndexMode::Exact && demux->live())
    opt.index = IndexMode::Header;  // a live stream has no end to scan to
  if (opt.index != IndexMode::Header) ensure_index();
  refresh_info();
  const AVCodecParameters* par = demux->video_stream()->codecpar;
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(par->format));
  int ax = d && !(d->flags & AV_PIX_FMT_FLAG_RGB) ? 1 << d->log2_chroma_w : 1;
  int ay = d && !(d->flags & AV_PIX_FMT_FLAG_RGB) ? 1 << d->log2_chroma_h : 1;
  int w = par->width, h = par->height;
  if (w <= 0 || h <= 0)
    throw UnsupportedError("'" + source.name() + "': the picture size is in no header, and probing could not decode a " +
                           "picture within max_pixels (" + std::to_string(opt.max_pixels) +
                           "): a picture larger than that (a decompression bomb?) or damaged data");
  upright = opt.autorotate ? upright_of(av::display_matrix(demux->video_stream())) : Upright{};
  rotator.reset();
  if (upright.degrees != 0) rotator = std::make_unique<AngleRotator>(upright.degrees, source.name());
  if (upright.swap) {
    std::swap(w, h);
    std::swap(ax, ay);
  }
  geom = make_geometry(w, h, opt.image, ax, ay);
  out_w = geom.out_width;
  out_h = geom.out_height;
}

void FrameCursor::open_stream() {
  close_run();
  drop_decoder();
  DemuxerOptions dopt{opt.stream, opt.open_timeout_ms, opt.read_timeout_ms, true, opt.live, opt.rtsp_transport,
                      opt.input_options};
  dopt.max_pixels = opt.max_pixels;
  dopt.probed = probed;
  demux = std::make_unique<Demuxer>(source, dopt);
  if (other_packets) demux->set_other_packets(other_packets);  // a reopen keeps the tap
  new_decoder();
  have_cur = cursor_known = false;
  cursor = -1;
  run_key = run_home = kRunFromStart;
  const std::lock_guard lock(dec_mu);
  run_landed = run_excuses = false;
  mark_run();
}

void FrameCursor::drop_decoder() {
  const std::lock_guard lock(dec_mu);
  if (!dec) return;
  damage_before_reopen += dec->damage();
  refused_before_reopen += dec->refused();
  dec.reset();
}

void FrameCursor::new_decoder() {
  drop_decoder();
  DecoderOptions d{decoder_threads, opt.strict, opt.max_pixels, device.get()};  // strict: no CPU fallback
  d.zero_buffers = index && index->any_damaged();
  auto fresh_decoder = std::make_unique<Decoder>(*demux, d);
  {
    const std::lock_guard lock(dec_mu);
    dec = std::move(fresh_decoder);
  }
  dec->set_wanted(wanted_pts);
  dec->set_key_only(key_only);
  dec->set_frame_pts(frame_pts);
}

void FrameCursor::ensure_index() {
  if (index) return;
  if (demux->live())
    throw ConfigError("'" + source.name() + "' is a live stream: it has no end to index to, so frames are read as " +
                      "they come (next(); sample specs all, every, fps, keyframes and times), not by index");
  const bool decode = opt.index == IndexMode::Decode;
  if (opt.use_sidecar) index = load_sidecar(source, demux->video_index(), decode);
  if (!index) {
    index = scan_frame_index(source, ScanOptions{demux->video_index(), opt.threads, opt.input_options,
                                                 decode ? FrameIndex::Method::Decode : FrameIndex::Method::Packets,
                                                 opt.max_pixels, demux->probed()});
    if (opt.use_sidecar) refresh_sidecar(source, *index);
  }
  if (index->any_damaged() && fresh()) new_decoder();  // one that zeroes its buffers
  if (!info.source.empty()) refresh_info();
  if (opt.strict && !index->truncated().empty())
    throw DecodeError("'" + source.name() + "' is truncated: " + index->truncated() + " (strict mode)");
}

void FrameCursor::refresh_info() {
  info = describe(*demux, index ? &*index : nullptr);
  const AVCodecParameters* par = demux->video_stream()->codecpar;
  fill_color_used(info.video, par->color_space, par->color_range, static_cast<AVPixelFormat>(par->format),
                  opt.image);
  fill_upright(info.video, demux->video_stream(), opt.autorotate);
}

int64_t FrameCursor::size() const {
  if (index) return index->size();
  const VideoStreamInfo& v = info.video;
  if (v.frames_header > 0) return v.frames_header;
  return static_cast<int64_t>(std::llround(v.duration * v.fps));
}

void FrameCursor::check_index(int64_t i) {
  ensure_index();
  if (i < 0 || i >= index->size())
    throw OutOfRangeError("frame " + std::to_string(i) + " is out of range for '" + source.name() +
                          "': valid indices are 0.." + std::to_string(index->size() - 1) + " (" +
                          std::to_string(index->size()) + " frames)");
}

ReaderStats FrameCursor::stats() const {
  ReaderStats st{frames_decoded.load(), frames_returned.load(), seeks.load(), 0, 0};
  const std::lock_guard lock(dec_mu);
  if (dec) st.packets_skipped = dec->packets_skipped();
  return st;
}

ReaderStats VideoReader::Impl::stats() const {
  ReaderStats st = FrameCursor::stats();
  st.parallel_runs = parallel_runs.load();
  for (const auto& w : pool) {
    if (!w) continue;  // a member whose worker failed to open it
    const ReaderStats ws = w->stats();
    st.frames_decoded += ws.frames_decoded;
    st.frames_returned += ws.frames_returned;
    st.seeks += ws.seeks;
    st.packets_skipped += ws.packets_skipped;
  }
  return st;
}

int64_t FrameCursor::damage() const {
  // What was counted, and what the current run has reported since, unless the run may excuse
  // it (see "Damage accounting" in reader_seek.cpp).
  const std::lock_guard lock(dec_mu);
  int64_t d = counted_damage.load(std::memory_order_relaxed);
  if (!run_excuses && dec) d += std::max<int64_t>(decoder_reports() - run_mark, 0);
  return d;
}

int64_t VideoReader::Impl::damage() const {
  int64_t d = FrameCursor::damage();
  for (const auto& w : pool)
    if (w) d += w->damage();
  return d;
}

void FrameCursor::shape(Frame& f) const {
  f.width = geom.out_width;
  f.height = geom.out_height;
  f.channels = channels(opt.image.pix);
  f.pixels.resize(f.size_bytes());
}

void check_batch_bytes(const ReaderOptions& options, const std::string& source, const std::string& what,
                       int64_t bytes, const std::string& advice) {
  if (options.batch_bytes > 0 && bytes > options.batch_bytes)
    throw ConfigError(what + " from '" + source + "' would take " + std::to_string(bytes >> 20) +
                      " MiB, over the limit of " + std::to_string(options.batch_bytes >> 20) +
                      " MiB (batch_bytes): " + advice);
}

void VideoReader::Impl::shape(Batch& b, size_t n) const {
  b.width = geom.out_width;
  b.height = geom.out_height;
  b.channels = channels(opt.image.pix);
  check_batch_bytes(opt, source.name(),
                    "a batch of " + std::to_string(n) + " frames of " + std::to_string(b.width) + "x" +
                        std::to_string(b.height),
                    static_cast<int64_t>(n) * static_cast<int64_t>(b.frame_bytes()),
                    "ask for fewer frames at once, or stream them");
  b.info.resize(n);
  b.pixels.resize(n * b.frame_bytes());
}

}  // namespace framepipe
