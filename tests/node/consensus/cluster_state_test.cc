#include "node/consensus/cluster_state.h"

#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace qdsim::consensus {
namespace {

using ::testing::HasSubstr;

consensuspb::Operation AddPeer(uint64_t id) {
  consensuspb::Operation op;
  op.mutable_add_peer()->set_peer_id(id);
  op.mutable_add_peer()->set_uri("http://10.0.0." + std::to_string(id) + ":6335/");
  return op;
}

consensuspb::Operation Create(const std::string& name, uint32_t shards, uint32_t rf, uint64_t size = 4) {
  consensuspb::Operation op;
  auto* c = op.mutable_create_collection();
  c->set_name(name);
  auto* v = c->mutable_params()->add_vectors();
  v->set_size(size);
  v->set_distance(consensuspb::COSINE);
  c->mutable_params()->set_shard_number(shards);
  c->mutable_params()->set_replication_factor(rf);
  c->mutable_params()->set_write_consistency_factor(1);
  return op;
}

consensuspb::Operation SetState(const std::string& coll, uint32_t shard, uint64_t peer, consensuspb::ReplicaState s,
                                std::optional<consensuspb::ReplicaState> from = std::nullopt) {
  consensuspb::Operation op;
  auto* r = op.mutable_set_replica_state();
  r->set_collection(coll);
  r->set_shard_id(shard);
  r->set_peer_id(peer);
  r->set_state(s);
  if (from) r->set_from_state(*from);
  return op;
}

consensuspb::Operation Transfer(uint64_t from, uint64_t to, bool sync) {
  consensuspb::Operation op;
  op.mutable_start_transfer()->set_collection("a");
  auto* t = op.mutable_start_transfer()->mutable_transfer();
  t->set_shard_id(0);
  t->set_from(from);
  t->set_to(to);
  t->set_sync(sync);
  t->set_method("stream_records");
  return op;
}

consensuspb::Operation Finish(uint64_t from, uint64_t to) {
  consensuspb::Operation op;
  auto* f = op.mutable_finish_transfer();
  f->set_collection("a");
  f->set_shard_id(0);
  f->set_from(from);
  f->set_to(to);
  return op;
}

ClusterStateMachine ThreePeers() {
  ClusterStateMachine sm;
  for (uint64_t id : {3, 1, 2}) EXPECT_TRUE(sm.Apply(AddPeer(id)).ok());
  return sm;
}

TEST(ClusterStateTest, PeersAreSortedAndTheFirstIsRemembered) {
  ClusterStateMachine sm = ThreePeers();
  ASSERT_EQ(sm.state().peers_size(), 3);
  EXPECT_EQ(sm.state().peers(0).id(), 1u);
  EXPECT_EQ(sm.state().first_peer_id(), 3u);
}

TEST(ClusterStateTest, PlacementSpreadsReplicasOverDistinctLeastLoadedPeers) {
  ClusterStateMachine sm = ThreePeers();
  ASSERT_TRUE(sm.Apply(Create("a", 3, 2)).ok());
  const auto* c = sm.FindCollection("a");
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->shards_size(), 3);
  for (const auto& s : c->shards()) {
    ASSERT_EQ(s.replicas_size(), 2);
    EXPECT_NE(s.replicas(0).peer_id(), s.replicas(1).peer_id());
    EXPECT_EQ(s.replicas(0).state(), consensuspb::INITIALIZING);
  }
  // 6 replicas over 3 peers: 2 each.
  for (uint64_t p : {1, 2, 3}) EXPECT_EQ(sm.ReplicaCount(p), 2u);
  // A replication factor above the number of peers is capped.
  ASSERT_TRUE(sm.Apply(Create("b", 1, 5)).ok());
  EXPECT_EQ(sm.FindCollection("b")->shards(0).replicas_size(), 3);
}

TEST(ClusterStateTest, ShardNumberDefaultsToThePeerCount) {
  ClusterStateMachine sm = ThreePeers();
  ASSERT_TRUE(sm.Apply(Create("a", 0, 1)).ok());
  EXPECT_EQ(sm.FindCollection("a")->params().shard_number(), 3u);
}

TEST(ClusterStateTest, ErrorsCarryQdrantsMessagesAndChangeNothing) {
  ClusterStateMachine sm = ThreePeers();
  ASSERT_TRUE(sm.Apply(Create("a", 1, 1)).ok());
  const std::string before = sm.Snapshot();
  absl::Status s = sm.Apply(Create("a", 1, 1));
  EXPECT_TRUE(absl::IsAlreadyExists(s));
  EXPECT_EQ(s.message(), "Collection `a` already exists!");
  consensuspb::Operation del;
  del.mutable_delete_collection()->set_name("nope");
  EXPECT_EQ(sm.Apply(del).message(), "Not found: Collection `nope` doesn't exist!");
  EXPECT_THAT(std::string(sm.Apply(Create("z", 1, 1, /*size=*/0)).message()), HasSubstr("value 0 invalid"));
  EXPECT_EQ(sm.Snapshot(), before);
}

