// ConsensusManager in the simulator: metadata operations wait for a leader and for the local apply,
// fail with Qdrant's timeout messages, and identical operations in flight are applied once.
#include "node/consensus/consensus_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/node/consensus/consensus_cluster.h"

namespace qdsim::consensus {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using sim::PeerId;
using testing::ConsensusCluster;

consensuspb::Operation AddPeer(uint64_t id) { return testing::AddPeerOp(id); }
consensuspb::Operation Create(const std::string& name) { return testing::CreateCollectionOp(name); }

TEST(ConsensusManagerTest, AnyPeerProposesAndEveryPeerAgrees) {
  ConsensusCluster c(3);
  c.RunFor(world::Seconds(5));
  for (PeerId id = 1; id <= 3; ++id) {
    auto v = c.ProposeAndWait(id, AddPeer(id));
    ASSERT_TRUE(v.has_value());
    EXPECT_TRUE(v->ok()) << *v;
  }
  auto v = c.ProposeAndWait(3, Create("docs"));
  ASSERT_TRUE(v && v->ok()) << (v ? v->ToString() : "no verdict");
  EXPECT_NE(c.node(3)->consensus.metadata().FindCollection("docs"), nullptr)
      << "answered only after the local apply";
  c.RunFor(world::Seconds(1));
  for (PeerId id = 1; id <= 3; ++id) {
    EXPECT_EQ(c.node(id)->consensus.metadata().Snapshot(), c.node(1)->consensus.metadata().Snapshot());
  }
  auto again = c.ProposeAndWait(1, Create("docs"));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->message(), "Collection `docs` already exists!");
}

TEST(ConsensusManagerTest, IdenticalOperationsInFlightAreAppliedOnceAndAllSucceed) {
  ConsensusCluster c(3);
  ASSERT_TRUE(c.RegisterPeers());
  std::vector<absl::Status> verdicts;
  int applied = 0;
  c.node(2)->consensus.AddListener([&](const consensuspb::Operation& op, const absl::Status& s) {
    applied += op.has_create_collection() && s.ok();
  });
  c.sim().PostToNode(2, c.sim().now(), [&] {
    for (int i = 0; i < 3; ++i) {
      c.node(2)->consensus.Propose(Create("once"), world::Seconds(10), [&](absl::Status s) { verdicts.push_back(s); });
    }
  });
  c.RunFor(world::Seconds(3));
  ASSERT_EQ(verdicts.size(), 3u);
  for (const auto& s : verdicts) EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(applied, 1);
}

// A proposal may be committed and applied before Raft's Propose returns (here: a single voter whose
// disk writes complete at once, the planted bug ack_before_sync): the manager answers it once and
// does not touch the finished proposal again (found by ASan through `qdsim planted`).
TEST(ConsensusManagerTest, AnOperationAppliedWhileBeingProposedIsAnsweredOnce) {
  raft::PlantedBugs bugs;
  bugs.Set(raft::PlantedBug::kAckBeforeSync);
  ConsensusCluster c(1, 1, nullptr, bugs);
  c.RunFor(world::Seconds(5));
  int answers = 0;
  int answers_when_propose_returned = -1;
  size_t pending_when_propose_returned = 1;
  absl::Status verdict = absl::UnknownError("no verdict");
  c.sim().PostToNode(1, c.sim().now(), [&] {
    c.node(1)->consensus.Propose(AddPeer(1), world::Seconds(10), [&](absl::Status s) {
      ++answers;
      verdict = s;
    });
    answers_when_propose_returned = answers;
    pending_when_propose_returned = c.node(1)->consensus.pending_operations();
  });
  c.RunFor(world::Seconds(15));
  // The path under test: the answer came before Propose returned, and nothing was left waiting.
  EXPECT_EQ(answers_when_propose_returned, 1);
  EXPECT_EQ(pending_when_propose_returned, 0u);
  EXPECT_EQ(answers, 1);
  EXPECT_TRUE(verdict.ok()) << verdict;
}

TEST(ConsensusManagerTest, TwoVotersWithOneDownTimeOut) {
  ConsensusCluster c(2);
  ASSERT_TRUE(c.RegisterPeers());
  c.sim().Crash(2);
  auto v = c.ProposeAndWait(1, Create("blocked"), world::Seconds(3));
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(absl::IsDeadlineExceeded(*v)) << *v;
  EXPECT_THAT(std::string(v->message()),
              AnyOf(HasSubstr("Waiting for consensus operation commit failed. Timeout set at: 3 seconds"),
                    HasSubstr("Failed to propose operation: leader is not established within 3 secs")));
  EXPECT_EQ(c.node(1)->consensus.pending_operations(), 0u);
  // Once the other voter is back, the same operation goes through.
  c.sim().Restart(2);
  c.RunFor(world::Seconds(8));
  auto later = c.ProposeAndWait(1, Create("blocked"));
  ASSERT_TRUE(later.has_value());
  EXPECT_TRUE(later->ok() || absl::IsAlreadyExists(*later)) << *later;
}

TEST(ConsensusManagerTest, NoLeaderFailsWithQdrantsMessage) {
  ConsensusCluster c(3);
  ASSERT_TRUE(c.RegisterPeers());
  c.sim().Crash(2);
  c.sim().Crash(3);
  c.RunFor(world::Seconds(10));  // check-quorum: the lone node steps down
  auto v = c.ProposeAndWait(1, Create("nope"), world::Seconds(2));
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->message(), "Failed to propose operation: leader is not established within 2 secs");
}

}  // namespace
}  // namespace qdsim::consensus
