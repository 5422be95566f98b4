#include "node/raft/raw_node.h"

#include <memory>

#include "gtest/gtest.h"
#include "node/raft/describe.h"

namespace qdsim::raft {
namespace {

// A node with its own storage and randomness.
struct TestNode {
  explicit TestNode(uint64_t id, std::vector<uint64_t> voters, uint64_t seed = 1) : random(seed) {
    raftpb::ConfState cs;
    for (uint64_t v : voters) cs.add_voters(v);
    storage.SetConfState(cs);
    config.id = id;
    config.storage = &storage;
    config.random = &random;
  }

  // Persists and applies one Ready like a driver would.
  Ready Handle() {
    Ready rd = node->GetReady();
    EXPECT_TRUE(storage.Append(rd.entries).ok());
    if (rd.hard_state) storage.SetHardState(*rd.hard_state);
    node->Advance();
    return rd;
  }

  MemoryStorage storage;
  world::Random random;
  Config config;
  std::unique_ptr<RawNode> node;
};

TEST(ConfigTest, ValidateNamesTheProblem) {
  MemoryStorage storage;
  world::Random random(1);
  Config c;
  EXPECT_FALSE(c.Validate().ok());
  c.id = 1;
  c.storage = &storage;
  c.random = &random;
  EXPECT_TRUE(c.Validate().ok());
  EXPECT_EQ(c.election_tick, 20) << "SPEC.md §3";
  EXPECT_EQ(c.heartbeat_tick, 2) << "SPEC.md §3";
  EXPECT_TRUE(c.pre_vote);
  EXPECT_TRUE(c.check_quorum);
  c.election_tick = 2;
  EXPECT_FALSE(c.Validate().ok());
  EXPECT_FALSE(RawNode::Create(c).ok());
}

TEST(RawNodeTest, SingleVoterElectsItselfAndCommitsProposals) {
  TestNode n(1, {1});
  auto created = RawNode::Create(n.config);
  ASSERT_TRUE(created.ok());
  n.node = std::move(*created);
  n.node->Campaign();
  EXPECT_EQ(n.node->raft().role(), StateRole::kLeader);
  Ready rd = n.Handle();
  ASSERT_TRUE(rd.soft_state.has_value());
  EXPECT_EQ(rd.soft_state->role, StateRole::kLeader);
  EXPECT_TRUE(rd.must_sync);
  ASSERT_EQ(rd.entries.size(), 1u) << "the empty entry of the new term";
  ASSERT_TRUE(n.node->Propose("hello").ok());
  rd = n.Handle();
  ASSERT_EQ(rd.committed_entries.size(), 1u);
  EXPECT_EQ(rd.committed_entries[0].data(), "hello");
  EXPECT_FALSE(n.node->HasReady());
  EXPECT_EQ(n.node->Status().applied, 2u);
}

TEST(RawNodeTest, FollowerWithoutLeaderDropsProposals) {
  TestNode n(1, {1, 2, 3});
  n.node = *RawNode::Create(n.config);
  absl::Status s = n.node->Propose("x");
  EXPECT_TRUE(IsProposalDropped(s)) << s;
}

TEST(RawNodeTest, StepRefusesLocalMessagesAndStrangersResponses) {
  TestNode n(1, {1, 2, 3});
  n.node = *RawNode::Create(n.config);
  raftpb::Message hup;
  hup.set_type(raftpb::MSG_HUP);
  EXPECT_TRUE(absl::IsInvalidArgument(n.node->Step(hup)));
  raftpb::Message resp;
  resp.set_type(raftpb::MSG_APP_RESP);
  resp.set_from(9);
  resp.set_term(1);
  EXPECT_TRUE(absl::IsNotFound(n.node->Step(resp)));
}

TEST(RawNodeTest, ElectionTimeoutIsRandomisedWithinOneToTwoTimeouts) {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    TestNode n(1, {1, 2, 3}, seed);
    n.node = *RawNode::Create(n.config);
    const int timeout = n.node->raft().randomized_election_timeout();
    EXPECT_GE(timeout, 20);
    EXPECT_LT(timeout, 40);
    // The node campaigns (pre-vote first) exactly when the timeout elapses.
    for (int i = 0; i < timeout - 1; ++i) n.node->Tick();
    EXPECT_EQ(n.node->raft().role(), StateRole::kFollower);
    n.node->Tick();
    EXPECT_EQ(n.node->raft().role(), StateRole::kPreCandidate);
    EXPECT_EQ(n.node->raft().term(), 0u) << "pre-vote does not enter a new term";
  }
}

TEST(RawNodeTest, RemovedNodeNeverCampaigns) {
  TestNode n(4, {1, 2, 3});
  n.node = *RawNode::Create(n.config);
  for (int i = 0; i < 200; ++i) n.node->Tick();
  EXPECT_EQ(n.node->raft().role(), StateRole::kFollower);
  EXPECT_FALSE(n.node->HasReady());
}

TEST(RawNodeTest, ReportUnreachableSendsAReplicatingFollowerBackToProbe) {
  TestNode n(1, {1, 2});
  n.node = *RawNode::Create(n.config);
  n.node->Campaign();  // pre-candidate, asks 2
  raftpb::Message pre;
  pre.set_type(raftpb::MSG_PRE_VOTE_RESP);
  pre.set_from(2);
  pre.set_to(1);
  pre.set_term(1);
  ASSERT_TRUE(n.node->Step(pre).ok());
  raftpb::Message vote = pre;
  vote.set_type(raftpb::MSG_VOTE_RESP);
  ASSERT_TRUE(n.node->Step(vote).ok());
  ASSERT_EQ(n.node->raft().role(), StateRole::kLeader);
  n.Handle();
  raftpb::Message ack;
  ack.set_type(raftpb::MSG_APP_RESP);
  ack.set_from(2);
  ack.set_to(1);
  ack.set_term(1);
  ack.set_index(1);
  ASSERT_TRUE(n.node->Step(ack).ok());
  EXPECT_EQ(n.node->Status().progress.at(2).state(), ProgressState::kReplicate);
  n.node->ReportUnreachable(2);
  EXPECT_EQ(n.node->Status().progress.at(2).state(), ProgressState::kProbe);
  EXPECT_NE(n.node->Status().ToString().find("2: StateProbe match=1 next=2"), std::string::npos)
      << n.node->Status().ToString();
}

TEST(DescribeTest, MessagesAndEntries) {
  raftpb::Message m;
  m.set_type(raftpb::MSG_APP);
  m.set_from(1);
  m.set_to(2);
  m.set_term(3);
  m.set_log_term(2);
  m.set_index(5);
  m.set_commit(4);
  raftpb::Entry* e = m.add_entries();
  e->set_term(3);
  e->set_index(6);
  e->set_data("x");
  EXPECT_EQ(DescribeMessage(m), "1->2 MsgApp Term:3 Log:2/5 Commit:4 Entries:[3/6 EntryNormal \"x\"]");
  raftpb::ConfChange cc;
  cc.set_type(raftpb::CONF_CHANGE_ADD_LEARNER_NODE);
  cc.set_node_id(4);
  EXPECT_EQ(DescribeConfChange(cc), "l4");
}

}  // namespace
}  // namespace qdsim::raft
