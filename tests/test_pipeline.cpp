// pipeline/: the queue policies and the metrics, against behaviour worked out by hand.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "framepipe/pipeline/bounded_queue.hpp"
#include "framepipe/pipeline/metrics.hpp"

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
