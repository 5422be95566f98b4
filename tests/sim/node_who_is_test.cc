// WhoIs (SPEC.md §2) between whole Nodes in the simulator: a peer that was down while another
// joined learns the joiner's address from the peers that know it.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "node/node.h"
#include "sim/simulation.h"

namespace qdsim {
namespace {

using sim::PeerId;

std::string UriOf(PeerId id) { return absl::StrCat("http://node", id, ":6335/"); }

// Peers 1..3 start as the cluster's voters; peer 4 (booted by the test) joins through peer 1.
class WhoIsCluster : public sim::NodeKind {
 public:
  struct Member : sim::SimNode {
    std::unique_ptr<Node> node;
  };

  WhoIsCluster() {
    sim::Simulation::Config config;
    config.nodes = 4;
    config.links.assign(16, sim::SimNetwork::LinkParams{world::Millis(2), 500, 0, 0, 0});
    config.node_params.assign(4, sim::Simulation::NodeParams{{}, world::Millis(2)});
    sim_ = std::make_unique<sim::Simulation>(config, /*seed=*/7, *this);
  }

  std::unique_ptr<sim::SimNode> Boot(PeerId id, world::Env& env) override {
    auto member = std::make_unique<Member>();
    Node::Options o;
    o.uri = UriOf(id);
    if (id <= 3) o.raft.initial_voters = {1, 2, 3};
    o.raft.raft.pre_vote = true;  // SPEC.md §3's defaults: a leader without a majority steps down
    o.raft.raft.check_quorum = true;
    absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(env, std::move(o));
    EXPECT_TRUE(node.ok()) << node.status();
    if (node.ok()) member->node = *std::move(node);
    return member;
  }
  std::vector<std::string> CheckNames() const override { return {}; }
  std::unique_ptr<sim::Checker> MakeChecker(std::string_view) override { return nullptr; }

  sim::Simulation& sim() { return *sim_; }
  Node* node(PeerId id) {
    auto* m = static_cast<Member*>(sim_->node(id));
    return m == nullptr ? nullptr : m->node.get();
  }
  void RunFor(world::Duration d) { sim_->scheduler().RunUntil(sim_->now() + d); }
  // Runs until `done()` holds or `limit` passes; true if it holds.
  bool RunUntil(const std::function<bool()>& done, world::Duration limit = world::Seconds(30)) {
    for (world::Duration waited{0}; waited < limit; waited += world::Millis(10)) {
      if (done()) return true;
      RunFor(world::Millis(10));
    }
    return done();
  }
  // Node::WhoIs on `on`, run until it answers.
  std::optional<absl::StatusOr<std::string>> WhoIs(PeerId on, PeerId peer) {
    std::optional<absl::StatusOr<std::string>> answer;
    sim_->PostToNode(on, sim_->now(), [&, on, peer] {
      node(on)->WhoIs(peer, [&](absl::StatusOr<std::string> uri) { answer = std::move(uri); });
      EXPECT_FALSE(answer.has_value()) << "WhoIs answered inside the call";
    });
    RunUntil([&] { return answer.has_value(); });
    return answer;
  }
  bool Knows(PeerId on, PeerId peer) {
    return node(on) != nullptr && node(on)->consensus().metadata().FindPeer(peer) != nullptr;
  }

