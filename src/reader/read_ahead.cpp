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
    while (decode_next()) {
      const bool known = index && cursor_known && cursor < index->size();
      if (known && !matches_index(cursor)) throw differs_from_index(cursor);
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
      if (!ahead_queue->push(std::move(d))) break;  // stopped
    }
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
