#include "framepipe/reader/video_reader.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <cmath>
#include <cstring>
#include <numeric>
#include <optional>
#include <sstream>

#include "image/pixel_converter.hpp"
#include "media/decoder.hpp"
#include "media/demuxer.hpp"
#include "media/describe.hpp"
#include "media/index_scan.hpp"
#include "reader/reader_internals.hpp"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace framepipe {

Source Source::from_bytes(std::vector<uint8_t> bytes, std::string name) {
  Source s;
  s.location = std::move(name);
  s.memory = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  return s;
}

namespace {

std::string fmt_seconds(double t) {
  std::ostringstream os;
  os.precision(6);
  os << std::fixed << t;
  return os.str();
}

bool sidecar_allowed(const Source& s) { return !s.in_memory() && !is_stream_location(s.location); }

std::optional<FrameIndex> load_sidecar(const Source& s, int stream) {
  if (!sidecar_allowed(s)) return std::nullopt;
  auto stamp = FileStamp::of(s.location);
  if (!stamp) return std::nullopt;
  auto idx = FrameIndex::load(FrameIndex::sidecar_path(s.location), *stamp);
  if (idx && stream >= 0 && idx->stream_index() != stream) return std::nullopt;
  return idx;
}

void fill_color_used(VideoStreamInfo& v, AVColorSpace space, AVColorRange range, AVPixelFormat fmt,
                     const ImageOptions& opt) {
  if (v.index < 0) return;
  v.color_matrix_used = to_string(resolve_matrix(space, v.height, opt.matrix));
  v.color_range_used = to_string(resolve_range(range, fmt, opt.range));
}

}  // namespace

struct VideoReader::Impl {
  Source source;
  ReaderOptions opt;
  std::unique_ptr<Demuxer> demux;
  std::unique_ptr<Decoder> dec;
  av::FramePtr cur = av::make_frame();
  bool have_cur = false;      // cur holds a decoded frame
  bool cursor_known = false;  // and we know its index
  int64_t cursor = -1;
  std::optional<FrameIndex> index;
  MediaInfo info;
  Geometry geom;
  PixelConverter conv;
  int64_t stream_pos = 0;     // next frame next() returns
  int64_t damage_before_reopen = 0;
  // Counters (frames_decoded is written by the read-ahead thread too).
  std::atomic<int64_t> frames_decoded{0}, frames_returned{0}, seeks{0};
  static constexpr int64_t kRunFromStart = -2;
  static constexpr int kMaxRetries = 3;  // two groups earlier, then from the start
  int64_t run_key = kRunFromStart;       // keyframe the current decoding run was sought to
  bool seek_by_dts = false;
  std::function<void(AVPacket*)> other_packets;  // see ReaderInternals::tap_other_packets

