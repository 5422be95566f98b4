#include "node/replication/consistency.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace qdsim::replication {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

consensuspb::Replica R(uint64_t peer, ReplicaState state) {
  consensuspb::Replica r;
  r.set_peer_id(peer);
  r.set_state(state);
  return r;
}

TEST(ConsistencyTest, WeakWritesGoToEveryUpdatableReplica) {
  const ShardReplicas rs = {R(1, consensuspb::ACTIVE), R(2, consensuspb::DEAD), R(3, consensuspb::PARTIAL),
                            R(4, consensuspb::LISTENER)};
  EXPECT_THAT(*WriteTargets(rs, WriteOrdering::kWeak), ElementsAre(1, 3, 4));
  EXPECT_THAT(*WriteTargets(rs, WriteOrdering::kMedium), ElementsAre(1));
  // Strong goes to the highest id (4), which is not Active: refused.
  EXPECT_TRUE(absl::IsUnavailable(WriteTargets(rs, WriteOrdering::kStrong).status()));
  EXPECT_TRUE(absl::IsUnavailable(WriteTargets({R(1, consensuspb::DEAD)}, WriteOrdering::kWeak).status()));
  // Without an Active replica nothing is sent (a failed write would change the others).
  EXPECT_TRUE(absl::IsUnavailable(
      WriteTargets({R(1, consensuspb::INITIALIZING), R(2, consensuspb::PARTIAL)}, WriteOrdering::kWeak).status()));
}

TEST(ConsistencyTest, WriteNeedsTheFactorAndAnActiveSuccess) {
  const ShardReplicas rs = {R(1, consensuspb::ACTIVE), R(2, consensuspb::ACTIVE), R(3, consensuspb::PARTIAL)};
  EXPECT_TRUE(JudgeWrite(rs, 1, {1}, {2, 3}).status.ok());
  const WriteOutcome too_few = JudgeWrite(rs, 2, {1}, {2, 3});
  EXPECT_TRUE(absl::IsUnavailable(too_few.status));
  EXPECT_THAT(std::string(too_few.status.message()), HasSubstr("Consistency factor: 2, successful: 1"));
  // Only a Partial replica succeeded: not enough, whatever the factor.
  EXPECT_FALSE(JudgeWrite(rs, 1, {3}, {1, 2}).status.ok());
  // The factor is capped by the replicas attempted.
  EXPECT_TRUE(JudgeWrite({R(1, consensuspb::ACTIVE)}, 3, {1}, {}).status.ok());
}

TEST(ConsistencyTest, TheLastActiveReplicaIsNeverMarkedDead) {
  const ShardReplicas rs = {R(1, consensuspb::ACTIVE), R(2, consensuspb::ACTIVE), R(3, consensuspb::PARTIAL)};
  EXPECT_THAT(JudgeWrite(rs, 1, {1}, {2, 3}).mark_dead, ElementsAre(2, 3));
  // Both Active replicas failed: one of them must stay Active.
  EXPECT_THAT(JudgeWrite(rs, 1, {3}, {1, 2}).mark_dead, ElementsAre(1));
}

TEST(ConsistencyTest, ReadConsistencyParsesAndCounts) {
  const ShardReplicas rs = {R(1, consensuspb::ACTIVE), R(2, consensuspb::ACTIVE), R(3, consensuspb::ACTIVE),
                            R(4, consensuspb::DEAD)};
  EXPECT_EQ(RequiredReads(*ParseReadConsistency("2"), rs), 2u);
  EXPECT_EQ(RequiredReads(*ParseReadConsistency("9"), rs), 3u);  // capped by readable replicas
  EXPECT_EQ(RequiredReads(*ParseReadConsistency("majority"), rs), 2u);
  EXPECT_EQ(RequiredReads(*ParseReadConsistency("quorum"), rs), 3u);
  EXPECT_EQ(RequiredReads(*ParseReadConsistency("all"), rs), 3u);
  EXPECT_EQ(RequiredReads(*ParseReadConsistency(""), rs), 1u);
  EXPECT_FALSE(ParseReadConsistency("most").ok());
  EXPECT_FALSE(ParseReadConsistency("0").ok());
  EXPECT_THAT(ReadOrder(rs, 3), ElementsAre(3, 1, 2));
  EXPECT_THAT(ReadOrder(rs, 4), ElementsAre(1, 2, 3));
}

// Property: a judged write never leaves a shard that had an Active replica without one.
RC_GTEST_PROP(ConsistencyTest, DeadMarkingKeepsAnActiveReplica, ()) {
  const int n = *rc::gen::inRange(1, 7);
  ShardReplicas rs;
  std::vector<uint64_t> ok, failed;
  for (int i = 1; i <= n; ++i) {
    rs.push_back(R(i, *rc::gen::element(consensuspb::ACTIVE, consensuspb::PARTIAL, consensuspb::DEAD)));
    if (IsUpdatable(rs.back().state())) (*rc::gen::arbitrary<bool>() ? ok : failed).push_back(i);
  }
  const WriteOutcome out = JudgeWrite(rs, *rc::gen::inRange<uint32_t>(1, 5), ok, failed);
  int active_before = 0, active_after = 0;
  for (const auto& r : rs) {
    active_before += r.state() == consensuspb::ACTIVE;
    const bool dead = std::count(out.mark_dead.begin(), out.mark_dead.end(), r.peer_id()) > 0;
    active_after += r.state() == consensuspb::ACTIVE && !dead;
    if (dead) RC_ASSERT(std::count(failed.begin(), failed.end(), r.peer_id()) > 0);
  }
  RC_ASSERT(active_before == 0 || active_after >= 1);
}

}  // namespace
}  // namespace qdsim::replication
