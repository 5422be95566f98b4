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

consensuspb::Operation Abort(uint64_t from, uint64_t to, uint64_t target_generation = 0) {
  consensuspb::Operation op;
  auto* a = op.mutable_abort_transfer();
  a->set_collection("a");
  a->set_shard_id(0);
  a->set_from(from);
  a->set_to(to);
  a->set_target_generation(target_generation);
  return op;
}

consensuspb::Operation Drop(uint64_t peer) {
  consensuspb::Operation op;
  op.mutable_drop_replica()->set_collection("a");
  op.mutable_drop_replica()->set_shard_id(0);
  op.mutable_drop_replica()->set_peer_id(peer);
  return op;
}

// Shard 0 of "a" on `peer`, or null.
const consensuspb::Replica* ReplicaOn(const ClusterStateMachine& sm, uint64_t peer) {
  for (const auto& r : sm.FindCollection("a")->shards(0).replicas()) {
    if (r.peer_id() == peer) return &r;
  }
  return nullptr;
}

// Every transfer's source is an Active replica and its target the Partial replica of the
// transfer's target generation (cluster_state.h).
bool TransfersFitTheirReplicas(const ClusterStateMachine& sm) {
  for (const auto& c : sm.state().collections()) {
    for (const auto& t : c.transfers()) {
      const consensuspb::ShardInfo* shard = nullptr;
      for (const auto& s : c.shards()) {
        if (s.shard_id() == t.shard_id()) shard = &s;
      }
      if (shard == nullptr) return false;
      bool source_ok = false, target_ok = false;
      for (const auto& r : shard->replicas()) {
        source_ok |= r.peer_id() == t.from() && r.state() == consensuspb::ACTIVE;
        target_ok |= r.peer_id() == t.to() && r.state() == consensuspb::PARTIAL &&
                     r.generation() == t.target_generation();
      }
      if (!source_ok || !target_ok) return false;
    }
  }
  return true;
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

// A replica whose peer was down when its collection was created stays Initializing, however many
// writes fail on it, while the shard has no Active replica: marked Dead it would have nothing to
// recover from (found by scenarios/qdrant_crash_loop: an RF 1 shard dead for ever).
TEST(ClusterStateTest, NoReplicaOfAShardWithoutAnActiveOneIsMarkedDead) {
  ClusterStateMachine sm = ThreePeers();
  ASSERT_TRUE(sm.Apply(Create("a", 1, 2)).ok());
  const auto& shard = sm.FindCollection("a")->shards(0);
  const uint64_t p1 = shard.replicas(0).peer_id(), p2 = shard.replicas(1).peer_id();
  absl::Status refused = sm.Apply(SetState("a", 0, p1, consensuspb::DEAD, consensuspb::INITIALIZING));
  EXPECT_TRUE(absl::IsFailedPrecondition(refused));
  EXPECT_THAT(std::string(refused.message()), HasSubstr("no Active replica"));
  ASSERT_TRUE(sm.Apply(SetState("a", 0, p2, consensuspb::ACTIVE, consensuspb::INITIALIZING)).ok());
  // Once a replica is Active, the one that is not can be marked (and recovered from it).
  ASSERT_TRUE(sm.Apply(SetState("a", 0, p1, consensuspb::DEAD, consensuspb::INITIALIZING)).ok());
  ASSERT_TRUE(sm.Apply(Create("b", 1, 1)).ok());
  const uint64_t only = sm.FindCollection("b")->shards(0).replicas(0).peer_id();
  EXPECT_TRUE(absl::IsFailedPrecondition(sm.Apply(SetState("b", 0, only, consensuspb::DEAD))));
  ASSERT_TRUE(sm.Apply(SetState("b", 0, only, consensuspb::ACTIVE, consensuspb::INITIALIZING)).ok());
}

// The same rule for the marks of one write proposed together (also_dead).
TEST(ClusterStateTest, NoReplicaOfAShardWithoutAnActiveOneIsMarkedDeadTogether) {
  ClusterStateMachine sm = ThreePeers();
  ASSERT_TRUE(sm.Apply(Create("a", 1, 3)).ok());
  const auto& shard = sm.FindCollection("a")->shards(0);
  const uint64_t p1 = shard.replicas(0).peer_id(), p2 = shard.replicas(1).peer_id(),
                 p3 = shard.replicas(2).peer_id();
  auto together = [&](uint64_t first, uint64_t second) {
    consensuspb::Operation op = SetState("a", 0, first, consensuspb::DEAD);
    op.mutable_set_replica_state()->set_from_generation(ReplicaOn(sm, first)->generation());
    consensuspb::Replica* also = op.mutable_set_replica_state()->add_also_dead();
    also->set_peer_id(second);
    also->set_generation(ReplicaOn(sm, second)->generation());
    return op;
  };
  absl::Status refused = sm.Apply(together(p1, p2));
  EXPECT_TRUE(absl::IsFailedPrecondition(refused));
  EXPECT_THAT(std::string(refused.message()), HasSubstr("no Active replica"));
  EXPECT_EQ(ReplicaOn(sm, p1)->state(), consensuspb::INITIALIZING);
  EXPECT_EQ(ReplicaOn(sm, p2)->state(), consensuspb::INITIALIZING);
  ASSERT_TRUE(sm.Apply(SetState("a", 0, p3, consensuspb::ACTIVE, consensuspb::INITIALIZING)).ok());
  ASSERT_TRUE(sm.Apply(together(p1, p2)).ok());
  EXPECT_EQ(ReplicaOn(sm, p1)->state(), consensuspb::DEAD);
  EXPECT_EQ(ReplicaOn(sm, p2)->state(), consensuspb::DEAD);
  EXPECT_EQ(ReplicaOn(sm, p3)->state(), consensuspb::ACTIVE);
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

// Collection "a" with one shard: Active on `src`, and (rf 2) Dead on `dst`; `spare` holds nothing.
struct Recovering {
  ClusterStateMachine sm = ThreePeers();
  uint64_t src = 0, dst = 0, spare = 0;
  Recovering() {
    EXPECT_TRUE(sm.Apply(Create("a", 1, 2)).ok());
    const auto& shard = sm.FindCollection("a")->shards(0);
    src = shard.replicas(0).peer_id();
    dst = shard.replicas(1).peer_id();
    spare = 6 - src - dst;
    EXPECT_TRUE(sm.Apply(SetState("a", 0, src, consensuspb::ACTIVE)).ok());
    EXPECT_TRUE(sm.Apply(SetState("a", 0, dst, consensuspb::DEAD)).ok());
  }
  size_t transfers() const { return sm.FindCollection("a")->transfers_size(); }
};

TEST(ClusterStateTest, TransferRecordsTheGenerationItGaveItsTarget) {
  Recovering r;
  const uint64_t before = ReplicaOn(r.sm, r.dst)->generation();
  ASSERT_TRUE(r.sm.Apply(Transfer(r.src, r.dst, /*sync=*/true)).ok());
  const uint64_t gen = ReplicaOn(r.sm, r.dst)->generation();
  EXPECT_GT(gen, before) << "the target starts a new, empty life";
  EXPECT_EQ(r.sm.FindCollection("a")->transfers(0).target_generation(), gen);
  EXPECT_TRUE(TransfersFitTheirReplicas(r.sm));
}

TEST(ClusterStateTest, LateFinishOrAbortOfAnEarlierTransferLeavesALaterOneAlone) {
  Recovering r;
  ASSERT_TRUE(r.sm.Apply(Transfer(r.src, r.dst, /*sync=*/true)).ok());
  const uint64_t first = r.sm.FindCollection("a")->transfers(0).target_generation();
  ASSERT_TRUE(r.sm.Apply(Abort(r.src, r.dst, first)).ok());
  ASSERT_TRUE(r.sm.Apply(Transfer(r.src, r.dst, /*sync=*/true)).ok());
  consensuspb::Operation late_finish = Finish(r.src, r.dst);
  late_finish.mutable_finish_transfer()->set_target_generation(first);
  EXPECT_TRUE(absl::IsNotFound(r.sm.Apply(late_finish)));
  EXPECT_TRUE(absl::IsNotFound(r.sm.Apply(Abort(r.src, r.dst, first))));
  EXPECT_EQ(r.transfers(), 1u);
  EXPECT_EQ(ReplicaOn(r.sm, r.dst)->state(), consensuspb::PARTIAL);
}

TEST(ClusterStateTest, TargetLeavingPartialEndsItsTransfer) {
  Recovering r;
  ASSERT_TRUE(r.sm.Apply(Transfer(r.src, r.dst, /*sync=*/true)).ok());
  ASSERT_TRUE(r.sm.Apply(SetState("a", 0, r.dst, consensuspb::DEAD, consensuspb::PARTIAL)).ok());
  EXPECT_EQ(r.transfers(), 0u);
  EXPECT_EQ(ReplicaOn(r.sm, r.dst)->state(), consensuspb::DEAD) << "an existing target keeps the state asked for";
  // A new replica made Dead mid-transfer is removed, as an abort would.
  ASSERT_TRUE(r.sm.Apply(Transfer(r.src, r.spare, /*sync=*/true)).ok());
  ASSERT_TRUE(r.sm.Apply(SetState("a", 0, r.spare, consensuspb::DEAD)).ok());
  EXPECT_EQ(r.transfers(), 0u);
  EXPECT_EQ(ReplicaOn(r.sm, r.spare), nullptr);
}

TEST(ClusterStateTest, SourceLeavingActiveAbortsItsTransfers) {
  Recovering r;
  ASSERT_TRUE(r.sm.Apply(SetState("a", 0, r.dst, consensuspb::ACTIVE)).ok());
  ASSERT_TRUE(r.sm.Apply(Transfer(r.src, r.spare, /*sync=*/true)).ok());
  ASSERT_TRUE(r.sm.Apply(SetState("a", 0, r.src, consensuspb::DEAD, consensuspb::ACTIVE)).ok());
  EXPECT_EQ(r.transfers(), 0u);
  EXPECT_EQ(ReplicaOn(r.sm, r.spare), nullptr) << "the new target is removed";
  EXPECT_EQ(ReplicaOn(r.sm, r.src)->state(), consensuspb::DEAD);
}

TEST(ClusterStateTest, DroppingOrRemovingEitherEndLeavesNoTransferBehind) {
  {
    Recovering r;  // drop the target: the transfer goes with it
    ASSERT_TRUE(r.sm.Apply(Transfer(r.src, r.dst, /*sync=*/true)).ok());
    ASSERT_TRUE(r.sm.Apply(Drop(r.dst)).ok());
    EXPECT_EQ(r.transfers(), 0u);
    EXPECT_EQ(ReplicaOn(r.sm, r.dst), nullptr);
  }
  {
    Recovering r;  // drop the source (another Active replica remains): its new target is removed
    ASSERT_TRUE(r.sm.Apply(SetState("a", 0, r.dst, consensuspb::ACTIVE)).ok());
    ASSERT_TRUE(r.sm.Apply(Transfer(r.src, r.spare, /*sync=*/true)).ok());
    ASSERT_TRUE(r.sm.Apply(Drop(r.src)).ok());
    EXPECT_EQ(r.transfers(), 0u);
    EXPECT_EQ(ReplicaOn(r.sm, r.spare), nullptr);
    EXPECT_EQ(r.sm.FindCollection("a")->shards(0).replicas_size(), 1);
  }
  {
    Recovering r;  // force-remove the source's peer: the existing target is Dead, not Partial forever
    ASSERT_TRUE(r.sm.Apply(Transfer(r.src, r.dst, /*sync=*/true)).ok());
    consensuspb::Operation remove;
    remove.mutable_remove_peer()->set_peer_id(r.src);
    remove.mutable_remove_peer()->set_force(true);
    ASSERT_TRUE(r.sm.Apply(remove).ok());
    EXPECT_EQ(r.transfers(), 0u);
    EXPECT_EQ(ReplicaOn(r.sm, r.dst)->state(), consensuspb::DEAD);
  }
}

// Found by InvariantsHoldUnderRandomOperations: two moves from one source, the first finishing,
// left the second with a source replica that no longer existed.
TEST(ClusterStateTest, FinishingAMoveEndsTheOtherTransfersOfItsSource) {
  Recovering r;
  ASSERT_TRUE(r.sm.Apply(Transfer(r.src, r.dst, /*sync=*/false)).ok());
  ASSERT_TRUE(r.sm.Apply(Transfer(r.src, r.spare, /*sync=*/false)).ok());
  ASSERT_TRUE(r.sm.Apply(Finish(r.src, r.dst)).ok());
  EXPECT_EQ(r.transfers(), 0u);
  EXPECT_EQ(ReplicaOn(r.sm, r.src), nullptr);
  EXPECT_EQ(ReplicaOn(r.sm, r.spare), nullptr) << "the other move's new target is removed";
  EXPECT_EQ(ReplicaOn(r.sm, r.dst)->state(), consensuspb::ACTIVE);
}

TEST(ClusterStateTest, FinishOfATransferWhoseTargetNoLongerFitsIsRefusedAndAborted) {
  Recovering r;
  ASSERT_TRUE(r.sm.Apply(Transfer(r.src, r.dst, /*sync=*/true)).ok());
  // A state that breaks the invariant (as an image from elsewhere could): the target is Dead.
  consensuspb::ClusterState broken = r.sm.state();
  for (auto& rep : *broken.mutable_collections(0)->mutable_shards(0)->mutable_replicas()) {
    if (rep.peer_id() == r.dst) rep.set_state(consensuspb::DEAD);
  }
  ASSERT_TRUE(r.sm.Restore(broken.SerializeAsString()).ok());
  absl::Status s = r.sm.Apply(Finish(r.src, r.dst));
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_EQ(r.transfers(), 0u);
  EXPECT_EQ(ReplicaOn(r.sm, r.dst)->state(), consensuspb::DEAD);
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
// repeated fields stay sorted, every transfer fits its replicas (Active source, Partial target of
// its generation), and no shard ever loses its last Active replica to a state change.
RC_GTEST_PROP(ClusterStateTest, InvariantsHoldUnderRandomOperations, ()) {
  ClusterStateMachine sm;
  // Start from three peers and a collection, so that most operations have something to act on.
  for (uint64_t id = 1; id <= 3; ++id) RC_ASSERT(sm.Apply(AddPeer(id)).ok());
  RC_ASSERT(sm.Apply(Create("a", *rc::gen::inRange<uint32_t>(1, 4), *rc::gen::inRange<uint32_t>(1, 4))).ok());
  const int steps = *rc::gen::element(5, 20, 60);
  int started = 0;  // transfers that started (reported: the property must reach them)
  for (int i = 0; i < steps; ++i) {
    // Kinds 0-5 change peers, collections and replicas; 6-9 drive transfers, so they come more often.
    const int kind = *rc::gen::weightedElement<int>(
        {{2, 0}, {2, 1}, {3, 2}, {1, 3}, {1, 4}, {1, 5}, {5, 6}, {2, 7}, {2, 8}, {4, 9}});
    const uint64_t peer = *rc::gen::element<uint64_t>(1, 2, 3, 4, 5);
    const std::string coll = *rc::gen::element<std::string>("a", "a", "a", "b");
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
      case 5: op.mutable_delete_collection()->set_name(coll); break;
      case 6: {  // from an Active replica of shard 0 when there is one, else from anywhere
        uint64_t from = *rc::gen::inRange<uint64_t>(1, 6);
        if (const auto* c = sm.FindCollection(coll); c != nullptr && *rc::gen::arbitrary<bool>()) {
          for (const auto& r : c->shards(0).replicas()) {
            if (r.state() == consensuspb::ACTIVE) from = r.peer_id();
          }
        }
        op = Transfer(from, peer, *rc::gen::arbitrary<bool>());
        op.mutable_start_transfer()->set_collection(coll);
        break;
      }
      case 7:
      case 8: {  // of a running transfer when there is one, else of none
        uint64_t from = *rc::gen::inRange<uint64_t>(1, 6), to = peer;
        if (const auto* c = sm.FindCollection(coll); c != nullptr && !c->transfers().empty()) {
          from = c->transfers(0).from();
          to = c->transfers(0).to();
        }
        op = kind == 7 ? Finish(from, to) : Abort(from, to);
        if (op.has_finish_transfer()) op.mutable_finish_transfer()->set_collection(coll);
        if (op.has_abort_transfer()) op.mutable_abort_transfer()->set_collection(coll);
        break;
      }
      default: {  // shard 0 of `coll` Active on `peer`, so that transfers have sources
        op = SetState(coll, 0, peer, consensuspb::ACTIVE);
      }
    }
    // Count shards with an Active replica before; a refused op must leave the state unchanged.
    const std::string before = sm.Snapshot();
    const absl::Status s = sm.Apply(op);
    if (!s.ok()) RC_ASSERT(sm.Snapshot() == before);
    for (int j = 1; j < sm.state().peers_size(); ++j) RC_ASSERT(sm.state().peers(j - 1).id() < sm.state().peers(j).id());
    RC_ASSERT(TransfersFitTheirReplicas(sm));
    if (op.has_start_transfer() && s.ok()) ++started;
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
  RC_CLASSIFY(started > 0, "a transfer started");
}

}  // namespace
}  // namespace qdsim::consensus