 private:
  std::unique_ptr<sim::Simulation> sim_;
};

TEST(NodeWhoIsTest, APeerDownWhileAnotherJoinedLearnsItsAddressFromTheOthers) {
  WhoIsCluster c;
  for (PeerId id = 1; id <= 3; ++id) c.sim().Boot(id);
  ASSERT_TRUE(c.RunUntil([&] { return c.node(3)->ClusterStatus().peers.size() == 3; }));
  // One more entry: peer 3 syncs its commit index with it, so that back from a crash it knows the
  // peers before any leader tells it.
  consensuspb::Operation noop;
  noop.set_noop(true);
  c.sim().PostToNode(1, c.sim().now(), [&] { (void)c.node(1)->raft().Propose(noop.SerializeAsString()); });
  c.RunFor(world::Seconds(3));
  c.sim().Crash(3);
  c.sim().Boot(4);
  std::optional<absl::StatusOr<clusterpb::JoinResponse>> joined;
  c.sim().PostToNode(4, c.sim().now(), [&] {
    c.node(4)->Join(1, world::Seconds(20), [&](absl::StatusOr<clusterpb::JoinResponse> r) { joined = std::move(r); });
  });
  ASSERT_TRUE(c.RunUntil([&] { return joined.has_value(); }));
  ASSERT_TRUE(joined->ok()) << joined->status();
  ASSERT_TRUE(c.RunUntil([&] { return c.Knows(1, 4) && c.Knows(2, 4); }));

  // A peer whose metadata has the joiner answers from it (and not inside the call either).
  auto from_metadata = c.WhoIs(2, 4);
  ASSERT_TRUE(from_metadata.has_value());
  ASSERT_TRUE(from_metadata->ok()) << from_metadata->status();
  EXPECT_EQ(**from_metadata, UriOf(4));

  // Peer 3 comes back with metadata from before the join: it asks, and is told. Peer 1, the
  // first it asks (no leader is known to it), is down: after a second the next one answers.
  // With peers 1 and 3 down no majority is left (a leader steps down: check-quorum), and there is
  // none until an election with peer 3 back; meanwhile its metadata is what its own log holds.
  c.sim().Crash(1);
  c.RunFor(world::Seconds(10));
  c.sim().Restart(3);
  ASSERT_TRUE(c.RunUntil([&] { return c.Knows(3, 2); }));
  bool knew_before = true;
  uint64_t leader_before = 1;
  const world::Instant asked_at = c.sim().now();
  std::optional<absl::StatusOr<std::string>> asked;
  world::Instant answered_at;
  c.sim().PostToNode(3, asked_at, [&] {
    knew_before = c.Knows(3, 4);
    leader_before = c.node(3)->raft().raft().lead();
    c.node(3)->WhoIs(4, [&](absl::StatusOr<std::string> uri) {
      asked = std::move(uri);
      answered_at = c.sim().now();
    });
  });
  ASSERT_TRUE(c.RunUntil([&] { return asked.has_value(); }));
  EXPECT_FALSE(knew_before) << "the test needs peer 3 to ask before its log brings it peer 4";
  EXPECT_EQ(leader_before, 0u) << "the test needs peer 3 to ask peer 1 first";
  EXPECT_GE(answered_at - asked_at, world::Seconds(1)) << "peer 1 (down) was asked first, for a second";
  ASSERT_TRUE(asked->ok()) << asked->status();
  EXPECT_EQ(**asked, UriOf(4));
}

// A joiner before its join answer has nobody to ask.
TEST(NodeWhoIsTest, APeerWhoseMetadataNamesNoOtherHasNobodyToAsk) {
  WhoIsCluster c;
  c.sim().Boot(4);
  auto answer = c.WhoIs(4, 1);
  ASSERT_TRUE(answer.has_value());
  EXPECT_TRUE(absl::IsFailedPrecondition(answer->status())) << answer->status();
}

TEST(NodeWhoIsTest, AnUnknownPeerIsNotFoundAndConcurrentInquiriesShareTheAnswer) {
  WhoIsCluster c;
  for (PeerId id = 1; id <= 3; ++id) c.sim().Boot(id);
  ASSERT_TRUE(c.RunUntil([&] { return c.node(1)->ClusterStatus().peers.size() == 3; }));
  std::vector<absl::Status> answers;
  c.sim().PostToNode(1, c.sim().now(), [&] {
    for (int i = 0; i < 2; ++i) {
      c.node(1)->WhoIs(99, [&](absl::StatusOr<std::string> uri) { answers.push_back(uri.status()); });
    }
    EXPECT_TRUE(answers.empty()) << "WhoIs answers never inside the call";
  });
  c.RunFor(world::Seconds(5));
  ASSERT_EQ(answers.size(), 2u);
  for (const absl::Status& s : answers) {
    EXPECT_TRUE(absl::IsNotFound(s)) << s;
    EXPECT_NE(s.message().find("peer 99"), std::string_view::npos) << s;
  }
}

}  // namespace
}  // namespace qdsim
