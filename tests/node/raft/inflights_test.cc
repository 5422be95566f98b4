#include "node/raft/inflights.h"

#include "gtest/gtest.h"

namespace qdsim::raft {
namespace {

TEST(InflightsTest, FillsUpToCapacity) {
  Inflights in(3, 0);
  EXPECT_FALSE(in.Full());
  in.Add(1, 10);
  in.Add(2, 10);
  EXPECT_FALSE(in.Full());
  in.Add(3, 10);
  EXPECT_TRUE(in.Full());
  EXPECT_EQ(in.Count(), 3u);
  EXPECT_EQ(in.Bytes(), 30u);
}

TEST(InflightsTest, FreeLEReleasesAcknowledgedMessagesOnly) {
  Inflights in(4, 0);
  in.Add(5, 1);
  in.Add(7, 2);
  in.Add(9, 3);
  in.FreeLE(4);
  EXPECT_EQ(in.Count(), 3u);
  in.FreeLE(8);  // frees the messages ending at 5 and 7
  EXPECT_EQ(in.Count(), 1u);
  EXPECT_EQ(in.Bytes(), 3u);
  in.FreeLE(100);
  EXPECT_EQ(in.Count(), 0u);
  EXPECT_EQ(in.Bytes(), 0u);
}

TEST(InflightsTest, WrapsAroundTheRing) {
  Inflights in(3, 0);
  for (uint64_t i = 1; i <= 3; ++i) in.Add(i, 1);
  in.FreeLE(2);
  in.Add(4, 1);
  in.Add(5, 1);  // occupies the slots freed at the start of the ring
  EXPECT_TRUE(in.Full());
  in.FreeLE(4);
  EXPECT_EQ(in.Count(), 1u);
  in.Add(6, 1);
  in.Add(7, 1);
  EXPECT_TRUE(in.Full());
  in.FreeLE(6);
  EXPECT_EQ(in.Count(), 1u);
}

TEST(InflightsTest, ByteLimitMakesTheWindowFull) {
  Inflights in(10, 100);
  in.Add(1, 60);
  EXPECT_FALSE(in.Full());
  in.Add(2, 60);  // crosses the limit: admitted, but nothing more
  EXPECT_TRUE(in.Full());
  in.FreeLE(1);
  EXPECT_FALSE(in.Full());
}

TEST(InflightsTest, FreeFirstOneAndReset) {
  Inflights in(2, 0);
  in.Add(3, 1);
  in.Add(4, 1);
  in.FreeFirstOne();
  EXPECT_EQ(in.Count(), 1u);
  in.Reset();
  EXPECT_EQ(in.Count(), 0u);
  in.FreeFirstOne();  // no-op on an empty window
  EXPECT_EQ(in.Count(), 0u);
}

}  // namespace
}  // namespace qdsim::raft
