// A worker of the reader: one demuxer and decoder on a source, and the frame it holds by
// index. It reaches frame t by decoding forward or seeking (the plan's rule), checks what
// arrives against the index, counts damage where it is, and converts the frame. The reader
// (VideoReader::Impl, reader_impl.hpp) is one of these plus what it serves callers with:
// the API lock, streaming read-ahead, batches, and a pool of further FrameCursors that
// decode separate keyframe groups at once. A pool member is a FrameCursor and no more:
// single-threaded decoder, the owner's index, no threads of its own.
//   reader_open.cpp    opening: demuxer, decoder, index (scanned or from the sidecar), geometry
//   reader_seek.cpp    positioning: seeking or decoding forward, verifying, damage accounting
//   reader_batch.cpp   decode_serial(): one run of sorted targets, converted or handed to a Sink
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_set>
#include <vector>

#include "framepipe/reader/video_reader.hpp"
#include "image/angle_rotator.hpp"
#include "image/pixel_converter.hpp"
#include "image/rotate.hpp"
#include "media/av.hpp"
#include "media/decoder.hpp"
#include "media/demuxer.hpp"
#include "media/hw_device.hpp"
#include "reader/read_plan.hpp"

namespace framepipe {

// The colour matrix and range a conversion with `opt` uses, into `v` (what probe shows).
// What autorotate applies to `stream`'s frames, into `v` (what probe shows).
void fill_upright(VideoStreamInfo& v, const AVStream* stream, bool autorotate);
void fill_color_used(VideoStreamInfo& v, AVColorSpace space, AVColorRange range, AVPixelFormat fmt,
                     const ImageOptions& opt);

// The reader whose for_each `fn` this thread is running, if any: a call from `fn` on that
// reader would wait for the for_each it runs under for ever, and is refused instead.
inline thread_local const void* serving_fn = nullptr;

struct FrameCursor {
  // Between a thread that may replace the decoder and account for damage (the reader's
  // read-ahead) and stats() / damage(), which read them meanwhile.
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
  bool in_pool = false;    // a member of a reader's pool (single-threaded decoder)
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
  FrameCursor(const Source& s, const ReaderOptions& o, std::shared_ptr<const ProbedStreams> probed_by = nullptr);
  virtual ~FrameCursor() = default;
  FrameCursor(const FrameCursor&) = delete;
  FrameCursor& operator=(const FrameCursor&) = delete;
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
    FrameCursor& m;
    WantedScope(FrameCursor& impl, const std::vector<int64_t>* pts, bool keys) : m(impl) { m.set_wanted(pts, keys); }
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
  // for_each's targets have no slots: each decoder converts into a frame of its own and hands
  // it to `fn`, one call at a time (or `concurrent`: each worker calls it as it has a frame),
  // each frame once (when the owner reads targets again after a worker met damage, it skips
  // those already handed out).
  // Once `fn` has thrown, the other workers stop at their next frame (Stopped) and for_each
  // rethrows what `fn` threw first.
  struct Sink {
    const std::function<void(const Frame&)>& fn;
    bool concurrent;
    const void* reader;  // whose for_each this is (see serving_fn)
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
  Frame handed;  // this decoder's frame for a Sink, kept from run to run
  // One run of sorted, distinct targets read forward (keys: all keyframes), each converted
  // into its slot or handed to `sink`.
  void decode_serial(const std::vector<Target>& targets, bool keys, Sink* sink = nullptr);

  // This cursor's own counters and the damage found in what it handed out.
  ReaderStats stats() const;
  int64_t damage() const;
  void shape(Frame& f) const;
};

}  // namespace framepipe
