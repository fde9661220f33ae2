// The reader's insides, shared by the files that implement it:
//   reader_open.cpp    opening: demuxer, decoder, index (scanned or from the sidecar), geometry
//   reader_seek.cpp    positioning: which frame the decoder holds, seeking, verifying it
//   reader_batch.cpp   batches: sorted targets, runs, the worker pool
//   read_ahead.cpp     streaming: decoding ahead on a thread of its own
//   video_reader.cpp   the public face
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_set>
#include <thread>
#include <vector>

#include "framepipe/bounded_queue.hpp"
#include "framepipe/reader/video_reader.hpp"
#include "image/pixel_converter.hpp"
#include "image/angle_rotator.hpp"
#include "image/rotate.hpp"
#include "media/av.hpp"
#include "media/decoder.hpp"
#include "media/demuxer.hpp"
#include "media/hw_device.hpp"
#include "reader/read_plan.hpp"
#include "reader/worker_pool.hpp"

namespace framepipe {

// The colour matrix and range a conversion with `opt` uses, into `v` (what probe shows).
// What autorotate applies to `stream`'s frames, into `v` (what probe shows).
void fill_upright(VideoStreamInfo& v, const AVStream* stream, bool autorotate);
void fill_color_used(VideoStreamInfo& v, AVColorSpace space, AVColorRange range, AVPixelFormat fmt,
                     const ImageOptions& opt);

// The reader whose for_each `fn` this thread is running, if any: a call from `fn` on that
// reader would wait for the for_each it runs under for ever, and is refused instead.
inline thread_local const void* serving_fn = nullptr;

struct VideoReader::Impl {
  // Taken by every public method (recursive: frame_at calls index_at and frame).
  mutable std::recursive_mutex api_mu;
  // Between the read-ahead thread, which may replace the decoder and accounts for damage as
  // it hands frames on, and stats() / damage(), which read them meanwhile.
  mutable std::mutex dec_mu;
  Source source;
  ReaderOptions opt;  // as given (options() returns it)
  int decoder_threads = opt.threads;  // 1 from the first damage a stream meets (redecode_on_one_thread)
  std::unique_ptr<Demuxer> demux;
  std::unique_ptr<Decoder> dec;
  av::FramePtr cur = av::make_frame();
  bool have_cur = false;      // cur holds a decoded frame
  bool cursor_known = false;  // and we know its index
  int64_t cursor = -1;
  std::optional<FrameIndex> index;
  MediaInfo info;
  Geometry geom;
  int out_w = 0, out_h = 0;  // the output size, fixed at open (geom follows the stream's size)
  PixelConverter conv;
  int64_t stream_pos = 0;     // next frame next() returns
  int64_t damage_before_reopen = 0, refused_before_reopen = 0;
  // Counters (frames_decoded is written by the read-ahead thread too).
  std::atomic<int64_t> frames_decoded{0}, frames_returned{0}, seeks{0};
  static constexpr int64_t kRunFromStart = -2;
  static constexpr int kMaxRetries = 3;  // two groups earlier, then from the start
  int64_t run_key = kRunFromStart;       // keyframe the current decoding run was sought to
  bool seek_by_dts = false;
  std::function<void(AVPacket*)> other_packets;  // see ReaderInternals::tap_other_packets
  // Keyframe groups found damaged while decoding after a seek (the index's damaged flags
  // cover those its scan saw): their frames are read from the start.
  std::set<int64_t> damaged_keys;
  int64_t frame_damage = 0;  // decoder damage count at the last frame decode_next placed
  // --- damage counted where it is (see "Damage accounting" in reader_seek.cpp) ------------
  int64_t run_home = kRunFromStart;  // the group a seeked run is for (run_key: where it began)
  bool run_landed = false;           // the run has put out its home group's first frame
  bool run_excuses = false;          // it began without some references (an open GOP's keyframe)
  int64_t run_mark = 0;              // decoder_reports() when damage was last accounted for
  int64_t run_refused_mark = 0;      // and decoder_refusals()
  std::atomic<int64_t> counted_damage{0};  // damage found in what was handed out, or from the start
  int64_t decoder_reports() const { return damage_before_reopen + dec->damage(); }
  int64_t decoder_refusals() const { return refused_before_reopen + dec->refused(); }
  void mark_run();                // what the decoders reported so far is accounted for
  void close_run();               // accounts for the current run's damage not yet accounted for
  void abandon_run();             // drops it: the run did not decode as the stream does
  void land_run();                // the home group's first frame is out: the warm-up is behind
  void account_damage(int64_t t); // frame t is handed out: what was reported before it counts
  bool in_pool = false;    // a worker of another reader's pool (single-threaded decoder)
  struct DamagedRun {};    // a worker met damage: the owner reads those frames itself
  std::shared_ptr<AVBufferRef> device;           // ReaderOptions::device (nullptr: the CPU)
  Upright upright;                               // what makes frames upright (autorotate)
  std::unique_ptr<AngleRotator> rotator;         // ... where that is an angle, no quarter turn
  av::FramePtr turned = av::make_frame();        // scratch for the upright frame
  av::FramePtr evened = av::make_frame();        // scratch: 4:2:2 made 4:4:4 to be turned
  av::SwsPtr evened_sws;                         // ... by this conversion