TEST(ClusterStateTest, ReplicaStateIsCompareAndSetAndTheLastActiveNeverDies) {
  ClusterStateMachine sm = ThreePeers();
  ASSERT_TRUE(sm.Apply(Create("a", 1, 2)).ok());
  const auto& shard = sm.FindCollection("a")->shards(0);
  const uint64_t p1 = shard.replicas(0).peer_id(), p2 = shard.replicas(1).peer_id();
  ASSERT_TRUE(sm.Apply(SetState("a", 0, p1, consensuspb::ACTIVE, consensuspb::INITIALIZING)).ok());
  ASSERT_TRUE(sm.Apply(SetState("a", 0, p2, consensuspb::ACTIVE, consensuspb::INITIALIZING)).ok());
  // A stale compare-and-set does nothing.
  EXPECT_TRUE(absl::IsFailedPrecondition(sm.Apply(SetState("a", 0, p1, consensuspb::DEAD, consensuspb::PARTIAL))));
  ASSERT_TRUE(sm.Apply(SetState("a", 0, p1, consensuspb::DEAD, consensuspb::ACTIVE)).ok());
  absl::Status last = sm.Apply(SetState("a", 0, p2, consensuspb::DEAD, consensuspb::ACTIVE));
  EXPECT_TRUE(absl::IsFailedPrecondition(last));
  EXPECT_THAT(std::string(last.message()), HasSubstr("last Active replica"));
}

TEST(ClusterStateTest, RecoveryTransferMakesTheTargetPartialThenActive) {
  ClusterStateMachine sm = ThreePeers();
  ASSERT_TRUE(sm.Apply(Create("a", 1, 2)).ok());
  const auto& shard = sm.FindCollection("a")->shards(0);
  const uint64_t src = shard.replicas(0).peer_id(), dst = shard.replicas(1).peer_id();
  ASSERT_TRUE(sm.Apply(SetState("a", 0, src, consensuspb::ACTIVE)).ok());
  ASSERT_TRUE(sm.Apply(SetState("a", 0, dst, consensuspb::DEAD)).ok());
  const consensuspb::Operation start = Transfer(src, dst, /*sync=*/true);
  ASSERT_TRUE(sm.Apply(start).ok());
  EXPECT_EQ(sm.FindCollection("a")->shards(0).replicas(dst < src ? 0 : 1).state(), consensuspb::PARTIAL);
  EXPECT_TRUE(absl::IsAlreadyExists(sm.Apply(start)));
  ASSERT_TRUE(sm.Apply(Finish(src, dst)).ok());
  for (const auto& r : sm.FindCollection("a")->shards(0).replicas()) EXPECT_EQ(r.state(), consensuspb::ACTIVE);
  EXPECT_EQ(sm.FindCollection("a")->transfers_size(), 0);
}

TEST(ClusterStateTest, MoveGivesUpTheSourceAndAbortRemovesANewReplica) {
  ClusterStateMachine sm = ThreePeers();
  ASSERT_TRUE(sm.Apply(Create("a", 1, 1)).ok());
  const uint64_t src = sm.FindCollection("a")->shards(0).replicas(0).peer_id();
  const uint64_t dst = src % 3 + 1;
  ASSERT_TRUE(sm.Apply(SetState("a", 0, src, consensuspb::ACTIVE)).ok());
  ASSERT_TRUE(sm.Apply(Transfer(src, dst, /*sync=*/false)).ok());
  consensuspb::Operation abort;
  auto* a = abort.mutable_abort_transfer();
  a->set_collection("a");
  a->set_shard_id(0);
  a->set_from(src);
  a->set_to(dst);
  ASSERT_TRUE(sm.Apply(abort).ok());
  EXPECT_EQ(sm.FindCollection("a")->shards(0).replicas_size(), 1) << "abort removes the new replica";
  ASSERT_TRUE(sm.Apply(Transfer(src, dst, /*sync=*/false)).ok());
  ASSERT_TRUE(sm.Apply(Finish(src, dst)).ok());
  ASSERT_EQ(sm.FindCollection("a")->shards(0).replicas_size(), 1);
  EXPECT_EQ(sm.FindCollection("a")->shards(0).replicas(0).peer_id(), dst);
}

TEST(ClusterStateTest, PeerWithShardsIsRemovedOnlyByForce) {
  ClusterStateMachine sm = ThreePeers();
  ASSERT_TRUE(sm.Apply(Create("a", 3, 1)).ok());
  consensuspb::Operation remove;
  remove.mutable_remove_peer()->set_peer_id(2);
  EXPECT_EQ(sm.Apply(remove).message(), "Cannot remove peer 2 as there are shards on it");
  remove.mutable_remove_peer()->set_force(true);
  ASSERT_TRUE(sm.Apply(remove).ok());
  EXPECT_EQ(sm.FindPeer(2), nullptr);
  EXPECT_EQ(sm.ReplicaCount(2), 0u);
}

