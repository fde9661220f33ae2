// A live stream (RTSP, RTMP, HTTP, TCP/UDP MPEG-TS, SRT, ...) read on a capture thread of its
// own, handed to the consumer through a BoundedQueue: `latest` by default, so a slow model
// always gets the newest frame instead of falling further behind. When the connection drops
// (a read error, a timeout, the end of the stream), the source reconnects with exponential
// back-off and reports the gap; it never invents frames to fill it.
//
// Each connection restarts the stream's own clock. For a recording that runs on across
// reconnects, every frame carries `recording_offset`: seconds that put it on one clock where
// the outage stays a pause of its real length. With LiveOptions::audio the stream's audio
// travels on that clock too, for a VideoWriter (VideoWriterOptions::audio_relay).
//
//   framepipe::LiveSource live("tcp://127.0.0.1:9000", opts, [](const framepipe::Gap& g) { log(g); });
//   while (auto f = live.next(std::chrono::milliseconds(500))) { run(f->frame); }
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "framepipe/bounded_queue.hpp"
#include "framepipe/reader/video_reader.hpp"

namespace framepipe {

struct LiveOptions {
  ReaderOptions reader;                    // image options, open/read timeouts
  QueuePolicy policy = QueuePolicy::Latest;
  size_t queue_capacity = 8;               // block / drop-oldest (latest holds one)
  double backoff_initial_s = 0.5;          // first wait before reconnecting, doubled each try
  double backoff_max_s = 8.0;
  int max_reconnects = -1;                 // tries per outage; -1: keep trying
  bool audio = false;                      // also relay the stream's audio (see audio())
  size_t audio_capacity = 4096;            // audio packets held for the writer (~80 s)
};

class AudioRelay;  // opaque: taken by VideoWriterOptions::audio_relay

struct LiveFrame {
  Frame frame;
  std::chrono::steady_clock::time_point arrived;  // when the capture thread had it
  double wall = 0;                                // the same, in seconds since the source opened
  int64_t sequence = 0;                           // frames received so far, across reconnects
  int64_t connection = 0;                         // 0 for the first connection, +1 per reconnect
  double recording_offset = 0;                    // seconds from this connection's clock to the
                                                  // recording's (0 on the first connection)
};

// The stream was down from `start` to `end` (seconds since the source opened); `last_t` is
// the stream time of the last frame before it, `next_t` of the first after it (-1 if the
// stream never came back).
struct Gap {
  double start = 0, end = 0;
  double last_t = -1, next_t = -1;
  int attempts = 0;
  std::string reason;
};

class LiveSource {
 public:
  // Opens the first connection before returning (an error there is thrown: a wrong URL fails
  // fast); reconnects only after the stream has delivered frames.
  LiveSource(std::string url, LiveOptions options, std::function<void(const Gap&)> on_gap = {});
  ~LiveSource();
  LiveSource(const LiveSource&) = delete;
  LiveSource& operator=(const LiveSource&) = delete;

  // The next frame, waiting up to `timeout`; nullopt on a timeout or once the source has
  // ended (ended() tells which).
  std::optional<LiveFrame> next(std::chrono::milliseconds timeout);
  bool ended() const;
  void stop();  // ends the capture thread; next() drains what is queued, then ends

  const std::string& url() const { return url_; }
  Geometry geometry() const;  // of the current connection
  Rational time_base() const;  // of the current connection's video stream
  int64_t dropped() const { return queue_.dropped(); }
  int64_t received() const { return received_; }
  int64_t reconnects() const { return reconnects_; }
  size_t queue_max_depth() const { return queue_.max_depth(); }
  size_t queue_capacity() const { return queue_.capacity(); }
  double seconds_since_open() const;
  // The stream's audio on the recording's clock (LiveOptions::audio; null otherwise). Its
  // streams are the first connection's.
  std::shared_ptr<AudioRelay> audio() const { return audio_; }

 private:
  void capture();
  void open_reader(int64_t connection);  // a new connection; its geometry becomes the source's
  bool wait_or_stop(double seconds);
  // Seconds to add to `stream_s` (a time of `connection`) to put it on the recording's clock:
  // fixed by the connection's first frame or packet, so that it follows the last one before it
  // after the time that really passed between them.
  double recording_offset(int64_t connection, double stream_s);

  std::string url_;
  LiveOptions opt_;
  std::function<void(const Gap&)> on_gap_;
  BoundedQueue<LiveFrame> queue_;
  std::unique_ptr<VideoReader> reader_;  // the capture thread's
  mutable std::mutex mutex_;
  std::condition_variable stop_cv_;
  Geometry geometry_;
  Rational time_base_{1, 90000};
  std::atomic<bool> stop_{false}, ended_{false};
  std::atomic<int64_t> received_{0}, reconnects_{0};
  std::chrono::steady_clock::time_point opened_;
  std::shared_ptr<AudioRelay> audio_;
  std::mutex clock_mutex_;  // the recording clock: set by the capture and read-ahead threads
  int64_t clock_connection_ = -1;
  double clock_offset_ = 0, clock_last_ = -1e300;
  std::chrono::steady_clock::time_point clock_last_arrival_;
  std::thread thread_;
};

}  // namespace framepipe