  Impl(const Source& s, const ReaderOptions& o) : source(s), opt(o) {
    if (!opt.input_options.empty()) opt.use_sidecar = false;  // an index made without them would not fit
    if (opt.threads < 0) throw ConfigError("threads must be >= 0, got " + std::to_string(opt.threads));
    if (opt.workers < 0) throw ConfigError("workers must be >= 0, got " + std::to_string(opt.workers));
    open_stream();
    if (opt.known_index) index = *opt.known_index;
    if (opt.index == IndexMode::Exact && is_stream_location(source.location) && !source.in_memory())
      opt.index = IndexMode::Header;  // a live stream has no end to scan to
    if (opt.index == IndexMode::Exact) ensure_index();
    refresh_info();
    const AVCodecParameters* par = demux->video_stream()->codecpar;
    const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(par->format));
    const int ax = d && !(d->flags & AV_PIX_FMT_FLAG_RGB) ? 1 << d->log2_chroma_w : 1;
    const int ay = d && !(d->flags & AV_PIX_FMT_FLAG_RGB) ? 1 << d->log2_chroma_h : 1;
    geom = make_geometry(par->width, par->height, opt.image, ax, ay);
  }

  void open_stream() {
    if (dec) damage_before_reopen += dec->damage();
    dec.reset();
    demux = std::make_unique<Demuxer>(
        source, DemuxerOptions{opt.stream, opt.open_timeout_ms, opt.read_timeout_ms, true, opt.live, opt.rtsp_transport,
                               opt.input_options});
    if (other_packets) demux->set_other_packets(other_packets);  // a reopen keeps the tap
    dec = std::make_unique<Decoder>(*demux, DecoderOptions{opt.threads, opt.strict});
    dec->set_wanted(wanted_pts);
    dec->set_key_only(key_only);
    have_cur = cursor_known = false;
    cursor = -1;
    run_key = kRunFromStart;
  }

  void ensure_index() {
    if (index) return;
    if (opt.use_sidecar) index = load_sidecar(source, demux->video_index());
    if (!index) {
      index = scan_frame_index(source, ScanOptions{demux->video_index(), opt.threads, opt.input_options});
      // A sidecar that exists but is stale is rewritten; none is created unasked.
      if (opt.use_sidecar && sidecar_allowed(source)) {
        const std::string path = FrameIndex::sidecar_path(source.location);
        auto stamp = FileStamp::of(source.location);
        if (stamp && FileStamp::of(path)) {
          try {
            index->save(path, *stamp);
          } catch (const IoError&) {
            // Read-only folder: the index still serves this reader.
          }
        }
      }
    }
    if (!info.source.empty()) refresh_info();
  }

  void refresh_info() {
    info = describe(*demux, index ? &*index : nullptr);
    const AVCodecParameters* par = demux->video_stream()->codecpar;
    fill_color_used(info.video, par->color_space, par->color_range, static_cast<AVPixelFormat>(par->format),
                    opt.image);
  }

  int64_t size() const {
    if (index) return index->size();
    const VideoStreamInfo& v = info.video;
    if (v.frames_header > 0) return v.frames_header;
    return static_cast<int64_t>(std::llround(v.duration * v.fps));
  }

  void check_index(int64_t i) {
    ensure_index();
    if (i < 0 || i >= index->size())
      throw OutOfRangeError("frame " + std::to_string(i) + " is out of range for '" + source.name() +
                            "': valid indices are 0.." + std::to_string(index->size() - 1) + " (" +
                            std::to_string(index->size()) + " frames)");
  }

  // Pulls the next decoded frame and works out its index. False at the end of the stream.
  bool decode_next() {
    const bool by_pts = index && index->timestamps_reliable();
    for (;;) {
      if (!dec->next(cur.get())) {
        have_cur = false;
        return false;
      }
      have_cur = true;
      frames_decoded.fetch_add(1, std::memory_order_relaxed);
      if (!by_pts) {
        cursor = cursor_known ? cursor + 1 : 0;  // counting from a fresh start
        cursor_known = true;
        return true;
      }
      const int64_t ts = frame_timestamp(cur.get());
      const int64_t idx = ts == AV_NOPTS_VALUE ? -1 : index->locate_pts(ts);
      if (idx >= 0) {
        cursor = idx;
        cursor_known = true;
        return true;
      }
      if (cursor_known) {  // a frame the index does not know: assume it is the next one
        ++cursor;
        return true;
      }
      // Right after a seek, a frame we cannot place (e.g. a broken leading frame): skip it.
    }
  }

  bool fresh() const { return demux->at_start() && !have_cur && !cursor_known; }

  // Positions the demuxer so that decoding reaches frame `key` (a keyframe index; -1: start).
  void seek_to_group(int64_t key) {
    seeks.fetch_add(1, std::memory_order_relaxed);
    run_key = key;
    if (!index || !index->timestamps_reliable()) {
      if (!fresh()) open_stream();  // exact restart for streams that must be counted
      run_key = kRunFromStart;
      return;
    }
    // By pts first: Matroska seeks by pts and MP4 by edit-list-shifted dts, and both land on
    // the keyframe itself. MPEG-TS searches any packet's dts, and lands past a keyframe
    // sought by pts; a reader that met such a landing seeks by dts from then on (at or
    // before the keyframe everywhere, a group early in MP4/MKV).
    const FrameEntry& e = (*index)[std::max<int64_t>(key, 0)];
    const int64_t ts = seek_by_dts && e.dts != INT64_MIN ? e.dts : e.pts;
    if (!demux->seek(ts)) {
      open_stream();
      run_key = kRunFromStart;
      return;
    }
    dec->flush();
    have_cur = cursor_known = false;
    cursor = -1;
  }

  // Leaves frame t in `cur`. Decodes forward from where the decoder is unless t's keyframe
  // lies further ahead than the frames the decoder holds in flight; then seeks to it.
  //
  // A run of decoding that began with a seek is trusted only as far as it delivers: if it
  // skips the target or ends before it, the run restarts a group earlier (an open-GOP
  // keyframe can lose later frames when decoding starts on it, as FFmpeg's H.264 decoder
  // does), and finally from the start of the file.
  void goto_frame(int64_t t) {
    if (have_cur && cursor_known && cursor == t) return;
    const bool by_pts = index->timestamps_reliable();
    int64_t key = by_pts ? index->keyframe_at_or_before(t) : -1;
    bool seek;
    if (have_cur && cursor_known && cursor < t && !dec->may_have_skipped((*index)[t].pts))
      // Key frames only: reading forward costs packets, not decoding; seek only past key
      // frames nobody asked for.
      seek = by_pts && (key_only ? index->keyframe_at_or_before(t - 1) > cursor
                                 : key - (cursor + 1) > dec->in_flight_depth());
    else
      seek = !fresh() || (by_pts && key > 0);
    if (seek) seek_to_group(key);
    for (int retries = 0;;) {
      const int64_t before = cursor_known ? cursor : -1;
      const bool got = decode_next();
      if (got && cursor == t) return;
      if (got && cursor < t) continue;
      if (run_key != kRunFromStart && retries < kMaxRetries) {
        ++retries;
        seek_by_dts = true;
        if (retries == kMaxRetries) {
          open_stream();
          run_key = kRunFromStart;
          seeks.fetch_add(1, std::memory_order_relaxed);
        } else {
          const int64_t from = run_key > 0 ? index->keyframe_at_or_before(run_key - 1) : -1;
          seek_to_group(from);
        }
        continue;
      }
      if (!got)
        throw DecodeError("frame " + std::to_string(t) + " of '" + source.name() +
                          "' could not be decoded: the stream ended after frame " + std::to_string(before));
      throw DecodeError("frame " + std::to_string(t) + " of '" + source.name() +
                        "' was not produced by the decoder (it went from frame " + std::to_string(before) + " to " +
                        std::to_string(cursor) + "); the file may be damaged");
    }
  }

  FrameInfo current_info() const {
    FrameInfo fi;
    fi.index = cursor;
    if (index && cursor >= 0 && cursor < index->size()) {
      const FrameEntry& e = (*index)[cursor];
      fi.pts = e.pts;
      fi.keyframe = e.keyframe;
      fi.t = index->seconds(e.pts);
    } else {
      const AVRational tb = demux->video_stream()->time_base;
      fi.pts = frame_timestamp(cur.get());
      fi.t = static_cast<double>(fi.pts) * tb.num / tb.den;
      fi.keyframe = frame_is_key(cur.get());
    }
    return fi;
  }

  void convert_current(uint8_t* dst) { convert_frame(cur.get(), dst); }

  void convert_frame(const AVFrame* frame, uint8_t* dst) {
    frames_returned.fetch_add(1, std::memory_order_relaxed);
    if (frame->width != geom.src_width || frame->height != geom.src_height) {
      // The stream changed size mid-way: keep the output size the caller was promised.
      ImageOptions o = opt.image;
      o.width = geom.out_width;
      o.height = geom.out_height;
      geom = make_geometry(frame->width, frame->height, o, 2, 2);
    }
    conv.convert(frame, geom, opt.image, dst, static_cast<size_t>(geom.out_width) * channels(opt.image.pix));
  }

  size_t frame_bytes() const {
    return static_cast<size_t>(geom.out_width) * geom.out_height * channels(opt.image.pix);
  }

  // Decoding only what a batch needs: frames no one references and no one asked for are
  // skipped. Only where frames are placed by pts (the skipped ones never appear). Kept here
  // and handed to every decoder open_stream() makes.
  const std::vector<int64_t>* wanted_pts = nullptr;
  bool key_only = false;
  void set_wanted(const std::vector<int64_t>* pts, bool keys) {
    wanted_pts = pts;
    key_only = keys;
    dec->set_wanted(pts);
    dec->set_key_only(keys);
  }
  struct WantedScope {
    Impl& m;
    WantedScope(Impl& impl, const std::vector<int64_t>* pts, bool keys) : m(impl) { m.set_wanted(pts, keys); }
    ~WantedScope() { m.set_wanted(nullptr, false); }
    WantedScope(const WantedScope&) = delete;
    WantedScope& operator=(const WantedScope&) = delete;
  };

  // Where each wanted frame goes: sorted, distinct targets and their output slots.
  struct Target {
    int64_t index;
    uint8_t* pixels;
    FrameInfo* info;
  };

  void frames_into(const std::vector<int64_t>& indices, uint8_t* out, FrameInfo* info_out) {
    for (int64_t i : indices) check_index(i);
    std::vector<size_t> order(indices.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return indices[a] < indices[b]; });
    const size_t fb = frame_bytes();
    std::vector<Target> targets;
    std::vector<std::pair<size_t, size_t>> copies;  // (slot, first slot of the same frame)
    size_t first = 0;
    for (size_t k : order) {
      if (!targets.empty() && targets.back().index == indices[k]) {
        copies.emplace_back(k, first);
        continue;
      }
      first = k;
      targets.push_back(Target{indices[k], out + k * fb, info_out ? info_out + k : nullptr});
    }
    decode_targets(targets);
    for (auto [k, from] : copies) {
      std::memcpy(out + k * fb, out + from * fb, fb);
      if (info_out) info_out[k] = info_out[from];
    }
  }

  // Sorted, distinct targets: on the worker pool where they fall into separate runs.
  void decode_targets(const std::vector<Target>& targets) {
    if (targets.empty()) return;
    const bool keys = index->timestamps_reliable() &&
                      std::all_of(targets.begin(), targets.end(), [&](const Target& t) { return (*index)[t.index].keyframe; });
    if (pool_allowed()) {
      std::vector<std::vector<Target>> runs = split_runs(targets, keys);
      if (runs.size() >= 2 && decode_runs_parallel(runs)) return;
    }
    decode_serial(targets, keys);
  }

  void decode_serial(const std::vector<Target>& targets, bool keys) {
    std::vector<int64_t> wanted;
    if (index->timestamps_reliable()) {
      for (const Target& t : targets) wanted.push_back((*index)[t.index].pts);
      std::sort(wanted.begin(), wanted.end());
    }
    std::optional<WantedScope> scope;
    if (!wanted.empty()) scope.emplace(*this, &wanted, keys);
    for (const Target& t : targets) {
      goto_frame(t.index);
      convert_current(t.pixels);
      if (t.info) *t.info = current_info();
    }
  }

  // --- the worker pool: separate keyframe groups decoded at once --------------------------
  // Each worker is a reader of its own (demuxer, single-threaded decoder, converter) sharing
  // this reader's index; a run is a stretch of targets that one decoder reads forward.
  std::vector<std::unique_ptr<Impl>> pool;
  // Frames a single-threaded worker decoder holds in flight (reordering), about: reaching a
  // target fewer than these past a keyframe costs less decoding forward than a seek.
  static constexpr int64_t kWorkerDepth = 4;
  std::atomic<int64_t> parallel_runs{0};

  int pool_size() const {
    if (opt.workers > 0) return opt.workers;
    return static_cast<int>(std::clamp<unsigned>(std::thread::hardware_concurrency(), 1, 8));
  }

  bool pool_allowed() const {
    return pool_size() > 1 && index && index->timestamps_reliable() && !is_stream_location(source.location);
  }

  // Splits sorted targets where the next one is better reached by a seek than by decoding
  // forward: in another keyframe group, more than a decoder's in-flight depth past the last.
  std::vector<std::vector<Target>> split_runs(const std::vector<Target>& targets, bool keys) const {
    std::vector<std::vector<Target>> runs;
    const int64_t depth = kWorkerDepth;
    for (const Target& t : targets) {
      bool fresh_run = runs.empty();
      if (!fresh_run) {
        const int64_t prev = runs.back().back().index;
        const int64_t key = index->keyframe_at_or_before(t.index);
        fresh_run = keys ? index->keyframe_at_or_before(t.index - 1) > prev : key > prev && key - (prev + 1) > depth;
      }
      if (fresh_run) runs.emplace_back();
      runs.back().push_back(t);
    }
    return runs;
  }

  // Plans which worker decodes which run: a worker that can reach a run by decoding forward
  // from where it stopped takes it (a sorted request split into chunks keeps each group on
  // one decoder); the rest go to the least loaded worker. Cost: frames to decode. Returns
  // false, doing nothing, where one worker would carry nearly all of it: one multi-threaded
  // decoder then does better.
  bool decode_runs_parallel(const std::vector<std::vector<Target>>& runs) {
    const size_t workers = std::min(runs.size(), static_cast<size_t>(pool_size()));
    const int64_t depth = kWorkerDepth;
    // Worker 0 is this reader (its own decoder, threads as asked); the pool adds the others.
    auto member = [this](size_t w) -> Impl* { return w == 0 ? this : w - 1 < pool.size() ? pool[w - 1].get() : nullptr; };
    std::vector<int64_t> pos(workers, -1), load(workers, 0);
    for (size_t w = 0; w < workers; ++w)
      if (Impl* m = member(w); m && m->have_cur && m->cursor_known && !m->dec->skipped_pending()) pos[w] = m->cursor;
    std::vector<std::vector<size_t>> plan(workers);
    for (size_t r = 0; r < runs.size(); ++r) {
      const int64_t first = runs[r].front().index, last = runs[r].back().index;
      const int64_t key = std::max<int64_t>(index->keyframe_at_or_before(first), 0);
      size_t pick = workers;
      for (size_t w = 0; w < workers; ++w)
        if (pos[w] >= 0 && pos[w] < first && (key <= pos[w] || key - (pos[w] + 1) <= depth)) pick = w;
      int64_t cost = 0;
      if (pick < workers) {
        cost = last - pos[pick];
      } else {
        pick = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
        cost = last - key + 1;
      }
      plan[pick].push_back(r);
      load[pick] += cost;
      pos[pick] = last;
    }
    int64_t total = 0, most = 0;
    for (int64_t l : load) {
      total += l;
      most = std::max(most, l);
    }
    if (most * 5 > total * 4) return false;

    auto shared = std::make_shared<const FrameIndex>(*index);
    while (pool.size() + 1 < workers) {
      ReaderOptions o = opt;
      o.threads = 1;
      o.workers = 1;
      o.index = IndexMode::Exact;
      o.known_index = shared;
      pool.push_back(std::make_unique<Impl>(source, o));
    }
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    std::mutex error_mu;
    auto work = [&](size_t w) {
      try {
        for (size_t r : plan[w]) {
          if (failed.load()) break;
          const bool keys = std::all_of(runs[r].begin(), runs[r].end(),
                                        [&](const Target& t) { return (*index)[t.index].keyframe; });
          member(w)->decode_serial(runs[r], keys);
        }
      } catch (...) {
        failed = true;
        std::lock_guard<std::mutex> lock(error_mu);
        if (!error) error = std::current_exception();
      }
    };
    std::vector<std::thread> threads;
    for (size_t w = 1; w < workers; ++w)
      if (!plan[w].empty()) threads.emplace_back(work, w);
    work(0);
    for (std::thread& th : threads) th.join();
    parallel_runs.fetch_add(static_cast<int64_t>(runs.size()), std::memory_order_relaxed);
    if (error) std::rethrow_exception(error);
    return true;
  }

  ReaderStats stats() const {
    ReaderStats st{frames_decoded.load(), frames_returned.load(), seeks.load(), dec->packets_skipped(),
                   parallel_runs.load()};
    for (const auto& w : pool) {
      const ReaderStats ws = w->stats();
      st.frames_decoded += ws.frames_decoded;
      st.frames_returned += ws.frames_returned;
      st.seeks += ws.seeks;
      st.packets_skipped += ws.packets_skipped;
    }
    return st;
  }

  int64_t damage() const {
    int64_t d = damage_before_reopen + dec->damage();
    for (const auto& w : pool) d += w->damage();
    return d;
  }

  // --- read-ahead for sequential reading --------------------------------------------------
  // next() decodes on a thread of its own, up to kReadAhead frames ahead, while the caller
  // converts: the decoder's frame threads are never left waiting for the next packet. Every
  // other call that touches the decoder stops it first; the queue is the only shared state.
  struct Decoded {
    av::FramePtr frame;
    FrameInfo info;
  };
  static constexpr size_t kReadAhead = 4;
  std::thread ahead;
  std::mutex ahead_mu;
  std::condition_variable ahead_cv;
  std::deque<Decoded> ahead_queue;
  std::vector<av::FramePtr> ahead_free;
  bool ahead_stop = false, ahead_done = false;
  std::exception_ptr ahead_error;

  bool reading_ahead() const { return ahead.joinable(); }

  void start_read_ahead() {
    ahead_stop = ahead_done = false;
    ahead_error = nullptr;
    ahead = std::thread([this] { produce(); });
  }

  void produce() {
    try {
      for (;;) {
        {
          std::unique_lock<std::mutex> lock(ahead_mu);
          ahead_cv.wait(lock, [this] { return ahead_stop || ahead_queue.size() < kReadAhead; });
          if (ahead_stop) break;
        }
        if (!decode_next()) break;
        Decoded d;
        d.info = current_info();
        {
          std::lock_guard<std::mutex> lock(ahead_mu);
          if (!ahead_free.empty()) {
            d.frame = std::move(ahead_free.back());
            ahead_free.pop_back();
          }
        }
        if (!d.frame) d.frame = av::make_frame();
        av_frame_move_ref(d.frame.get(), cur.get());
        std::lock_guard<std::mutex> lock(ahead_mu);
        ahead_queue.push_back(std::move(d));
        ahead_cv.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(ahead_mu);
      ahead_error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(ahead_mu);
    ahead_done = true;
    ahead_cv.notify_all();
  }

  // False at the end of the stream; rethrows what stopped the decoding thread.
  bool pop_ahead(Decoded& out) {
    std::unique_lock<std::mutex> lock(ahead_mu);
    ahead_cv.wait(lock, [this] { return !ahead_queue.empty() || ahead_done; });
    if (ahead_queue.empty()) {
      if (ahead_error) std::rethrow_exception(ahead_error);
      return false;
    }
    out = std::move(ahead_queue.front());
    ahead_queue.pop_front();
    ahead_cv.notify_all();
    return true;
  }

  void recycle(av::FramePtr f) {
    av_frame_unref(f.get());
    std::lock_guard<std::mutex> lock(ahead_mu);
    ahead_free.push_back(std::move(f));
  }

  void stop_read_ahead() {
    if (!reading_ahead()) return;
    {
      std::lock_guard<std::mutex> lock(ahead_mu);
      ahead_stop = true;
    }
    ahead_cv.notify_all();
    ahead.join();
    for (Decoded& d : ahead_queue) recycle(std::move(d.frame));
    ahead_queue.clear();
    // The decoder is past what was handed out, and its last frame was queued, not kept:
    // the next access positions it afresh.
    have_cur = false;
    cursor_known = false;
  }

  ~Impl() { stop_read_ahead(); }

  void shape(Frame& f) const {
    f.width = geom.out_width;
    f.height = geom.out_height;
    f.channels = channels(opt.image.pix);
    f.pixels.resize(f.size_bytes());
  }

  void shape(Batch& b, size_t n) const {
    b.width = geom.out_width;
    b.height = geom.out_height;
    b.channels = channels(opt.image.pix);
    b.info.resize(n);
    b.pixels.resize(n * b.frame_bytes());
  }
};

VideoReader::VideoReader(const Source& source, const ReaderOptions& options)
    : impl_(std::make_unique<Impl>(source, options)) {}
VideoReader::~VideoReader() = default;
VideoReader::VideoReader(VideoReader&&) noexcept = default;
VideoReader& VideoReader::operator=(VideoReader&&) noexcept = default;

void ReaderInternals::tap_other_packets(VideoReader& reader, std::function<void(AVPacket*)> tap) {
  reader.impl_->other_packets = tap;
  reader.impl_->demux->set_other_packets(std::move(tap));
}

const AVFormatContext* ReaderInternals::format(const VideoReader& reader) { return reader.impl_->demux->format(); }

const MediaInfo& VideoReader::info() const { return impl_->info; }
int64_t VideoReader::size() const { return impl_->size(); }
bool VideoReader::size_is_exact() const { return impl_->index.has_value(); }
const FrameIndex& VideoReader::index() {
  impl_->stop_read_ahead();
  impl_->ensure_index();
  return *impl_->index;
}
ReaderStats VideoReader::stats() const { return impl_->stats(); }
const Source& VideoReader::source() const { return impl_->source; }
const ReaderOptions& VideoReader::options() const { return impl_->opt; }
const Geometry& VideoReader::geometry() const { return impl_->geom; }
int VideoReader::out_width() const { return impl_->geom.out_width; }
int VideoReader::out_height() const { return impl_->geom.out_height; }
int VideoReader::out_channels() const { return channels(impl_->opt.image.pix); }
int64_t VideoReader::damage_reports() const { return impl_->damage(); }

Frame VideoReader::frame(int64_t i) {
  Frame f;
  frame(i, f);
  return f;
}

void VideoReader::frame(int64_t i, Frame& out) {
  impl_->stop_read_ahead();
  impl_->shape(out);
  impl_->frames_into({i}, out.data(), &out.info);
}

Batch VideoReader::frames(const std::vector<int64_t>& indices) {
  Batch b;
  frames(indices, b);
  return b;
}

void VideoReader::frames(const std::vector<int64_t>& indices, Batch& out) {
  impl_->stop_read_ahead();
  impl_->shape(out, indices.size());
  impl_->frames_into(indices, out.pixels.data(), out.info.data());
}

void VideoReader::frames_into(const std::vector<int64_t>& indices, uint8_t* out, FrameInfo* info_out) {
  impl_->stop_read_ahead();
  impl_->frames_into(indices, out, info_out);
}

int64_t VideoReader::index_at(double seconds) {
  impl_->stop_read_ahead();
  impl_->ensure_index();
  const FrameIndex& idx = *impl_->index;
  const std::string& name = impl_->source.name();
  if (idx.empty()) throw OutOfRangeError("'" + name + "' has no frames");
  const double first = idx.time_of(0), end = idx.end_seconds();
  if (!std::isfinite(seconds) || seconds < first || seconds > end)
    throw OutOfRangeError("time " + fmt_seconds(seconds) + " s is out of range for '" + name + "': valid times are " +
                          fmt_seconds(first) + " .. " + fmt_seconds(end) + " s");
  const int64_t i = idx.frame_at(seconds);
  return i < 0 ? 0 : i;
}

Frame VideoReader::frame_at(double seconds) { return frame(index_at(seconds)); }

Batch VideoReader::frames_at(const std::vector<double>& seconds) {
  std::vector<int64_t> idx;
  idx.reserve(seconds.size());
  for (double t : seconds) idx.push_back(index_at(t));
  return frames(idx);
}

Batch VideoReader::range(int64_t start, int64_t stop, int64_t step) {
  if (step <= 0) throw ConfigError("range step must be positive, got " + std::to_string(step));
  std::vector<int64_t> idx;
  for (int64_t i = start; i < stop; i += step) idx.push_back(i);
  return frames(idx);
}

void VideoReader::seek(int64_t i) {
  impl_->stop_read_ahead();
  if (i != 0) impl_->check_index(i);
  impl_->stream_pos = i;
}

bool VideoReader::next(Frame& out) {
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
  if (demux.video_index() >= 0 && !header_only && !is_stream_location(source.location)) {
    index = load_sidecar(source, demux.video_index());
    if (!index) index = scan_frame_index(source, ScanOptions{demux.video_index(), 0, {}});
  }
  MediaInfo m = describe(demux, index ? &*index : nullptr);
  if (AVStream* st = demux.video_stream()) {
    const AVCodecParameters* par = st->codecpar;
    fill_color_used(m.video, par->color_space, par->color_range, static_cast<AVPixelFormat>(par->format), {});
  }
  return m;
}

FrameIndex write_index_sidecar(const std::string& path, int stream) {
  auto stamp = FileStamp::of(path);
  if (!stamp) throw OpenError("cannot index '" + path + "': not a regular file");
  FrameIndex idx = scan_frame_index(Source(path), ScanOptions{stream, 0, {}});
  idx.save(FrameIndex::sidecar_path(path), *stamp);
  return idx;
}

}  // namespace framepipe
