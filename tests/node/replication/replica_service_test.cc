// ReplicaService in the simulator: operations reach local and remote replicas, each replica numbers
// its own operations, and errors (Qdrant's messages, a missing replica) come back unchanged.
#include "node/replication/replica_service.h"

#include <gtest/gtest.h>

#include "tests/node/consensus/consensus_cluster.h"

namespace qdsim::replication {
namespace {

using consensus::testing::ConsensusCluster;
using sim::PeerId;

struct Parts {
  Parts(ConsensusCluster::Node& node)
      : shards(node.env, node.consensus), service(node.env.transport().Self(), *node.rpc, shards) {}
  collection::LocalShards shards;
  ReplicaService service;
};

Parts& P(ConsensusCluster& c, PeerId id) { return *static_cast<Parts*>(c.node(id)->extra.get()); }

shardpb::ShardOperation Upsert(uint64_t id, std::vector<float> vector) {
  shardpb::ShardOperation op;
  auto* p = op.mutable_upsert()->add_points();
  p->mutable_id()->set_num(id);
  auto* v = (*p->mutable_vectors()->mutable_vectors())[""].mutable_dense();
  for (float x : vector) v->add_values(x);
  return op;
}

// A 3-peer cluster with collection "docs": `shards` shards, replication factor `rf`.
ConsensusCluster ClusterWithDocs(uint32_t shards, uint32_t rf) {
  ConsensusCluster c(3, /*seed=*/5, [](ConsensusCluster::Node& node) { node.extra = std::make_shared<Parts>(node); });
  EXPECT_TRUE(c.RegisterPeers());
  EXPECT_TRUE(c.ProposeAndWait(1, consensus::testing::CreateCollectionOp("docs", shards, rf))->ok());
  c.RunFor(world::Seconds(2));
  return c;
}

// Applies `op` from peer `via` to `peer`'s replica of shard 0 and runs until the answer.
absl::StatusOr<uint64_t> ApplyAndWait(ConsensusCluster& c, PeerId via, PeerId peer, shardpb::ShardOperation op) {
  std::optional<absl::StatusOr<uint64_t>> out;
  c.sim().PostToNode(via, c.sim().now(), [&, via, peer, op] {
    P(c, via).service.Apply(peer, "docs", 0, op, world::Seconds(1), [&](absl::StatusOr<uint64_t> r) { out = r; });
  });
  for (int i = 0; i < 300 && !out; ++i) c.RunFor(world::Millis(10));
  return out ? *out : absl::InternalError("no answer");
}

TEST(ReplicaServiceTest, EveryReplicaAppliesAndNumbersItsOwnOperations) {
  ConsensusCluster c = ClusterWithDocs(1, 3);
  for (PeerId peer = 1; peer <= 3; ++peer) {
    auto seq = ApplyAndWait(c, 1, peer, Upsert(10, {1, 2}));
    ASSERT_TRUE(seq.ok()) << seq.status();
    EXPECT_EQ(*seq, 1u) << "each replica starts its own numbering";
  }
  // Writes arriving through different peers get consecutive numbers at the replica.
  EXPECT_EQ(*ApplyAndWait(c, 2, 3, Upsert(11, {3, 4})), 2u);
  EXPECT_EQ(*ApplyAndWait(c, 3, 3, Upsert(12, {5, 6})), 3u);
  EXPECT_EQ(P(c, 3).shards.Find("docs", 0)->points_count(), 3u);
  EXPECT_EQ(P(c, 1).shards.Find("docs", 0)->points_count(), 1u);
}

TEST(ReplicaServiceTest, ErrorsComeBackUnchanged) {
  ConsensusCluster c = ClusterWithDocs(1, 3);
  auto wrong_size = ApplyAndWait(c, 1, 2, Upsert(1, {1, 2, 3}));
  EXPECT_TRUE(absl::IsInvalidArgument(wrong_size.status()));
  EXPECT_EQ(wrong_size.status().message(), "Wrong input: Vector dimension error: expected dim: 2, got 3");
  EXPECT_EQ(P(c, 2).shards.Find("docs", 0)->points_count(), 0u) << "nothing of a refused op is applied";
}

TEST(ReplicaServiceTest, APeerWithoutTheReplicaSaysSo) {
  ConsensusCluster c = ClusterWithDocs(1, 1);
  const auto* coll = c.node(1)->consensus.metadata().FindCollection("docs");
  const PeerId holder = coll->shards(0).replicas(0).peer_id();
  const PeerId other = holder % 3 + 1;
  auto r = ApplyAndWait(c, holder, other, Upsert(1, {1, 2}));
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  c.sim().Crash(holder);
  auto down = ApplyAndWait(c, other, holder, Upsert(1, {1, 2}));
  EXPECT_TRUE(absl::IsDeadlineExceeded(down.status())) << down.status();
}

}  // namespace
}  // namespace qdsim::replication
