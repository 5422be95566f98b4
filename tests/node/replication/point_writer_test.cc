// PointWriter in the simulator: writes split by shard reach every replica, failed replicas are
// marked Dead (even when the write fails, and durably when consensus has no majority), the last
// Active replica is never marked, and the Qdrant-compatible mode leaves replicas diverged (#4626).
#include "node/replication/point_writer.h"

#include <gtest/gtest.h>

#include "node/collection/hash_ring.h"
#include "node/collection/routing.h"
#include "node/shard/point_id.h"
#include "tests/node/consensus/consensus_cluster.h"

namespace qdsim::replication {
namespace {

using consensus::testing::ConsensusCluster;
using sim::PeerId;

struct Parts {
  Parts(ConsensusCluster::Node& node, PointWriter::Config config)
      : shards(node.env, node.consensus),
        service(node.env.transport().Self(), *node.rpc, shards, node.consensus),
        marks(node.env, node.consensus),
        writer(node.env, node.env.transport().Self(), *node.rpc, node.consensus, service, marks, config) {}
  collection::LocalShards shards;
  ReplicaService service;
  DeadMarks marks;
  PointWriter writer;
};

Parts& P(ConsensusCluster& c, PeerId id) { return *static_cast<Parts*>(c.node(id)->extra.get()); }

shardpb::ShardOperation Upsert(uint64_t first, uint64_t count, size_t dim = 2) {
  shardpb::ShardOperation op;
  for (uint64_t id = first; id < first + count; ++id) {
    auto* p = op.mutable_upsert()->add_points();
    p->mutable_id()->set_num(id);
    auto* v = (*p->mutable_vectors()->mutable_vectors())[""].mutable_dense();
    for (size_t i = 0; i < dim; ++i) v->add_values(static_cast<float>(id + i));
  }
  return op;
}

std::unique_ptr<ConsensusCluster> Cluster(uint32_t peers, uint32_t shards, uint32_t rf, uint32_t wcf = 1,
                                          PointWriter::Config config = {}) {
  auto c = std::make_unique<ConsensusCluster>(peers, /*seed=*/7, [config](ConsensusCluster::Node& node) {
    node.extra = std::make_shared<Parts>(node, config);
  });
  EXPECT_TRUE(c->RegisterPeers());
  consensuspb::Operation create = consensus::testing::CreateCollectionOp("docs", shards, rf);
  create.mutable_create_collection()->mutable_params()->set_write_consistency_factor(wcf);
  EXPECT_TRUE(c->ProposeAndWait(1, create)->ok());
  c->RunFor(world::Seconds(2));
  return c;
}

absl::Status WriteAndWait(ConsensusCluster& c, PeerId via, shardpb::ShardOperation op, WriteOptions options = {}) {
  std::optional<absl::Status> out;
  c.sim().PostToNode(via, c.sim().now(), [&, via, op, options] {
    P(c, via).writer.Write("docs", op, options, [&](absl::Status s) { out = s; });
  });
  for (int i = 0; i < 3000 && !out; ++i) c.RunFor(world::Millis(10));
  return out ? *out : absl::InternalError("no answer");
}

const consensuspb::ShardInfo& Shard(ConsensusCluster& c, PeerId via, uint32_t shard) {
  return c.node(via)->consensus.metadata().FindCollection("docs")->shards(shard);
}

consensuspb::ReplicaState StateOf(ConsensusCluster& c, PeerId via, uint32_t shard, PeerId peer) {
  for (const auto& r : Shard(c, via, shard).replicas()) {
    if (r.peer_id() == peer) return r.state();
  }
  ADD_FAILURE() << "no replica on " << peer;
  return consensuspb::DEAD;
}

TEST(PointWriterTest, EveryPointReachesEveryReplicaOfItsShard) {
  auto c = Cluster(3, 3, 2);
  ASSERT_TRUE(WriteAndWait(*c, 1, Upsert(1, 60)).ok());
  const collection::HashRing ring = collection::HashRing::Fair(3);
  std::map<uint32_t, uint64_t> expected;
  for (uint64_t id = 1; id <= 60; ++id) ++expected[ring.ShardOfNumber(id)];
  for (uint32_t shard = 0; shard < 3; ++shard) {
    ASSERT_EQ(Shard(*c, 1, shard).replicas_size(), 2);
    for (const auto& r : Shard(*c, 1, shard).replicas()) {
      shard::ShardStore* store = P(*c, r.peer_id()).shards.Find("docs", shard);
      ASSERT_NE(store, nullptr);
      EXPECT_EQ(store->points_count(), expected[shard]) << "shard " << shard << " on peer " << r.peer_id();
    }
  }
}

TEST(PointWriterTest, ABadVectorIsRefusedBeforeAnythingIsSent) {
  auto c = Cluster(3, 3, 2);
  shardpb::ShardOperation op = Upsert(1, 10);
  *op.mutable_upsert()->mutable_points(9) = Upsert(10, 1, 3).upsert().points(0);
  absl::Status s = WriteAndWait(*c, 2, op);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_EQ(s.message(), "Wrong input: Vector dimension error: expected dim: 2, got 3");
  for (PeerId peer = 1; peer <= 3; ++peer) {
    for (uint32_t shard = 0; shard < 3; ++shard) {
      if (auto* store = P(*c, peer).shards.Find("docs", shard)) {
        EXPECT_EQ(store->points_count(), 0u);
      }
    }
  }
}

TEST(PointWriterTest, UnknownCollection) {
  auto c = Cluster(3, 1, 1);
  std::optional<absl::Status> out;
  c->sim().PostToNode(1, c->sim().now(), [&] {
    P(*c, 1).writer.Write("nope", Upsert(1, 1), {}, [&](absl::Status s) { out = s; });
  });
  c->RunFor(world::Millis(10));
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->message(), "Not found: Collection `nope` doesn't exist!");
}

TEST(PointWriterTest, AReplicaThatMissesAWriteIsMarkedDead) {
  auto c = Cluster(3, 1, 3);
  c->sim().Crash(3);
  ASSERT_TRUE(WriteAndWait(*c, 1, Upsert(1, 5), {.timeout = world::Seconds(2)}).ok());
  EXPECT_EQ(StateOf(*c, 1, 0, 3), consensuspb::DEAD);
  EXPECT_EQ(StateOf(*c, 1, 0, 1), consensuspb::ACTIVE);
  EXPECT_EQ(StateOf(*c, 1, 0, 2), consensuspb::ACTIVE);
}

TEST(PointWriterTest, AFailedWriteStillMarksTheReplicasThatMissedIt) {
  // Write consistency 3 of 3 with one replica down: the write fails, two replicas keep it (as in
  // Qdrant), and the one that missed it is marked Dead so that a transfer will bring it back.
  auto c = Cluster(3, 1, 3, /*wcf=*/3);
  c->sim().Crash(3);
  absl::Status s = WriteAndWait(*c, 1, Upsert(1, 5), {.timeout = world::Seconds(2)});
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(s.message().find("Consistency factor: 3, successful: 2, attempted: 3"), std::string::npos) << s;
  EXPECT_EQ(StateOf(*c, 1, 0, 3), consensuspb::DEAD);
  EXPECT_EQ(P(*c, 1).shards.Find("docs", 0)->points_count(), 5u) << "a replica that took it keeps it";
}

TEST(PointWriterTest, QdrantMarkingLeavesTheReplicasDiverged) {
  PointWriter::Config qdrant;
  qdrant.qdrant_dead_marking = true;
  auto c = Cluster(3, 1, 3, /*wcf=*/3, qdrant);
  c->sim().network().Isolate(3);
  absl::Status s = WriteAndWait(*c, 1, Upsert(1, 5), {.timeout = world::Seconds(2)});
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  c->sim().network().Heal();
  c->RunFor(world::Seconds(5));
  EXPECT_EQ(StateOf(*c, 1, 0, 3), consensuspb::ACTIVE) << "Qdrant marks nothing when the write fails";
  EXPECT_EQ(P(*c, 1).shards.Find("docs", 0)->points_count(), 5u);
  EXPECT_EQ(P(*c, 3).shards.Find("docs", 0)->points_count(), 0u) << "the divergence of Qdrant #4626";
}

TEST(PointWriterTest, WithoutAMajorityTheMarkIsDurableAndAppliedLater) {
  // Two peers, one down: the write succeeds on the other, consensus cannot commit the mark, so
  // the mark is kept on disk — across a crash of the writer too — and applied once the peer is back.
  auto c = Cluster(2, 1, 2);
  c->sim().Crash(2);
  ASSERT_TRUE(WriteAndWait(*c, 1, Upsert(1, 5), {.timeout = world::Seconds(2)}).ok());
  EXPECT_EQ(P(*c, 1).marks.outstanding(), 1u);
  c->sim().Crash(1);
  c->sim().Restart(1);
  c->sim().Restart(2);
  c->RunFor(world::Seconds(10));
  EXPECT_EQ(P(*c, 1).marks.outstanding(), 0u);
  EXPECT_EQ(StateOf(*c, 1, 0, 2), consensuspb::DEAD);
  EXPECT_EQ(StateOf(*c, 1, 0, 1), consensuspb::ACTIVE);
}

TEST(PointWriterTest, StrongOrderingFailsWhenTheHighestReplicaIsDown) {
  auto c = Cluster(3, 1, 3);
  c->sim().Crash(3);
  absl::Status s = WriteAndWait(*c, 1, Upsert(1, 1), {.ordering = WriteOrdering::kStrong, .timeout = world::Seconds(2)});
  EXPECT_FALSE(s.ok());
  // A weak write marks peer 3 Dead; medium then goes through the highest Active replica, peer 2.
  ASSERT_TRUE(WriteAndWait(*c, 1, Upsert(2, 1), {.timeout = world::Seconds(2)}).ok());
  ASSERT_EQ(StateOf(*c, 1, 0, 3), consensuspb::DEAD);
  s = WriteAndWait(*c, 1, Upsert(3, 1), {.ordering = WriteOrdering::kMedium, .timeout = world::Seconds(2)});
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(P(*c, 2).shards.Find("docs", 0)->points_count(), 2u);
  EXPECT_FALSE(WriteAndWait(*c, 1, Upsert(4, 1), {.ordering = WriteOrdering::kStrong, .timeout = world::Seconds(2)}).ok())
      << "strong needs the highest-id replica, and it is Dead";
}

TEST(PointWriterTest, WaitFalseAnswersOnceOneReplicaHasIt) {
  auto c = Cluster(3, 1, 3);
  ASSERT_TRUE(WriteAndWait(*c, 1, Upsert(1, 3), {.wait = false}).ok());
  c->RunFor(world::Seconds(1));
  for (PeerId peer = 1; peer <= 3; ++peer) EXPECT_EQ(P(*c, peer).shards.Find("docs", 0)->points_count(), 3u);
}

TEST(PointWriterTest, FilterOperationsGoToEveryShard) {
  shardpb::ShardOperation op;
  op.mutable_delete_by_filter()->mutable_filter();
  auto parts = collection::SplitByShard(op, collection::HashRing::Fair(4), 4);
  EXPECT_EQ(parts.size(), 4u);
  shardpb::ShardOperation by_ids;
  for (uint64_t id : {1, 2, 3, 4, 5, 6, 7, 8}) {
    *by_ids.mutable_set_payload()->mutable_selector()->mutable_ids()->add_ids() = shard::NumId(id);
  }
  size_t total = 0;
  for (const auto& [shard, part] : collection::SplitByShard(by_ids, collection::HashRing::Fair(4), 4)) {
    total += part.set_payload().selector().ids().ids_size();
  }
  EXPECT_EQ(total, 8u);
}

}  // namespace
}  // namespace qdsim::replication
