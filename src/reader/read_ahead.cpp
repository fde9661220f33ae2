// Streaming: next() decodes on a thread of its own, kReadAhead frames ahead of the caller,
// through a BoundedQueue (block: nothing dropped). Frames handed back are reused.
#include "reader/reader_impl.hpp"

namespace framepipe {

void VideoReader::Impl::start_read_ahead() {
  ahead_error = nullptr;
  ahead_queue = std::make_unique<BoundedQueue<Decoded>>(kReadAhead, QueuePolicy::Block);
  ahead = std::thread([this] { produce(); });
}

void VideoReader::Impl::produce() {
  try {
    bool stopped = false;
    while (!stopped && decode_next()) {
      const bool known = index && cursor_known && cursor < index->size();
      if (known && !matches_index(cursor)) throw differs_from_index(cursor);
      account_damage(cursor);
      Decoded d;
      d.info = current_info();
      if (known) d.hash = (*index)[cursor].hash;
      {
        std::lock_guard<std::mutex> lock(free_mu);
        if (!ahead_free.empty()) {
          d.frame = std::move(ahead_free.back());
          ahead_free.pop_back();
        }
      }
      if (!d.frame) d.frame = av::make_frame();
      av_frame_move_ref(d.frame.get(), cur.get());
      stopped = !ahead_queue->push(std::move(d));
    }
    // The decoder ended before the frames the index counts: they do not exist (a packet the
    // checks passed decodes to nothing), and `len` was wrong. Said, not left for the caller
    // to find as a short stream (fuzz_access: a 10-frame file whose last packet gives nothing,
    // past the index's decode check of the first frames).
    if (!stopped && index && cursor_known && cursor + 1 < index->size())
      throw DecodeError("'" + source.name() + "': the stream ended after frame " + std::to_string(cursor) +
                        " where the index promised " + std::to_string(index->size()) + " frames (index by " +
                        index->provenance() + "); open it with index='decode'");
  } catch (...) {
    ahead_error = std::current_exception();
  }
  ahead_queue->close();  // the end, an error or a stop
}

bool VideoReader::Impl::pop_ahead(Decoded& out) {
  std::optional<Decoded> d = ahead_queue->pop();
  if (!d) {
    if (ahead_error) std::rethrow_exception(ahead_error);
    return false;
  }
  out = std::move(*d);
  return true;
}

void VideoReader::Impl::recycle(av::FramePtr f) {
  av_frame_unref(f.get());
  std::lock_guard<std::mutex> lock(free_mu);
  ahead_free.push_back(std::move(f));
}

void VideoReader::Impl::stop_read_ahead() {
  if (!reading_ahead()) return;
  ahead_queue->close();
  ahead.join();
  while (std::optional<Decoded> d = ahead_queue->pop()) recycle(std::move(d->frame));
  // The decoder is past what was handed out, and its last frame was queued, not kept: the
  // next access positions it afresh.
  have_cur = false;
  cursor_known = false;
}

}  // namespace framepipe