TEST(ClusterStateTest, AliasesResolveAndDieWithTheirCollection) {
  ClusterStateMachine sm = ThreePeers();
  ASSERT_TRUE(sm.Apply(Create("a", 1, 1)).ok());
  consensuspb::Operation alias;
  alias.mutable_create_alias()->set_alias("latest");
  alias.mutable_create_alias()->set_collection("a");
  ASSERT_TRUE(sm.Apply(alias).ok());
  EXPECT_EQ(sm.FindCollection("latest")->name(), "a");
  consensuspb::Operation del;
  del.mutable_delete_collection()->set_name("a");
  ASSERT_TRUE(sm.Apply(del).ok());
  EXPECT_EQ(sm.FindCollection("latest"), nullptr);
  EXPECT_EQ(sm.state().aliases_size(), 0);
}

TEST(ClusterStateTest, SnapshotRoundTrips) {
  ClusterStateMachine sm = ThreePeers();
  ASSERT_TRUE(sm.Apply(Create("a", 2, 2)).ok());
  ClusterStateMachine copy;
  ASSERT_TRUE(copy.Restore(sm.Snapshot()).ok());
  EXPECT_EQ(copy.Snapshot(), sm.Snapshot());
  EXPECT_FALSE(copy.Restore("\xff\xff garbage").ok());
}

// Property: whatever sequence of operations is applied, replicas sit on distinct known peers,
// repeated fields stay sorted, and no shard ever loses its last Active replica to a state change.
RC_GTEST_PROP(ClusterStateTest, InvariantsHoldUnderRandomOperations, ()) {
  ClusterStateMachine sm;
  const int steps = *rc::gen::inRange(1, 60);
  for (int i = 0; i < steps; ++i) {
    const int kind = *rc::gen::inRange(0, 6);
    const uint64_t peer = *rc::gen::inRange<uint64_t>(1, 6);
    const std::string coll = *rc::gen::element<std::string>("a", "b");
    consensuspb::Operation op;
    switch (kind) {
      case 0: op = AddPeer(peer); break;
      case 1: op = Create(coll, *rc::gen::inRange<uint32_t>(0, 4), *rc::gen::inRange<uint32_t>(1, 4)); break;
      case 2:
        op = SetState(coll, *rc::gen::inRange<uint32_t>(0, 4), peer,
                      *rc::gen::element(consensuspb::ACTIVE, consensuspb::DEAD, consensuspb::PARTIAL));
        break;
      case 3:
        op.mutable_remove_peer()->set_peer_id(peer);
        op.mutable_remove_peer()->set_force(*rc::gen::arbitrary<bool>());
        break;
      case 4: {
        auto* d = op.mutable_drop_replica();
        d->set_collection(coll);
        d->set_shard_id(*rc::gen::inRange<uint32_t>(0, 4));
        d->set_peer_id(peer);
        break;
      }
      default: op.mutable_delete_collection()->set_name(coll);
    }
    // Count shards with an Active replica before; a refused op must leave the state unchanged.
    const std::string before = sm.Snapshot();
    const absl::Status s = sm.Apply(op);
    if (!s.ok()) RC_ASSERT(sm.Snapshot() == before);
    for (int j = 1; j < sm.state().peers_size(); ++j) RC_ASSERT(sm.state().peers(j - 1).id() < sm.state().peers(j).id());
    for (const auto& c : sm.state().collections()) {
      for (const auto& shard : c.shards()) {
        std::set<uint64_t> holders;
        for (const auto& r : shard.replicas()) {
          RC_ASSERT(sm.FindPeer(r.peer_id()) != nullptr);
          RC_ASSERT(holders.insert(r.peer_id()).second);
        }
      }
    }
    if (op.has_set_replica_state() && s.ok() && op.set_replica_state().state() == consensuspb::DEAD) {
      const auto* c = sm.FindCollection(op.set_replica_state().collection());
      for (const auto& shard : c->shards()) {
        if (shard.shard_id() != op.set_replica_state().shard_id()) continue;
        // Marking dead never took away the last Active replica.
        ClusterStateMachine prev;
        RC_ASSERT(prev.Restore(before).ok());
        const auto* pc = prev.FindCollection(c->name());
        int active_before = 0, active_after = 0;
        for (const auto& r : pc->shards(shard.shard_id()).replicas()) active_before += r.state() == consensuspb::ACTIVE;
        for (const auto& r : shard.replicas()) active_after += r.state() == consensuspb::ACTIVE;
        RC_ASSERT(active_before == 0 || active_after > 0);
      }
    }
  }
}

}  // namespace
}  // namespace qdsim::consensus
