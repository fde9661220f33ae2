// pipeline/: the queue policies and the metrics, against behaviour worked out by hand.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "framepipe/bounded_queue.hpp"
#include "framepipe/pipeline/metrics.hpp"
#include "media/audio_relay.hpp"

using namespace framepipe;
using namespace std::chrono_literals;

TEST(BoundedQueue, BlockMakesTheProducerWaitAndDropsNothing) {
  BoundedQueue<int> q(2, QueuePolicy::Block);
  ASSERT_TRUE(q.push(1));
  ASSERT_TRUE(q.push(2));
  std::atomic<bool> third_in{false};
  std::thread producer([&] {
    q.push(3);
    third_in = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(third_in) << "a full block queue must hold the producer";
  EXPECT_EQ(q.pop(), 1);
  producer.join();
  EXPECT_TRUE(third_in);
  EXPECT_EQ(q.pop(), 2);
  EXPECT_EQ(q.pop(), 3);
  EXPECT_EQ(q.dropped(), 0);
  EXPECT_EQ(q.max_depth(), 2u);
}

TEST(BoundedQueue, DropOldestKeepsTheNewestCapacityItems) {
  BoundedQueue<int> q(2, QueuePolicy::DropOldest);
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(q.push(i));
  EXPECT_EQ(q.dropped(), 3);
  EXPECT_EQ(q.pop(), 4);
  EXPECT_EQ(q.pop(), 5);
}

TEST(BoundedQueue, LatestHandsOverOnlyTheNewest) {
  BoundedQueue<int> q(4, QueuePolicy::Latest);
  for (int i = 1; i <= 5; ++i) q.push(i);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.pop(), 5);
  EXPECT_EQ(q.dropped(), 4);
}

TEST(BoundedQueue, CloseDrainsThenEndsAndRefusesMore) {
  BoundedQueue<int> q(3, QueuePolicy::Block);
  q.push(7);
  q.close();
  EXPECT_FALSE(q.push(8));
  EXPECT_EQ(q.pop(), 7);
  EXPECT_EQ(q.pop(), std::nullopt);
  // A consumer waiting on an empty queue is woken by close().
  BoundedQueue<int> empty(1, QueuePolicy::Block);
  std::thread closer([&] {
    std::this_thread::sleep_for(20ms);
    empty.close();
  });
  EXPECT_EQ(empty.pop(), std::nullopt);
  closer.join();
}

TEST(BoundedQueue, PopForTimesOutOnAnEmptyOpenQueue) {
  BoundedQueue<int> q(1, QueuePolicy::Block);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(q.pop_for(30ms), std::nullopt);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 25ms);
  EXPECT_FALSE(q.closed());
  EXPECT_THROW(parse_queue_policy("newest"), ConfigError);
  EXPECT_EQ(parse_queue_policy("drop-oldest"), QueuePolicy::DropOldest);
}

TEST(StageMetrics, PercentilesAndCountsByHand) {
  StageMetrics m("infer");
  for (int i = 1; i <= 100; ++i) m.record(i / 1000.0, 2);  // 1 ms .. 100 ms, 2 rows each
  m.set_queue(3, 4, 1);
  auto s = m.summary();
  EXPECT_EQ(s.items, 200);
  EXPECT_EQ(s.calls, 100);
  EXPECT_NEAR(s.busy_s, 5.05, 1e-9);  // (1 + ... + 100) ms
  // nearest rank on the sorted 100 values: index round(0.5 * 99) = 50 -> 51 ms; round(0.95 * 99) = 94 -> 95 ms
  EXPECT_NEAR(s.latency_p50_ms, 51, 1e-9);
  EXPECT_NEAR(s.latency_p95_ms, 95, 1e-9);
  EXPECT_EQ(s.age_p50_ms, -1);
  EXPECT_NE(m.json().find("\"dropped\":1"), std::string::npos) << m.json();
}