  // `probed_by`: the source as another reader's demuxer probed it (a worker pool member's
  // owner), so that this one's demuxers need not probe it again (DemuxerOptions::probed).
  std::shared_ptr<const ProbedStreams> probed;
  Impl(const Source& s, const ReaderOptions& o, std::shared_ptr<const ProbedStreams> probed_by = nullptr);
  void open_stream();
  void new_decoder();   // a fresh decoder on the current demuxer (its damage counted first)
  void drop_decoder();  // the decoder closed, its damage kept in *_before_reopen
  void note_damage();  // after decode_next placed a frame: damage since the last one marks its group
  void ensure_index();
  void refresh_info();
  int64_t size() const;
  void check_index(int64_t i);

  // Pulls the next decoded frame and works out its index. False at the end of the stream.
  bool decode_next();

  bool fresh() const { return demux->at_start() && !have_cur && !cursor_known; }

  // Positions the demuxer so that decoding reaches frame `key` (a keyframe index; -1: start),
  // for a run whose targets are in the group of `home` (key itself, or a group later).
  void seek_to_group(int64_t key, int64_t home);

  // Where the decoder stands, for the plan's seek-or-decode-forward rule toward frame t
  // (plan::decodes_forward; plan::seek_start says where a seek begins).
  plan::Position position(int64_t t) const;
  // The damage fallback, one policy: frame t's group is marked damaged and t is read as a
  // stream reads it, from the start (a pool worker hands the run back to its owner for that).
  void read_as_streamed(int64_t t, int64_t group);

  // Leaves frame t in `cur`: decodes on, or seeks, as the plan says (plan::decodes_forward,
  // plan::seek_start), then checks what arrives. A run is trusted only as far as it
  // delivers: where it skips the target or ends before it, the seek is tried a group earlier
  // by dts (twice), then the frame is read from the start with nothing skipped; where the
  // target arrives after damage, from another packet than the index's, or unlike the index's
  // picture, it is read as a stream reads it (read_as_streamed).
  void goto_frame(int64_t t);

  // Frame t the way streaming reaches it: one decoder from the start, nothing skipped, with
  // the reader's own threads (the worker pool's single-threaded decoders conceal damage
  // differently).
  void goto_frame_from_start(int64_t t);

  // Frame t was not reached: the stream ended (got false) or went past it from `before`.
  [[noreturn]] void missed(int64_t t, int64_t before, bool got) const;
  DecodeError differs_from_index(int64_t t) const;

  // Whether the decoded frame `cur` (frame t) is the picture the index's decoding scan saw;
  // true where the index holds no hash for it.
  bool matches_index(int64_t t) const;
  // Whether `cur` (frame t) came from the packet at the file position the index has for it;
  // true where either position is unknown.
  bool at_indexed_position(int64_t t) const;
  FrameInfo current_info() const;
  void convert_current(uint8_t* dst) { convert_frame(cur.get(), dst); }
  void convert_frame(const AVFrame* frame, uint8_t* dst);
  bool redecode_on_one_thread(bool by_pts);  // decode_next's turn on damage (reader_seek.cpp)
  const AVFrame* convert_then_turn(const AVFrame* frame);  // convert_frame's half for 4:2:2 turns
  size_t frame_bytes() const;

