#include "node/raft/progress.h"

#include "gtest/gtest.h"

namespace qdsim::raft {
namespace {

Progress NewProgress(uint64_t match, uint64_t next) {
  Progress pr(next, /*max_inflight=*/2, /*max_inflight_bytes=*/0, /*is_learner=*/false);
  pr.set_match(match);
  return pr;
}

TEST(ProgressTest, ProbeSendsOneMessageAtATime) {
  Progress pr = NewProgress(0, 5);
  EXPECT_EQ(pr.state(), ProgressState::kProbe);
  EXPECT_FALSE(pr.IsPaused());
  pr.UpdateOnEntriesSend(1, 10, 5);
  EXPECT_TRUE(pr.IsPaused());
  EXPECT_EQ(pr.next(), 5u) << "probe does not advance next optimistically";
  EXPECT_TRUE(pr.MaybeUpdate(5));
  EXPECT_FALSE(pr.IsPaused()) << "an acknowledgement unpauses";
  EXPECT_EQ(pr.next(), 6u);
}

TEST(ProgressTest, ReplicateIsOptimisticAndBoundedByTheWindow) {
  Progress pr = NewProgress(4, 5);
  pr.BecomeReplicate();
  EXPECT_EQ(pr.next(), 5u);
  pr.UpdateOnEntriesSend(3, 30, 5);
  EXPECT_EQ(pr.next(), 8u);
  pr.UpdateOnEntriesSend(2, 20, 8);
  EXPECT_EQ(pr.next(), 10u);
  EXPECT_TRUE(pr.IsPaused()) << "window of 2 messages is full";
  EXPECT_TRUE(pr.MaybeUpdate(7));
  pr.inflights_mutable().FreeLE(7);
  EXPECT_FALSE(pr.IsPaused());
}

TEST(ProgressTest, MaybeDecrToInReplicateFallsBackToMatch) {
  Progress pr = NewProgress(5, 10);
  pr.BecomeReplicate();
  pr.UpdateOnEntriesSend(4, 4, 6);
  EXPECT_FALSE(pr.MaybeDecrTo(5, 5)) << "rejection at or below match is stale";
  EXPECT_TRUE(pr.MaybeDecrTo(8, 2));
  EXPECT_EQ(pr.next(), 6u);
}

TEST(ProgressTest, MaybeDecrToInProbeUsesTheHint) {
  Progress pr = NewProgress(0, 10);
  EXPECT_FALSE(pr.MaybeDecrTo(5, 3)) << "only the answer to the last probe (next-1) counts";
  EXPECT_TRUE(pr.MaybeDecrTo(9, 3));
  EXPECT_EQ(pr.next(), 4u);
  EXPECT_TRUE(pr.MaybeDecrTo(3, 7));
  EXPECT_EQ(pr.next(), 3u) << "never above the rejected index";
}

TEST(ProgressTest, SnapshotStateTransitions) {
  Progress pr = NewProgress(3, 4);
  pr.BecomeSnapshot(20);
  EXPECT_TRUE(pr.IsPaused());
  EXPECT_EQ(pr.pending_snapshot(), 20u);
  pr.BecomeProbe();
  EXPECT_EQ(pr.next(), 21u) << "leaving Snapshot probes just past the snapshot";
  EXPECT_EQ(pr.pending_snapshot(), 0u);

  pr.BecomeSnapshot(30);
  pr.AbortSnapshot();
  pr.BecomeProbe();
  EXPECT_EQ(pr.next(), 4u) << "a failed snapshot probes from match";
}

TEST(ProgressTest, ToStringNamesTheState) {
  Progress pr = NewProgress(2, 3);
  pr.set_recent_active(true);
  EXPECT_EQ(pr.ToString(), "StateProbe match=2 next=3");
  pr.BecomeReplicate();
  pr.UpdateOnEntriesSend(1, 1, 3);
  EXPECT_EQ(pr.ToString(), "StateReplicate match=2 next=4 inflight=1");
}

}  // namespace
}  // namespace qdsim::raft
