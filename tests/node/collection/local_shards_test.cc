// LocalShards in the simulator: a collection created through consensus becomes shard stores on
// exactly the peers its placement names, every replica goes Active, a deleted collection's files go
// away, and a restarted peer reopens its replicas with their data.
#include "node/collection/local_shards.h"

#include <gtest/gtest.h>

#include "tests/node/consensus/consensus_cluster.h"

namespace qdsim::collection {
namespace {

using consensus::testing::ConsensusCluster;
using sim::PeerId;

consensuspb::Operation AddPeer(uint64_t id) { return consensus::testing::AddPeerOp(id); }
consensuspb::Operation Create(const std::string& name, uint32_t shards, uint32_t rf) {
  return consensus::testing::CreateCollectionOp(name, shards, rf);
}

LocalShards* Shards(ConsensusCluster& c, PeerId id) {
  return static_cast<LocalShards*>(c.node(id)->extra.get());
}

// Upserts point 7 into `peer`'s local replica of shard 0 of `collection`; true once durable.
bool WritePoint(ConsensusCluster& c, PeerId peer, const std::string& collection) {
  bool written = false;
  c.sim().PostToNode(peer, c.sim().now(), [&] {
    shardpb::ShardOperation op;
    op.set_seq(1);
    auto* p = op.mutable_upsert()->add_points();
    p->mutable_id()->set_num(7);
    auto* v = (*p->mutable_vectors()->mutable_vectors())[""].mutable_dense();
    v->add_values(1);
    v->add_values(2);
    Shards(c, peer)->Find(collection, 0)->Apply(op, [&](absl::Status s) { written = s.ok(); });
  });
  c.RunFor(world::Seconds(1));
  return written;
}

ConsensusCluster MakeCluster() {
  return ConsensusCluster(3, /*seed=*/11, [](ConsensusCluster::Node& node) {
    node.extra = std::make_shared<LocalShards>(node.env, node.consensus);
  });
}

TEST(LocalShardsTest, ReplicasMaterialiseWhereThePlacementPutsThemAndGoActive) {
  ConsensusCluster c = MakeCluster();
  ASSERT_TRUE(c.RegisterPeers());
  ASSERT_TRUE(c.ProposeAndWait(1, Create("docs", 3, 2))->ok());
  c.RunFor(world::Seconds(3));
  const auto* coll = c.node(1)->consensus.metadata().FindCollection("docs");
  ASSERT_NE(coll, nullptr);
  for (const auto& shard : coll->shards()) {
    for (const auto& r : shard.replicas()) {
      EXPECT_EQ(r.state(), consensuspb::ACTIVE) << "shard " << shard.shard_id() << " on peer " << r.peer_id();
      EXPECT_NE(Shards(c, r.peer_id())->Find("docs", shard.shard_id()), nullptr);
    }
  }
  for (PeerId id = 1; id <= 3; ++id) EXPECT_EQ(Shards(c, id)->size(), 2u) << "3 shards x 2 replicas over 3 peers";
}

TEST(LocalShardsTest, DeletingTheCollectionRemovesItsFiles) {
  ConsensusCluster c = MakeCluster();
  ASSERT_TRUE(c.RegisterPeers());
  ASSERT_TRUE(c.ProposeAndWait(2, Create("tmp", 1, 3))->ok());
  c.RunFor(world::Seconds(2));
  consensuspb::Operation del;
  del.mutable_delete_collection()->set_name("tmp");
  ASSERT_TRUE(c.ProposeAndWait(3, del)->ok());
  c.RunFor(world::Seconds(1));
  ASSERT_TRUE(c.ProposeAndWait(1, AddPeer(1))->ok());  // any later operation sweeps retired stores
  c.RunFor(world::Seconds(1));
  for (PeerId id = 1; id <= 3; ++id) {
    EXPECT_EQ(Shards(c, id)->size(), 0u);
    EXPECT_TRUE(c.sim().disk(id).List("collections/tmp/").empty()) << "peer " << id;
  }
}

TEST(LocalShardsTest, ARestartedPeerReopensItsReplicasWithTheirData) {
  ConsensusCluster c = MakeCluster();
  ASSERT_TRUE(c.RegisterPeers());
  ASSERT_TRUE(c.ProposeAndWait(1, Create("kept", 1, 3))->ok());
  c.RunFor(world::Seconds(2));
  ASSERT_TRUE(WritePoint(c, 2, "kept"));
  c.sim().Crash(2);
  c.sim().Restart(2);
  c.RunFor(world::Seconds(8));  // Raft replays the metadata; LocalShards reopens the store
  shard::ShardStore* store = Shards(c, 2)->Find("kept", 0);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->points_count(), 1u);
}

// Review finding F: a deleted collection's file removals are undone by a crash before they are
// durable; a collection of the same name created later must not inherit those points.
TEST(LocalShardsTest, ARecreatedCollectionDoesNotInheritAnEarlierLifesData) {
  ConsensusCluster c = MakeCluster();
  ASSERT_TRUE(c.RegisterPeers());
  ASSERT_TRUE(c.ProposeAndWait(1, Create("docs", 1, 3))->ok());
  c.RunFor(world::Seconds(2));
  ASSERT_TRUE(WritePoint(c, 2, "docs"));
  consensuspb::Operation del;
  del.mutable_delete_collection()->set_name("docs");
  ASSERT_TRUE(c.ProposeAndWait(1, del)->ok());
  c.RunFor(world::Millis(50));
  c.sim().Crash(2);  // peer 2's removals of the old files may not be durable yet
  c.sim().Restart(2);
  c.RunFor(world::Seconds(8));
  ASSERT_TRUE(c.ProposeAndWait(1, Create("docs", 1, 3))->ok());
  c.RunFor(world::Seconds(3));
  shard::ShardStore* store = Shards(c, 2)->Find("docs", 0);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->points_count(), 0u) << "the new collection starts empty";
  const auto* coll = c.node(2)->consensus.metadata().FindCollection("docs");
  const uint64_t generation = coll->shards(0).replicas(1).generation();
  for (const std::string& file : c.sim().disk(2).List("collections/docs/")) {
    EXPECT_EQ(file.rfind("collections/docs/0-" + std::to_string(generation) + "/", 0), 0u)
        << "stale file left behind: " << file;
  }
}

}  // namespace
}  // namespace qdsim::collection