  // Decoding only what a batch needs: frames no one references and no one asked for are
  // skipped. Only where frames are placed by pts (the skipped ones never appear). Kept here
  // and handed to every decoder open_stream() makes.
  const std::vector<int64_t>* wanted_pts = nullptr;
  bool key_only = false;
  std::shared_ptr<const std::vector<int64_t>> frame_pts;  // every frame's pts, sorted (Decoder::set_frame_pts)
  void set_wanted(const std::vector<int64_t>* pts, bool keys);
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
  void frames_into(const std::vector<int64_t>& indices, uint8_t* out, FrameInfo* info_out);
  // for_each's targets have no slots: each decoder converts into a frame of its own and hands
  // it to `fn`, one call at a time (or `concurrent`: each worker calls it as it has a frame),
  // each frame once (when the owner reads targets again after a worker met damage, it skips
  // those already handed out).
  // Once `fn` has thrown, the other workers stop at their next frame (Stopped) and for_each
  // rethrows what `fn` threw first.
  struct Sink {
    const std::function<void(const Frame&)>& fn;
    bool concurrent;
    const Impl* reader;  // whose for_each this is (see serving_fn)
    std::mutex mu;
    std::unordered_set<int64_t> done;
    std::exception_ptr error;
    struct Stopped {};
    bool handed_out(int64_t i) {
      std::lock_guard lock(mu);
      return done.count(i) > 0;
    }
    void hand_over(const Frame& f);
  };
  void for_each(const std::vector<int64_t>& indices, const std::function<void(const Frame&)>& fn, bool concurrent);
  Frame handed;  // this decoder's frame for a Sink, kept from run to run

  // Sorted, distinct targets: on the worker pool where they fall into separate runs.
  void decode_targets(const std::vector<Target>& targets, Sink* sink = nullptr);
  void decode_serial(const std::vector<Target>& targets, bool keys, Sink* sink = nullptr);

  // --- the worker pool: separate keyframe groups decoded at once (reader_batch.cpp) -------
  // Each worker is a reader of its own (demuxer, single-threaded decoder, converter) sharing
  // this reader's index; a run is a stretch of targets that one decoder reads forward.
  std::vector<std::unique_ptr<Impl>> pool;
  std::unique_ptr<WorkerPool> threads;  // started with the first parallel batch, kept
  std::atomic<int64_t> parallel_runs{0};
  int pool_size() const;
  bool pool_allowed() const;

  // Worker 0 is this reader where its decoder runs on one thread; the pool adds the others.
  // A reader with frame threads leaves parallel runs to single-threaded pool members, one a
  // worker: beside other decoders its threads only compete for the cores, and cost CPU
  // (2-second-GOP file, fps:1: 0.96-1.07 s with them, 0.83-0.94 s without). It keeps them
  // for requests that one decoder serves.
  bool pool_only() const { return dec && dec->frame_threaded(); }
  Impl* member(size_t w) const {
    const size_t k = pool_only() ? w + 1 : w;
    return k == 0 ? const_cast<Impl*>(this) : k - 1 < pool.size() ? pool[k - 1].get() : nullptr;
  }
  // The plan of the runs over `workers` workers (plan::assign_runs), from where they stand.
  using RunPlan = plan::RunPlan;
  std::optional<RunPlan> assign_runs(const std::vector<std::vector<Target>>& runs, size_t workers) const;
  // The runs on the worker pool; false where assign_runs() said no.
  bool decode_runs_parallel(const std::vector<std::vector<Target>>& runs, Sink* sink);
  ReaderStats stats() const;
  int64_t damage() const;

  // --- read-ahead for sequential reading (read_ahead.cpp) ---------------------------------
  // next() decodes on a thread of its own, up to kReadAhead frames ahead, while the caller
  // converts: the decoder's frame threads are never left waiting for the next packet. Every
  // other call that touches the decoder stops it first; the queue is the only shared state.
  struct Decoded {
    av::FramePtr frame;
    FrameInfo info;
    uint64_t hash = 0;  // the index's hash of the frame, checked again when it is converted
  };
  static constexpr size_t kReadAhead = 4;
  std::thread ahead;
  std::unique_ptr<BoundedQueue<Decoded>> ahead_queue;  // one per run of the thread
  std::exception_ptr ahead_error;                      // set before the thread closes the queue
  std::mutex free_mu;
  std::vector<av::FramePtr> ahead_free;                // frames handed back, for reuse
  bool reading_ahead() const { return ahead.joinable(); }
  void start_read_ahead();
  void produce();
  // False at the end of the stream; rethrows what stopped the decoding thread.
  bool pop_ahead(Decoded& out);
  void recycle(av::FramePtr f);
  void stop_read_ahead();

  ~Impl() { stop_read_ahead(); }
  void shape(Frame& f) const;
  void shape(Batch& b, size_t n) const;
};

}  // namespace framepipe
