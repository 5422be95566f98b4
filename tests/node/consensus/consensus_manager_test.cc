// ConsensusManager in the simulator: metadata operations wait for a leader and for the local apply,
// fail with Qdrant's timeout messages, and identical operations in flight are applied once.
#include "node/consensus/consensus_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/simulation.h"

namespace qdsim::consensus {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using sim::PeerId;

// N voters, each running Raft over a ConsensusManager; every peer is registered in the metadata
// by the first operation of the test.
class ConsensusCluster : public sim::NodeKind {
 public:
  explicit ConsensusCluster(uint32_t n, uint64_t seed = 1) : n_(n) {
    sim::Simulation::Config config;
    config.nodes = n;
    config.links.assign(n * n, sim::SimNetwork::LinkParams{world::Millis(2), 500, 0, 0, 0});
    config.node_params.assign(n, sim::Simulation::NodeParams{{}, world::Millis(2)});
    sim_ = std::make_unique<sim::Simulation>(config, seed, *this);
    for (PeerId id = 1; id <= n; ++id) sim_->Boot(id);
  }

  struct Node : sim::SimNode {
    explicit Node(world::Env& env) : consensus(env) {}
    ConsensusManager consensus;
    std::unique_ptr<raft::RaftNode> raft;
  };

  std::unique_ptr<sim::SimNode> Boot(PeerId id, world::Env& env) override {
    auto node = std::make_unique<Node>(env);
    raft::RaftNode::Options o;
    for (PeerId v = 1; v <= n_; ++v) o.initial_voters.push_back(v);
    node->raft = *raft::RaftNode::Open(env, node->consensus, o);
    node->consensus.Attach(node->raft.get());
    raft::RaftNode* r = node->raft.get();
    env.transport().SetReceiver([r](PeerId from, std::string b) { r->Receive(from, b); });
    return node;
  }
  std::vector<std::string> CheckNames() const override { return {}; }
  std::unique_ptr<sim::Checker> MakeChecker(std::string_view) override { return nullptr; }

  Node* node(PeerId id) { return static_cast<Node*>(sim_->node(id)); }
  sim::Simulation& sim() { return *sim_; }
  void RunFor(world::Duration d) {
    now_ += d;
    while (sim_->scheduler().pending() > 0 && sim_->scheduler().NextTime() <= now_) sim_->scheduler().Step();
  }
  // Proposes through `via` and runs until the verdict arrives (or `limit` passes).
  std::optional<absl::Status> ProposeAndWait(PeerId via, consensuspb::Operation op,
                                             world::Duration timeout = world::Seconds(10),
                                             world::Duration limit = world::Seconds(30)) {
    std::optional<absl::Status> verdict;
    sim_->PostToNode(via, sim_->now(), [&, via, op] {
      node(via)->consensus.Propose(op, timeout, [&](absl::Status s) { verdict = s; });
    });
    for (world::Duration waited{0}; !verdict && waited < limit; waited += world::Millis(10)) RunFor(world::Millis(10));
    return verdict;
  }

 private:
  uint32_t n_;
  std::unique_ptr<sim::Simulation> sim_;
  world::Instant now_{};
};

consensuspb::Operation AddPeer(uint64_t id) {
  consensuspb::Operation op;
  op.mutable_add_peer()->set_peer_id(id);
  op.mutable_add_peer()->set_uri("http://127.0.0.1:" + std::to_string(6334 + id) + "/");
  return op;
}

consensuspb::Operation Create(const std::string& name) {
  consensuspb::Operation op;
  auto* c = op.mutable_create_collection();
  c->set_name(name);
  auto* v = c->mutable_params()->add_vectors();
  v->set_size(4);
  v->set_distance(consensuspb::DOT);
  c->mutable_params()->set_replication_factor(2);
  c->mutable_params()->set_write_consistency_factor(1);
  return op;
}

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
  c.RunFor(world::Seconds(5));
  for (PeerId id = 1; id <= 3; ++id) ASSERT_TRUE(c.ProposeAndWait(id, AddPeer(id))->ok());
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

TEST(ConsensusManagerTest, TwoVotersWithOneDownTimeOut) {
  ConsensusCluster c(2);
  c.RunFor(world::Seconds(5));
  for (PeerId id = 1; id <= 2; ++id) ASSERT_TRUE(c.ProposeAndWait(id, AddPeer(id))->ok());
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
  c.RunFor(world::Seconds(5));
  for (PeerId id = 1; id <= 3; ++id) ASSERT_TRUE(c.ProposeAndWait(id, AddPeer(id))->ok());
  c.sim().Crash(2);
  c.sim().Crash(3);
  c.RunFor(world::Seconds(10));  // check-quorum: the lone node steps down
  auto v = c.ProposeAndWait(1, Create("nope"), world::Seconds(2));
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->message(), "Failed to propose operation: leader is not established within 2 secs");
}

}  // namespace
}  // namespace qdsim::consensus
