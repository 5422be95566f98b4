#include "node/collection/hash_ring.h"

#include <map>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace qdsim::collection {
namespace {

TEST(HashRingTest, SpreadsPointsFairly) {
  const HashRing ring = HashRing::Fair(4);
  std::map<uint32_t, int> counts;
  for (uint64_t id = 0; id < 40000; ++id) ++counts[ring.ShardOfNumber(id)];
  ASSERT_EQ(counts.size(), 4u);
  for (const auto& [shard, n] : counts) EXPECT_NEAR(n, 10000, 2500) << "shard " << shard;
}

TEST(HashRingTest, SingleShardTakesEverything) {
  const HashRing ring = HashRing::Fair(1);
  for (uint64_t id = 0; id < 100; ++id) EXPECT_EQ(ring.ShardOfNumber(id), 0u);
}

// Pins this implementation's answers: a change here changes where every existing point lives.
TEST(HashRingTest, PinnedAssignments) {
  const HashRing ring = HashRing::Fair(3);
  std::vector<uint32_t> shards;
  for (uint64_t id : {0ull, 1ull, 2ull, 42ull, 1000ull, 18446744073709551615ull}) shards.push_back(ring.ShardOfNumber(id));
  EXPECT_EQ(shards, (std::vector<uint32_t>{2, 2, 2, 1, 2, 2}));
  EXPECT_EQ(HashRing::PositionOfNumber(42), 6100888322136652473u);
  const std::string uuid("\x55\x0e\x84\x00\xe2\x9b\x41\xd4\xa7\x16\x44\x66\x55\x44\x00\x00", 16);
  EXPECT_EQ(ring.ShardOfUuid(uuid), 1u);
}

// Consistent hashing: adding a shard only moves points onto the new shard.
RC_GTEST_PROP(HashRingTest, AddingAShardMovesPointsOnlyOntoIt, (uint64_t id)) {
  const uint32_t n = *rc::gen::inRange<uint32_t>(1, 12);
  const HashRing before = HashRing::Fair(n), after = HashRing::Fair(n + 1);
  const uint32_t a = before.ShardOfNumber(id), b = after.ShardOfNumber(id);
  RC_ASSERT(a == b || b == n);
}

}  // namespace
}  // namespace qdsim::collection