// AudioRelay: a live stream's audio on its way to a recording, against packets made by hand.
namespace {
struct FakeInput {  // a demuxer's streams: video 0, then the audio streams asked for
  av::FormatAlloc fmt{avformat_alloc_context()};
  explicit FakeInput(std::vector<int> audio_rates) {
    AVStream* v = avformat_new_stream(fmt.get(), nullptr);
    v->codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
    v->time_base = {1, 90000};
    for (int rate : audio_rates) {
      AVStream* a = avformat_new_stream(fmt.get(), nullptr);
      a->codecpar->codec_type = AVMEDIA_TYPE_AUDIO;
      a->codecpar->codec_id = AV_CODEC_ID_AAC;
      a->codecpar->sample_rate = rate;
      av_channel_layout_default(&a->codecpar->ch_layout, 1);
      a->codecpar->frame_size = 1024;
      a->time_base = {1, rate};
    }
  }
};

av::PacketPtr packet(int stream, int64_t pts, uint8_t byte) {
  av::PacketPtr p = av::make_packet();
  EXPECT_EQ(av_new_packet(p.get(), 8), 0);
  std::fill(p->data, p->data + 8, byte);
  p->stream_index = stream;
  p->pts = p->dts = pts;
  return p;
}

std::vector<av::PacketPtr> drain(AudioRelay& relay) {
  std::vector<av::PacketPtr> out;
  for (av::PacketPtr p = av::make_packet(); relay.pop(p.get()); p = av::make_packet()) out.push_back(std::move(p));
  return out;
}
}  // namespace

TEST(AudioRelay, TimesFollowOnWherePacketsHaveNoneAndEveryPacketMovesAlike) {
  FakeInput in({48000});
  AudioRelay relay;
  relay.connect(in.fmt.get());
  ASSERT_EQ(relay.streams().size(), 1u);
  std::vector<double> asked;
  auto offset = [&](double stream_s) {
    asked.push_back(stream_s);
    return 2.5;  // the recording runs 2.5 s ahead of this connection's clock
  };
  relay.push(packet(1, 4800, 1).get(), offset);                   // 0.1 s
  relay.push(packet(1, AV_NOPTS_VALUE, 2).get(), offset);         // a split PES: no time
  relay.push(packet(1, AV_NOPTS_VALUE, 3).get(), offset);
  relay.push(packet(0, 7, 9).get(), offset);                      // video: not the relay's
  const auto got = drain(relay);
  ASSERT_EQ(got.size(), 3u);
  for (size_t k = 0; k < got.size(); ++k) {
    // 1024 samples per AAC frame at 48 kHz, then 2.5 s = 120000 ticks later on the recording
    EXPECT_EQ(got[k]->pts, 4800 + 1024 * static_cast<int64_t>(k) + 120000) << k;
    EXPECT_EQ(got[k]->dts, got[k]->pts);
    EXPECT_EQ(got[k]->duration, 1024);
    EXPECT_EQ(got[k]->stream_index, 0);
    EXPECT_EQ(got[k]->data[0], k + 1) << "the packet's own bytes, in order";
  }
  ASSERT_EQ(asked.size(), 3u);  // the clock is asked with each packet's time on its connection
  for (size_t k = 0; k < asked.size(); ++k) EXPECT_NEAR(asked[k], (4800 + 1024.0 * k) / 48000, 1e-9) << k;
}

TEST(AudioRelay, OverCapacityTheOldestAreDroppedAndCounted) {
  FakeInput in({48000});
  AudioRelay relay(4);
  relay.connect(in.fmt.get());
  for (int k = 0; k < 10; ++k) relay.push(packet(1, 1024 * k, static_cast<uint8_t>(k)).get(), [](double) { return 0.0; });
  const auto got = drain(relay);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got.front()->data[0], 6);
  EXPECT_EQ(got.back()->data[0], 9);
  EXPECT_EQ(relay.dropped(), 6);
  EXPECT_FALSE(relay.finished()) << "open: more may come";
  relay.close();
  EXPECT_TRUE(relay.finished());
}

TEST(AudioRelay, ALaterConnectionsAudioGoesInOnlyWhereItsSetupMatches) {
  FakeInput first({48000});
  AudioRelay relay;
  relay.connect(first.fmt.get());
  // the camera comes back with its audio at another rate, then as it was
  FakeInput other({44100});
  relay.connect(other.fmt.get());
  relay.push(packet(1, 0, 1).get(), [](double) { return 0.0; });
  EXPECT_TRUE(drain(relay).empty());
  EXPECT_EQ(relay.left_out(), 1);
  FakeInput same({48000});
  relay.connect(same.fmt.get());
  relay.push(packet(1, 0, 2).get(), [](double) { return 0.0; });
  EXPECT_EQ(drain(relay).size(), 1u);
  EXPECT_EQ(relay.streams().size(), 1u) << "the recording's streams stay the first connection's";
}
