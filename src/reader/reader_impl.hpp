// The reader's insides: a FrameCursor (frame_cursor.hpp: demuxer, decoder, positioning,
// damage accounting, conversion) and what serves callers around it:
//   reader_batch.cpp   batches: sorted targets, runs, the worker pool of further FrameCursors
//   read_ahead.cpp     streaming: decoding ahead on a thread of its own
//   video_reader.cpp   the public face: every method under api_mu
#pragma once

#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "framepipe/bounded_queue.hpp"
#include "reader/frame_cursor.hpp"
#include "reader/worker_pool.hpp"

namespace framepipe {

struct VideoReader::Impl : FrameCursor {
  Impl(const Source& s, const ReaderOptions& o) : FrameCursor(s, o) {}
  ~Impl() override { stop_read_ahead(); }

  // Taken by every public method (recursive: frame_at calls index_at and frame).
  mutable std::recursive_mutex api_mu;
  int64_t stream_pos = 0;  // next frame next() returns

  void frames_into(const std::vector<int64_t>& indices, uint8_t* out, FrameInfo* info_out);
  void for_each(const std::vector<int64_t>& indices, const std::function<void(const Frame&)>& fn, bool concurrent);
  // Sorted, distinct targets: on the worker pool where they fall into separate runs.
  void decode_targets(const std::vector<Target>& targets, Sink* sink = nullptr);

  // --- the worker pool: separate keyframe groups decoded at once (reader_batch.cpp) -------
  // Each member is a FrameCursor of its own (demuxer, single-threaded decoder, converter)
  // opened on a copy of this reader's index; a run is a stretch of targets that one decoder
  // reads forward.
  std::vector<std::unique_ptr<FrameCursor>> pool;
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
  const FrameCursor* member(size_t w) const {
    const size_t k = pool_only() ? w + 1 : w;
    return k == 0 ? this : k - 1 < pool.size() ? pool[k - 1].get() : nullptr;
  }
  // The plan of the runs over `workers` workers (plan::assign_runs), from where they stand.
  using RunPlan = plan::RunPlan;
  std::optional<RunPlan> assign_runs(const std::vector<std::vector<Target>>& runs, size_t workers) const;
  // The runs on the worker pool; false where assign_runs() said no.
  bool decode_runs_parallel(const std::vector<std::vector<Target>>& runs, Sink* sink);
  // This reader's and its pool members' together.
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

  using FrameCursor::shape;
  void shape(Batch& b, size_t n) const;
};

}  // namespace framepipe
