#include "framepipe/pipeline/live_source.hpp"

#include <algorithm>

#include "framepipe/error.hpp"
#include "media/audio_relay.hpp"
#include "reader/reader_internals.hpp"

namespace framepipe {

namespace {
ReaderOptions live_reader_options(ReaderOptions o) {
  o.index = IndexMode::Header;  // a stream has no end to scan to
  o.use_sidecar = false;
  o.workers = 1;
  o.live = true;
  return o;
}
}  // namespace

LiveSource::LiveSource(std::string url, LiveOptions options, std::function<void(const Gap&)> on_gap)
    : url_(std::move(url)),
      opt_(std::move(options)),
      on_gap_(std::move(on_gap)),
      queue_(opt_.policy == QueuePolicy::Latest ? 1 : opt_.queue_capacity, opt_.policy),
      opened_(std::chrono::steady_clock::now()) {
  if (opt_.audio) audio_ = std::make_shared<AudioRelay>(opt_.audio_capacity);
  open_reader(0);
  thread_ = std::thread([this] { capture(); });
}

LiveSource::~LiveSource() {
  stop();
  queue_.close();  // a capture thread blocked on a full queue gives up its frame
  if (thread_.joinable()) thread_.join();
  if (audio_) audio_->close();
}

void LiveSource::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  stop_cv_.notify_all();
}

bool LiveSource::ended() const { return ended_; }

void LiveSource::open_reader(int64_t connection) {
  auto reader = std::make_unique<VideoReader>(Source(url_), live_reader_options(opt_.reader));
  if (audio_) {
    audio_->connect(ReaderInternals::format(*reader));
    ReaderInternals::tap_other_packets(*reader, [this, connection](AVPacket* p) {
      audio_->push(p, [&](double stream_s) { return recording_offset(connection, stream_s); });
    });
  }
  std::lock_guard lock(mutex_);
  geometry_ = reader->geometry();
  time_base_ = reader->info().video.time_base;
  reader_ = std::move(reader);
}

Geometry LiveSource::geometry() const {
  std::lock_guard lock(mutex_);
  return geometry_;
}

Rational LiveSource::time_base() const {
  std::lock_guard lock(mutex_);
  return time_base_;
}

double LiveSource::recording_offset(int64_t connection, double stream_s) {
  std::lock_guard lock(clock_mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (connection != clock_connection_) {
    clock_offset_ = clock_connection_ < 0
                        ? 0.0
                        : clock_last_ + std::chrono::duration<double>(now - clock_last_arrival_).count() - stream_s;
    clock_connection_ = connection;
  }
  clock_last_ = std::max(clock_last_, stream_s + clock_offset_);
  clock_last_arrival_ = now;
  return clock_offset_;
}

double LiveSource::seconds_since_open() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - opened_).count();
}

bool LiveSource::wait_or_stop(double seconds) {
  std::unique_lock lock(mutex_);
  return stop_cv_.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return stop_.load(); });
}

std::optional<LiveFrame> LiveSource::next(std::chrono::milliseconds timeout) { return queue_.pop_for(timeout); }

void LiveSource::capture() {
  Frame frame;
  double last_t = -1;
  int64_t connection = 0;
  std::optional<Gap> gap;
  while (!stop_) {
    std::string reason = "the stream ended";
    try {
      while (!stop_ && reader_->next(frame)) {
        if (gap) {  // the first frame after an outage closes it
          gap->end = seconds_since_open();
          gap->next_t = frame.info.t;
          if (on_gap_) on_gap_(*gap);
          gap.reset();
        }
        last_t = frame.info.t;
        const auto now = std::chrono::steady_clock::now();
        LiveFrame lf{frame, now, std::chrono::duration<double>(now - opened_).count(), received_++, connection,
                     recording_offset(connection, frame.info.t)};
        if (!queue_.push(std::move(lf))) break;  // closed: stopping
      }
    } catch (const Error& e) {
      reason = e.what();
    } catch (const std::exception& e) {
      reason = e.what();
    }
    reader_.reset();
    if (stop_) break;
    if (!gap) {
      gap = Gap{};
      gap->start = seconds_since_open();
      gap->last_t = last_t;
      gap->reason = reason;
    }
    // Reconnect with exponential back-off; a failed open counts as a try.
    double wait = opt_.backoff_initial_s;
    bool back = false;
    while (!stop_ && (opt_.max_reconnects < 0 || gap->attempts < opt_.max_reconnects)) {
      if (wait_or_stop(wait)) break;
      ++gap->attempts;
      ++reconnects_;
      try {
        open_reader(connection + 1);
        back = true;
        ++connection;
        break;
      } catch (const std::exception& e) {
        gap->reason = e.what();
        wait = std::min(wait * 2, opt_.backoff_max_s);
      }
    }
    if (!back) break;
  }
  if (gap) {  // the stream did not come back (or we were stopped during the outage)
    gap->end = seconds_since_open();
    if (on_gap_) on_gap_(*gap);
  }
  ended_ = true;
  queue_.close();
}

}  // namespace framepipe
