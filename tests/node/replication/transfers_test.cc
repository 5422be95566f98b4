// ShardTransfers in the simulator: replicate_shard and move_shard copy every point, writes applied
// at the source while it streams reach the target (and writes that never stop do not keep it from
// finishing), Dead replicas recover by themselves (one at a time within the limits), a crashed
// source or target makes the transfer abort and recovery try again — never resuming a stream after
// a restart — and a user's abort removes a new target.
#include "node/replication/transfers.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "node/replication/anti_entropy.h"
#include "tests/node/consensus/consensus_cluster.h"

namespace qdsim::replication {
namespace {

using consensus::testing::ConsensusCluster;
using sim::PeerId;

struct Parts {
  Parts(ConsensusCluster::Node& node, TransferLimits limits, bool with_anti_entropy)
      : shards(node.env, node.consensus),
        service(node.env.transport().Self(), *node.rpc, shards, node.consensus),
        transfers(node.env, node.env.transport().Self(), *node.rpc, node.consensus, shards, service, limits) {
    if (!with_anti_entropy) return;
    marks = std::make_unique<DeadMarks>(node.env, node.consensus);
    anti_entropy = std::make_unique<AntiEntropy>(node.env, node.env.transport().Self(), *node.rpc, node.consensus,
                                                 shards, *marks);
  }
  collection::LocalShards shards;
  ReplicaService service;
  ShardTransfers transfers;
  std::unique_ptr<DeadMarks> marks;           // with anti-entropy only
  std::unique_ptr<AntiEntropy> anti_entropy;  // off unless asked for: most tests make replicas differ
};

Parts& P(ConsensusCluster& c, PeerId id) { return *static_cast<Parts*>(c.node(id)->extra.get()); }

// `peers` peers with collection "docs" of `shards` shards and replication factor `rf`, every
// replica Active.
std::unique_ptr<ConsensusCluster> Cluster(uint32_t peers, uint32_t shards, uint32_t rf, uint64_t seed,
                                          TransferLimits limits = {}, bool with_anti_entropy = false) {
  auto c = std::make_unique<ConsensusCluster>(peers, seed, [limits, with_anti_entropy](ConsensusCluster::Node& node) {
    node.extra = std::make_shared<Parts>(node, limits, with_anti_entropy);
  });
  EXPECT_TRUE(c->RegisterPeers());
  EXPECT_TRUE(c->ProposeAndWait(1, consensus::testing::CreateCollectionOp("docs", shards, rf))->ok());
  c->RunFor(world::Seconds(2));
  return c;
}

shardpb::Point Point(uint64_t id, float salt) {
  shardpb::Point p;
  p.mutable_id()->set_num(id);
  auto* v = (*p.mutable_vectors()->mutable_vectors())[""].mutable_dense();
  v->add_values(static_cast<float>(id) + salt);
  v->add_values(salt);
  return p;
}

shardpb::ShardOperation Upsert(uint64_t first, uint64_t count, float salt = 0) {
  shardpb::ShardOperation op;
  for (uint64_t id = first; id < first + count; ++id) *op.mutable_upsert()->add_points() = Point(id, salt);
  return op;
}

shardpb::ShardOperation Delete(uint64_t id) {
  shardpb::ShardOperation op;
  op.mutable_delete_points()->add_ids()->set_num(id);
  return op;
}

shardpb::ShardOperation SetPayload(uint64_t id, const std::string& value) {
  shardpb::ShardOperation op;
  op.mutable_set_payload()->mutable_selector()->mutable_ids()->add_ids()->set_num(id);
  (*op.mutable_set_payload()->mutable_payload()->mutable_fields())["tag"].set_string_value(value);
  return op;
}

// Applies `op` from `via` to `peer`'s replica of `shard` and runs until the answer.
absl::StatusOr<uint64_t> ApplyAndWait(ConsensusCluster& c, PeerId via, PeerId peer, shardpb::ShardOperation op,
                                      uint32_t shard = 0) {
  std::optional<absl::StatusOr<uint64_t>> out;
  c.sim().PostToNode(via, c.sim().now(), [&, via, peer, op, shard] {
    P(c, via).service.Apply(peer, "docs", shard, op, world::Seconds(1), [&](absl::StatusOr<uint64_t> r) { out = r; });
  });
  for (int i = 0; i < 300 && !out; ++i) c.RunFor(world::Millis(10));
  return out ? *out : absl::InternalError("no answer");
}

const consensuspb::CollectionState& Docs(ConsensusCluster& c, PeerId via) {
  return *c.node(via)->consensus.metadata().FindCollection("docs");
}

const consensuspb::Replica* ReplicaOn(ConsensusCluster& c, PeerId via, PeerId peer, uint32_t shard = 0) {
  for (const auto& r : Docs(c, via).shards(shard).replicas()) {
    if (r.peer_id() == peer) return &r;
  }
  return nullptr;
}

// Runs until `done` holds (checked every 10 ms) or `limit` passes; true if it held.
bool RunUntil(ConsensusCluster& c, const std::function<bool()>& done, world::Duration limit) {
  for (world::Duration waited{0}; waited < limit; waited += world::Millis(10)) {
    if (done()) return true;
    c.RunFor(world::Millis(10));
  }
  return done();
}

// Every replica of every shard Active, no transfer, as `via` sees it.
bool Settled(ConsensusCluster& c, PeerId via) {
  if (c.node(via) == nullptr || !Docs(c, via).transfers().empty()) return false;
  for (const auto& s : Docs(c, via).shards()) {
    for (const auto& r : s.replicas()) {
      if (r.state() != consensuspb::ACTIVE) return false;
    }
  }
  return true;
}

// The points of `peer`'s replica of `shard`, serialized deterministically (empty if none is open).
std::string Contents(ConsensusCluster& c, PeerId peer, uint32_t shard = 0) {
  const shard::ShardStore* store = P(c, peer).shards.Find("docs", shard);
  if (store == nullptr) return "";
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    for (const shardpb::PointBatch& batch : store->ExportBatches(ShardTransfers::kBatchSize)) {
      batch.SerializeToCodedStream(&coded);
    }
  }
  return out;
}

uint64_t Count(ConsensusCluster& c, PeerId peer, uint32_t shard = 0) {
  const shard::ShardStore* store = P(c, peer).shards.Find("docs", shard);
  return store == nullptr ? 0 : store->points_count();
}

consensuspb::Operation StartOp(uint32_t shard, PeerId from, PeerId to, bool sync) {
  consensuspb::Operation op;
  op.mutable_start_transfer()->set_collection("docs");
  auto* t = op.mutable_start_transfer()->mutable_transfer();
  t->set_shard_id(shard);
  t->set_from(from);
  t->set_to(to);
  t->set_sync(sync);
  t->set_method("stream_records");
  return op;
}

consensuspb::Operation DeadOp(uint32_t shard, PeerId peer) {
  consensuspb::Operation op;
  auto* s = op.mutable_set_replica_state();
  s->set_collection("docs");
  s->set_shard_id(shard);
  s->set_peer_id(peer);
  s->set_state(consensuspb::DEAD);
  s->set_from_state(consensuspb::ACTIVE);
  return op;
}

// Writes `count` points to every replica of shard 0, in upserts of 50.
void Fill(ConsensusCluster& c, uint64_t count) {
  for (const auto& r : Docs(c, 1).shards(0).replicas()) {
    for (uint64_t first = 0; first < count; first += 50) {
      ASSERT_TRUE(ApplyAndWait(c, r.peer_id(), r.peer_id(), Upsert(first, std::min<uint64_t>(50, count - first))).ok());
    }
  }
}

// Target generations of the transfers `via` has seen so far (polled).
struct TransferLog {
  std::set<uint64_t> generations;
  size_t most_into_one_peer = 0;
  void Poll(ConsensusCluster& c, PeerId via) {
    if (c.node(via) == nullptr) return;
    std::map<uint64_t, size_t> into;
    for (const auto& t : Docs(c, via).transfers()) {
      generations.insert(t.target_generation());
      most_into_one_peer = std::max(most_into_one_peer, ++into[t.to()]);
    }
  }
};

const uint64_t kSeeds[] = {1, 2, 3};

TEST(TransferTest, ReplicateShardCopiesEveryPointInBatchesAndActivatesTheTarget) {
  for (uint64_t seed : kSeeds) {
    SCOPED_TRACE(seed);
    auto c = Cluster(3, 1, 1, seed);
    const PeerId source = Docs(*c, 1).shards(0).replicas(0).peer_id();
    const PeerId target = source % 3 + 1;
    Fill(*c, 250);  // three batches
    ASSERT_TRUE(c->ProposeAndWait(1, StartOp(0, source, target, /*sync=*/true))->ok());
    ASSERT_TRUE(RunUntil(*c, [&] { return Settled(*c, 1); }, world::Seconds(30)));
    ASSERT_NE(ReplicaOn(*c, 1, source), nullptr) << "replicate keeps the source";
    EXPECT_EQ(Count(*c, target), 250u);
    EXPECT_EQ(Contents(*c, target), Contents(*c, source));
    c->RunFor(world::Seconds(10));
    EXPECT_EQ(P(*c, source).transfers.outgoing_streams(), 0u) << "the stream is forgotten after its drain";
  }
}

TEST(TransferTest, MoveShardGivesUpTheSource) {
  auto c = Cluster(3, 1, 1, 4);
  const PeerId source = Docs(*c, 1).shards(0).replicas(0).peer_id();
  const PeerId target = source % 3 + 1;
  Fill(*c, 120);
  const std::string before = Contents(*c, source);
  ASSERT_TRUE(c->ProposeAndWait(1, StartOp(0, source, target, /*sync=*/false))->ok());
  ASSERT_TRUE(RunUntil(*c, [&] { return Settled(*c, 1); }, world::Seconds(30)));
  ASSERT_EQ(Docs(*c, 1).shards(0).replicas_size(), 1);
  EXPECT_EQ(Docs(*c, 1).shards(0).replicas(0).peer_id(), target);
  EXPECT_EQ(Contents(*c, target), before);
  EXPECT_EQ(P(*c, source).shards.Find("docs", 0), nullptr) << "the source's replica is dropped";
}

// Writes applied at the source while it streams — new points, upserts and deletes of points
// already streamed, payload updates — reach the target, so that both end identical: through the
// forward queue alone when they are applied at the source only (`fan_out` false), and also when
// the writer sends them to the target directly as well, as PointWriter does, in which case the
// target applies most of them twice. Returns the number of writes issued while the source saw the
// transfer, and how many of `count` writes were left when it ended.
std::pair<size_t, size_t> WritesDuringTheTransfer(uint64_t seed, bool fan_out, uint64_t points, size_t count) {
  auto c = Cluster(3, 1, 1, seed);
  const PeerId source = Docs(*c, 1).shards(0).replicas(0).peer_id();
  const PeerId target = source % 3 + 1;
  Fill(*c, points);
  std::vector<shardpb::ShardOperation> writes;
  for (uint64_t i = 0; i < count; ++i) {
    switch (i % 4) {
      case 0: writes.push_back(Upsert(1000 + i, 3, 0.5f)); break;           // new points
      case 1: writes.push_back(Upsert((i * 7) % points, 1, 2.0f + i)); break;  // already streamed
      case 2: writes.push_back(Delete((i * 13) % points)); break;
      default: writes.push_back(SetPayload((i * 11) % points, absl::StrCat("v", i))); break;
    }
  }
  // One write after another while the source sees the transfer (and, fanning out, for a while after).
  size_t next = 0, during = 0, left = 0;
  bool transfer_seen = false;
  std::function<void()> write = [&] {
    const bool running = !Docs(*c, source).transfers().empty();
    if (transfer_seen && !running && left == 0) left = writes.size() - next;
    transfer_seen |= running;
    if (next == writes.size() || (transfer_seen && !running && !fan_out)) return;
    during += running;
    const shardpb::ShardOperation op = writes[next++];
    auto answers = std::make_shared<int>(0);
    const int expected = fan_out && ReplicaOn(*c, source, target) != nullptr ? 2 : 1;
    auto answered = [&, answers, expected](absl::StatusOr<uint64_t>) {
      if (++*answers == expected) c->sim().PostToNode(source, c->sim().now() + world::Millis(1), write);
    };
    P(*c, source).service.ApplyLocal("docs", 0, op, answered);
    if (expected == 2) P(*c, source).service.Apply(target, "docs", 0, op, world::Seconds(1), answered);
  };
  EXPECT_TRUE(c->ProposeAndWait(1, StartOp(0, source, target, /*sync=*/true))->ok());
  c->sim().PostToNode(source, c->sim().now(), write);
  EXPECT_TRUE(RunUntil(*c, [&] { return Settled(*c, 1) && Settled(*c, source); }, world::Seconds(120)));
  RunUntil(*c, [&] { return next == writes.size() || (!fan_out && left > 0); }, world::Seconds(60));
  c->RunFor(world::Seconds(10));
  EXPECT_EQ(Contents(*c, target), Contents(*c, source));
  return {during, left};
}

TEST(TransferTest, WritesAppliedAtTheSourceDuringTheTransferReachTheTarget) {
  for (uint64_t seed : kSeeds) {
    SCOPED_TRACE(seed);
    EXPECT_GT(WritesDuringTheTransfer(10 + seed, /*fan_out=*/false, 800, 300).first, 100u)
        << "writes overlapped the transfer";
  }
}

TEST(TransferTest, WritesSentToBothEndsDuringTheTransferLeaveThemIdentical) {
  for (uint64_t seed : kSeeds) {
    SCOPED_TRACE(seed);
    EXPECT_GT(WritesDuringTheTransfer(15 + seed, /*fan_out=*/true, 3000, 300).first, 20u)
        << "writes overlapped the transfer";
  }
}

// Writes that never leave the forward queue empty do not hold the finish back for ever; the
// writes go to both ends, as writers send them, so the target misses none after the finish.
TEST(TransferTest, TransferFinishesUnderWritesThatNeverStop) {
  const auto [during, left] = WritesDuringTheTransfer(19, /*fan_out=*/true, 800, 5000);
  EXPECT_GT(during, 10u);
  EXPECT_GT(left, 0u) << "the transfer finished while writes went on";
}

TEST(TransferTest, DeadReplicaIsRecoveredAutomatically) {
  for (uint64_t seed : kSeeds) {
    SCOPED_TRACE(seed);
    auto c = Cluster(3, 1, 2, 20 + seed);
    Fill(*c, 230);
    const PeerId dead = Docs(*c, 1).shards(0).replicas(1).peer_id();
    const PeerId alive = Docs(*c, 1).shards(0).replicas(0).peer_id();
    const uint64_t generation = ReplicaOn(*c, 1, dead)->generation();
    // Writes the Dead replica misses, and a point deleted only on the Active one.
    ASSERT_TRUE(c->ProposeAndWait(1, DeadOp(0, dead))->ok());
    ASSERT_TRUE(ApplyAndWait(*c, alive, alive, Upsert(500, 20, 1.0f)).ok());
    ASSERT_TRUE(ApplyAndWait(*c, alive, alive, Delete(3)).ok());
    ASSERT_TRUE(RunUntil(*c, [&] { return Settled(*c, 1); }, world::Seconds(30)));
    EXPECT_GT(ReplicaOn(*c, 1, dead)->generation(), generation) << "recovered into a new life";
    EXPECT_EQ(Count(*c, dead), 249u);
    EXPECT_EQ(Contents(*c, dead), Contents(*c, alive));
  }
}

// A shard large enough that its transfer takes a while; `target` Dead; runs until the target has
// received part of it. Returns false if that never happened.
bool StartRecoveryAndStopMidway(ConsensusCluster& c, PeerId target) {
  if (!c.ProposeAndWait(1, DeadOp(0, target))->ok()) return false;
  return RunUntil(
      c,
      [&] {
        const auto& ts = Docs(c, 1).transfers();
        return !ts.empty() && Count(c, target) >= 300 && Count(c, target) < 2000;
      },
      world::Seconds(30));
}

// Crashes one end of a recovery half-way, for `down`, and checks the interrupted transfer is aborted
// and a later one completes. The third peer, a witness, watches the metadata throughout.
void CrashMidTransferThenRecover(uint64_t seed, bool crash_source) {
  for (world::Duration down : {world::Seconds(5), world::Seconds(45)}) {
    SCOPED_TRACE(world::ToSeconds(down));
    auto c = Cluster(3, 1, 2, seed);
    Fill(*c, 2500);
    const PeerId source = Docs(*c, 1).shards(0).replicas(0).peer_id();
    const PeerId target = Docs(*c, 1).shards(0).replicas(1).peer_id();
    const PeerId witness = 6 - source - target;
    const PeerId crashed = crash_source ? source : target;
    ASSERT_TRUE(StartRecoveryAndStopMidway(*c, target));
    TransferLog log;
    log.Poll(*c, witness);
    c->sim().Crash(crashed);
    RunUntil(*c, [&] { log.Poll(*c, witness); return false; }, down);
    c->sim().Restart(crashed);
    ASSERT_TRUE(RunUntil(*c, [&] { log.Poll(*c, witness); return Settled(*c, witness); }, world::Seconds(90)));
    EXPECT_GE(log.generations.size(), 2u) << "the interrupted transfer was aborted and another one ran";
    if (!crash_source) c->RunFor(world::Seconds(1));  // the restarted target catches up on the metadata
    EXPECT_EQ(Count(*c, target), 2500u);
    EXPECT_EQ(Contents(*c, target), Contents(*c, source));
  }
}

TEST(TransferTest, SourceCrashMidTransferAbortsItAndRecoveryCompletesAfterRestart) {
  CrashMidTransferThenRecover(31, /*crash_source=*/true);
}

TEST(TransferTest, TargetCrashMidTransferAbortsItAndRecoveryCompletesLater) {
  CrashMidTransferThenRecover(41, /*crash_source=*/false);
}

// Both ends restart mid-stream: the target has half the stream on disk and no memory of it, so
// a source that started the stream again from item 0 would be taken at its word. The durable mark
// makes the restarted source abort the transfer instead, and recovery starts a new one.
TEST(TransferTest, BothEndsRestartingMidTransferNeverResumeTheStream) {
  for (uint64_t seed : kSeeds) {
    SCOPED_TRACE(seed);
    auto c = Cluster(3, 1, 2, 45 + seed);
    Fill(*c, 2500);
    const PeerId source = Docs(*c, 1).shards(0).replicas(0).peer_id();
    const PeerId target = Docs(*c, 1).shards(0).replicas(1).peer_id();
    const PeerId witness = 6 - source - target;
    ASSERT_TRUE(StartRecoveryAndStopMidway(*c, target));
    TransferLog log;
    log.Poll(*c, witness);
    const uint64_t interrupted = *log.generations.begin();
    c->sim().Crash(source);
    c->sim().Crash(target);
    c->RunFor(world::Seconds(2));
    c->sim().Restart(source);
    c->sim().Restart(target);
    ASSERT_TRUE(RunUntil(*c, [&] { log.Poll(*c, witness); return Settled(*c, witness); }, world::Seconds(90)));
    EXPECT_GT(ReplicaOn(*c, witness, target)->generation(), interrupted) << "filled by a new transfer";
    EXPECT_EQ(Count(*c, target), 2500u);
    EXPECT_EQ(Contents(*c, target), Contents(*c, source));
  }
}

TEST(TransferTest, IncomingLimitRecoversDeadReplicasOfOnePeerOneAtATime) {
  auto c = Cluster(3, 2, 3, 51, TransferLimits{.incoming = 1, .outgoing = 1});
  for (uint32_t shard = 0; shard < 2; ++shard) {
    for (PeerId peer = 1; peer <= 3; ++peer) ASSERT_TRUE(ApplyAndWait(*c, peer, peer, Upsert(0, 300), shard).ok());
  }
  size_t most_into_3 = 0;
  c->node(1)->consensus.AddListener([&](const consensuspb::Operation&, const absl::Status&) {
    size_t into = 0;
    for (const auto& t : Docs(*c, 1).transfers()) into += t.to() == 3;
    most_into_3 = std::max(most_into_3, into);
  });
  ASSERT_TRUE(c->ProposeAndWait(1, DeadOp(0, 3))->ok());
  ASSERT_TRUE(c->ProposeAndWait(1, DeadOp(1, 3))->ok());
  TransferLog log;
  ASSERT_TRUE(RunUntil(*c, [&] { log.Poll(*c, 1); return Settled(*c, 1); }, world::Seconds(60)));
  EXPECT_EQ(most_into_3, 1u) << "never two transfers into peer 3 at once";
  EXPECT_EQ(log.generations.size(), 2u) << "both replicas recovered";
  for (uint32_t shard = 0; shard < 2; ++shard) EXPECT_EQ(Contents(*c, 3, shard), Contents(*c, 1, shard));
}

TEST(TransferTest, UserAbortRemovesANewTarget) {
  auto c = Cluster(3, 1, 1, 61);
  const PeerId source = Docs(*c, 1).shards(0).replicas(0).peer_id();
  const PeerId target = source % 3 + 1;
  Fill(*c, 3000);
  ASSERT_TRUE(c->ProposeAndWait(1, StartOp(0, source, target, /*sync=*/false))->ok());
  ASSERT_TRUE(RunUntil(*c, [&] { return Count(*c, target) >= 200; }, world::Seconds(30)));
  consensuspb::Operation abort;
  abort.mutable_abort_transfer()->set_collection("docs");
  abort.mutable_abort_transfer()->set_shard_id(0);
  abort.mutable_abort_transfer()->set_from(source);
  abort.mutable_abort_transfer()->set_to(target);
  abort.mutable_abort_transfer()->set_reason("aborted by the user");
  ASSERT_TRUE(c->ProposeAndWait(1, abort)->ok());
  EXPECT_EQ(ReplicaOn(*c, 1, target), nullptr);
  EXPECT_EQ(ReplicaOn(*c, 1, source)->state(), consensuspb::ACTIVE);
  c->RunFor(world::Seconds(2));
  EXPECT_EQ(P(*c, source).transfers.outgoing_streams(), 0u);
  EXPECT_EQ(P(*c, target).shards.Find("docs", 0), nullptr);
  EXPECT_TRUE(Settled(*c, 1));
}

// Anti-entropy: a write that reached one replica only (its writer crashed before marking the
// others) is found by comparing digests once the replicas are quiet, and the lower peer's replica
// is rebuilt from the higher one, so all three end identical. Equal replicas are left alone.
TEST(AntiEntropyTest, ReplicasThatDivergedAreFoundAndRebuilt) {
  for (uint64_t seed : kSeeds) {
    SCOPED_TRACE(seed);
    auto c = Cluster(3, 1, 3, 60 + seed, {}, /*with_anti_entropy=*/true);
    Fill(*c, 120);
    std::map<PeerId, uint64_t> generations;
    for (PeerId p = 1; p <= 3; ++p) generations[p] = ReplicaOn(*c, 1, p)->generation();
    c->RunFor(world::Seconds(6));  // quiet and equal: compared, nothing to do
    for (PeerId p = 1; p <= 3; ++p) {
      EXPECT_EQ(P(*c, p).anti_entropy->divergences_found(), 0u);
      EXPECT_EQ(ReplicaOn(*c, 1, p)->generation(), generations[p]);
    }
    ASSERT_TRUE(ApplyAndWait(*c, 1, 1, Upsert(500, 1)).ok());  // on peer 1's replica only
    ASSERT_NE(Contents(*c, 1), Contents(*c, 3));
    EXPECT_TRUE(RunUntil(
        *c, [&] { return Settled(*c, 1) && Contents(*c, 1) == Contents(*c, 3) && Contents(*c, 2) == Contents(*c, 3); },
        world::Seconds(30)));
    EXPECT_EQ(Count(*c, 1), 120u) << "the higher peers' replicas were kept";
    EXPECT_GT(ReplicaOn(*c, 1, 1)->generation(), generations[1]) << "peer 1's replica was rebuilt";
    EXPECT_EQ(ReplicaOn(*c, 1, 3)->generation(), generations[3]);
    EXPECT_GE(P(*c, 2).anti_entropy->divergences_found() + P(*c, 3).anti_entropy->divergences_found(), 1u);
  }
}

}  // namespace
}  // namespace qdsim::replication
