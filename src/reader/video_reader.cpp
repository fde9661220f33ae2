// The reader's public face (see video_reader.hpp); its work is in reader_*.cpp and
// read_ahead.cpp, around VideoReader::Impl (reader_impl.hpp).
#include "framepipe/reader/video_reader.hpp"

#include <cmath>
#include <sstream>

#include "common/named_enum.hpp"
#include "media/describe.hpp"
#include "media/index_scan.hpp"
#include "media/sidecar.hpp"
#include "reader/reader_impl.hpp"
#include "reader/reader_internals.hpp"

namespace framepipe {

namespace {

// A public method's turn on its reader (every method but the few fixed at open).
class Lock {
 public:
  template <class ImplPtr>  // VideoReader::Impl, private to the class
  explicit Lock(const ImplPtr& impl) : lock_(impl->api_mu, std::defer_lock) {
    if (serving_fn == impl.get())
      throw ConfigError("'" + impl->source.name() + "': a for_each callback called its own reader, which is busy " +
                        "with that for_each (only source(), out_width(), out_height() and out_channels() may be)");
    lock_.lock();
  }

 private:
  std::unique_lock<std::recursive_mutex> lock_;
};

std::string fmt_seconds(double t) {
  std::ostringstream os;
  os.precision(6);
  os << std::fixed << t;
  return os.str();
}

constexpr std::array<std::pair<const char*, IndexMode>, 3> kIndexModes{
    {{"exact", IndexMode::Exact}, {"decode", IndexMode::Decode}, {"header", IndexMode::Header}}};

}  // namespace

IndexMode parse_index_mode(const std::string& s) { return detail::parse_enum(s, kIndexModes, "index mode"); }
const char* to_string(IndexMode m) { return detail::enum_name(m, kIndexModes); }

VideoReader::VideoReader(const Source& source, const ReaderOptions& options)
    : impl_(std::make_unique<Impl>(source, options)) {}
VideoReader::~VideoReader() = default;
VideoReader::VideoReader(VideoReader&&) noexcept = default;
VideoReader& VideoReader::operator=(VideoReader&&) noexcept = default;

void ReaderInternals::tap_other_packets(VideoReader& reader, std::function<void(AVPacket*)> tap) {
  const Lock lock(reader.impl_);
  reader.impl_->other_packets = tap;
  reader.impl_->demux->set_other_packets(std::move(tap));
}

const AVFormatContext* ReaderInternals::format(const VideoReader& reader) {
  const Lock lock(reader.impl_);
  return reader.impl_->demux->format();
}

const MediaInfo& VideoReader::info() const {
  const Lock lock(impl_);
  return impl_->info;
}
int64_t VideoReader::size() const {
  const Lock lock(impl_);
  return impl_->size();
}
bool VideoReader::size_is_exact() const {
  const Lock lock(impl_);
  return impl_->index.has_value();
}
const FrameIndex& VideoReader::index() {
  const Lock lock(impl_);
  impl_->stop_read_ahead();
  impl_->ensure_index();
  return *impl_->index;
}
ReaderStats VideoReader::stats() const {
  const Lock lock(impl_);
  return impl_->stats();
}
const Source& VideoReader::source() const { return impl_->source; }  // fixed at open: no lock
const ReaderOptions& VideoReader::options() const {
  const Lock lock(impl_);
  return impl_->opt;
}
const Geometry& VideoReader::geometry() const {
  const Lock lock(impl_);
  return impl_->geom;
}
int VideoReader::out_width() const { return impl_->out_w; }  // fixed at open: no lock
int VideoReader::out_height() const { return impl_->out_h; }  // fixed at open: no lock
int VideoReader::out_channels() const { return channels(impl_->opt.image.pix); }  // fixed at open: no lock
int64_t VideoReader::damage_reports() const {
  const Lock lock(impl_);
  return impl_->damage();
}

Frame VideoReader::frame(int64_t i) {
  const Lock lock(impl_);
  Frame f;
  frame(i, f);
  return f;
}

void VideoReader::frame(int64_t i, Frame& out) {
  const Lock lock(impl_);
  impl_->stop_read_ahead();
  impl_->shape(out);
  impl_->frames_into({i}, out.data(), &out.info);
}

Batch VideoReader::frames(const std::vector<int64_t>& indices) {
  const Lock lock(impl_);
  Batch b;
  frames(indices, b);
  return b;
}

void VideoReader::frames(const std::vector<int64_t>& indices, Batch& out) {
  const Lock lock(impl_);
  impl_->stop_read_ahead();
  impl_->shape(out, indices.size());
  impl_->frames_into(indices, out.pixels.data(), out.info.data());
}

void VideoReader::frames_into(const std::vector<int64_t>& indices, uint8_t* out, FrameInfo* info_out) {
  const Lock lock(impl_);
  impl_->stop_read_ahead();
  impl_->frames_into(indices, out, info_out);
}

void VideoReader::for_each(const std::vector<int64_t>& indices, const std::function<void(const Frame&)>& fn,
                           Calls calls) {
  const Lock lock(impl_);
  impl_->stop_read_ahead();
  impl_->for_each(indices, fn, calls == Calls::Concurrent);
}

int64_t VideoReader::index_at(double seconds) {
  const Lock lock(impl_);
  impl_->stop_read_ahead();
  impl_->ensure_index();
  const FrameIndex& idx = *impl_->index;
  const std::string& name = impl_->source.name();
  if (idx.empty()) throw OutOfRangeError("'" + name + "' has no frames");
  const double first = idx.first_seconds(), end = idx.end_seconds();
  if (!std::isfinite(seconds) || seconds < first || seconds > end)
    throw OutOfRangeError("time " + fmt_seconds(seconds) + " s is out of range for '" + name + "': valid times are " +
                          fmt_seconds(first) + " .. " + fmt_seconds(end) + " s");
  const int64_t i = idx.frame_at(seconds);
  return i < 0 ? 0 : i;
}

Frame VideoReader::frame_at(double seconds) {
  const Lock lock(impl_);
  return frame(index_at(seconds));
}

Batch VideoReader::frames_at(const std::vector<double>& seconds) {
  const Lock lock(impl_);
  std::vector<int64_t> idx;
  idx.reserve(seconds.size());
  for (double t : seconds) idx.push_back(index_at(t));
  return frames(idx);
}

Batch VideoReader::range(int64_t start, int64_t stop, int64_t step) {
  const Lock lock(impl_);
  if (step <= 0) throw ConfigError("range step must be positive, got " + std::to_string(step));
  if (start < stop) {  // the bounds before a list of them is made: range(0, 10**18) is refused, not allocated
    impl_->check_index(start);
    impl_->check_index(stop - 1);
  }
  std::vector<int64_t> idx;
  for (int64_t i = start; i < stop; i += step) idx.push_back(i);
  return frames(idx);
}

void VideoReader::seek(int64_t i) {
  const Lock lock(impl_);
  impl_->stop_read_ahead();
  if (i != 0) impl_->check_index(i);
  impl_->stream_pos = i;
}

bool VideoReader::next(Frame& out) {
  const Lock lock(impl_);
  Impl& m = *impl_;
  if (!m.reading_ahead()) {
    if (m.index && m.stream_pos >= m.index->size()) return false;
    // Continuing needs every frame still to come: none may have been skipped by a batch.
    const bool continues = m.have_cur && m.cursor_known && m.cursor == m.stream_pos - 1 && !m.dec->skipped_pending();
    if (!continues && !(m.stream_pos == 0 && m.fresh())) {
      // Not where the decoder is: position it on stream_pos, hand that frame out, and read
      // ahead from the next call on.
      m.ensure_index();
      if (m.stream_pos >= m.index->size()) return false;
      m.goto_frame(m.stream_pos);
      m.shape(out);
      m.convert_current(out.data());
      out.info = m.current_info();
      m.stream_pos = m.cursor + 1;
      return true;
    }
    m.start_read_ahead();
  }
  Impl::Decoded d;
  if (!m.pop_ahead(d)) return false;
  // Decoders given damaged data have been seen to write into a frame after handing it out;
  // where the index knows the picture, a frame that changed while queued is not passed on.
  if (d.hash != 0 && frame_hash(d.frame.get()) != d.hash) {
    m.recycle(std::move(d.frame));
    throw DecodeError("frame " + std::to_string(d.info.index) + " of '" + m.source.name() +
                      "' changed after the decoder handed it out (damaged data); read it by index instead");
  }
  m.shape(out);
  m.convert_frame(d.frame.get(), out.data());
  out.info = d.info;
  m.stream_pos = d.info.index + 1;
  m.recycle(std::move(d.frame));
  return true;
}

MediaInfo probe(const Source& source, bool header_only) {
  DemuxerOptions dopt;
  dopt.require_video = false;  // an audio-only file is described too
  Demuxer demux(source, dopt);
  std::optional<FrameIndex> index;
  if (demux.video_index() >= 0 && !header_only && !demux.live()) {
    index = load_sidecar(source, demux.video_index());
    if (!index) index = scan_frame_index(source, ScanOptions{demux.video_index(), 0, {}});
  }
  MediaInfo m = describe(demux, index ? &*index : nullptr);
  if (AVStream* st = demux.video_stream()) {
    const AVCodecParameters* par = st->codecpar;
    fill_color_used(m.video, par->color_space, par->color_range, static_cast<AVPixelFormat>(par->format), {});
    fill_upright(m.video, st, true);
  }
  return m;
}

FrameIndex write_index_sidecar(const std::string& path, int stream, bool decode) {
  return write_sidecar(path, stream, decode);
}

}  // namespace framepipe
