// ShardStore: durability ordering, recovery, idempotence, snapshots and disk failures.
#include "node/shard/shard_store.h"

#include <gtest/gtest.h>

#include "node/shard/wal.h"
#include "node/world/records.h"
#include "tests/node/shard/test_util.h"

namespace qdsim::shard {
namespace {

using testing::ApplyNow;
using testing::DeleteOp;
using testing::Dump;
using testing::MakePoint;
using testing::MemDisk;
using testing::SnapshotNow;
using testing::UpsertOp;

constexpr char kDir[] = "shards/0";
constexpr char kWal[] = "shards/0/wal";
constexpr char kSnap[] = "shards/0/snapshot";

// MemDisk whose next appends or syncs can be made to fail.
class FaultyDisk : public MemDisk {
 public:
  absl::Status Append(std::string_view file, std::string_view data) override {
    if (!append_error.ok()) return append_error;
    return MemDisk::Append(file, data);
  }
  void Sync(std::string_view file, SyncCallback done) override {
    if (fail_syncs) {
      return MemDisk::Sync(file, [done](absl::Status) { done(absl::DataLossError("sync failed")); });
    }
    MemDisk::Sync(file, std::move(done));
  }
  absl::Status append_error;  // returned by Append while not OK
  bool fail_syncs = false;    // syncs complete with an error while set
};

ShardConfig Config() { return testing::DenseConfig(2, Distance::kDot); }

std::unique_ptr<ShardStore> OpenOk(world::Disk& disk) {
  auto store = ShardStore::Open(disk, kDir, Config());
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

TEST(ShardStoreTest, DoneRunsOnlyAfterTheSyncAndReadsSeeOnlyDurableState) {
  MemDisk disk;
  auto store = OpenOk(disk);
  bool done = false;
  store->Apply(UpsertOp(1, {MakePoint(1, {1, 2})}), [&](absl::Status s) {
    EXPECT_TRUE(s.ok());
    done = true;
  });
  EXPECT_FALSE(done);
  EXPECT_EQ(store->points_count(), 0u);
  EXPECT_EQ(store->last_seq(), 0u);
  disk.RunSyncs();
  EXPECT_TRUE(done);
  EXPECT_EQ(store->points_count(), 1u);
  EXPECT_EQ(store->last_seq(), 1u);
}

// The planted bug shard_ack_before_sync (cluster_bugs.h) breaks exactly the rule above: the write
// is applied and acknowledged while its sync is still pending.
TEST(ShardStoreTest, PlantedAckBeforeSyncAcknowledgesBeforeTheSync) {
  MemDisk disk;
  auto store = OpenOk(disk);
  ClusterBugs bugs;
  bugs.Set(ClusterBug::kShardAckBeforeSync);
  store->set_planted_bugs(bugs);
  bool done = false;
  store->Apply(UpsertOp(1, {MakePoint(1, {1, 2})}), [&](absl::Status s) {
    EXPECT_TRUE(s.ok());
    done = true;
  });
  EXPECT_TRUE(done) << "acknowledged with the sync pending";
  EXPECT_EQ(store->points_count(), 1u);
  disk.RunSyncs();
  EXPECT_EQ(store->last_seq(), 1u);
}

TEST(ClusterBugsTest, NamesRoundTrip) {
  for (size_t i = 0; i < static_cast<size_t>(ClusterBug::kCount); ++i) {
    const auto bug = static_cast<ClusterBug>(i);
    absl::StatusOr<ClusterBug> parsed = ParseClusterBug(PlantedBugName(bug));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, bug);
  }
  EXPECT_EQ(PlantedBugName(ClusterBug::kTransferNoForward), "transfer_no_forward");
  absl::StatusOr<ClusterBug> unknown = ParseClusterBug("no_such_bug");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("known: shard_ack_before_sync, transfer_no_forward"), std::string::npos)
      << unknown.status();
  ClusterBugs bugs;
  bugs.Set(ClusterBug::kSearchShardQuota);
  bugs.Set(ClusterBug::kShardAckBeforeSync);
  EXPECT_EQ(bugs.ToString(), "shard_ack_before_sync,search_shard_quota");
}

// While a reader has the store pinned (a search on a helper thread), a write whose sync completes
// is applied only at the last unpin, later writes wait behind it, and the store is not idle (its
// owner must not free it).
TEST(ShardStoreTest, PinnedStoreAppliesNothingUntilUnpinned) {
  MemDisk disk;
  auto store = OpenOk(disk);
  std::vector<absl::Status> results;
  store->PinForRead();
  store->PinForRead();
  EXPECT_FALSE(store->idle());
  store->Apply(UpsertOp(1, {MakePoint(1, {1, 2})}), [&](absl::Status s) { results.push_back(s); });
  store->Apply(UpsertOp(2, {MakePoint(2, {1, 2})}), [&](absl::Status s) { results.push_back(s); });
  disk.RunSyncs();
  EXPECT_TRUE(results.empty()) << "durable but not applied while pinned";
  EXPECT_EQ(store->points_count(), 0u);
  store->UnpinRead();
  EXPECT_EQ(store->points_count(), 0u) << "one reader is still there";
  store->UnpinRead();
  disk.RunSyncs();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].ok() && results[1].ok());
  EXPECT_EQ(store->points_count(), 2u);
  EXPECT_TRUE(store->idle());
}

TEST(ShardStoreTest, QueuedOpsSeeTheirPredecessors) {
  MemDisk disk;
  auto store = OpenOk(disk);
  std::vector<absl::Status> results;
  store->Apply(UpsertOp(1, {MakePoint(7, {1, 2})}), [&](absl::Status s) { results.push_back(s); });
  shardpb::ShardOperation clear;
  clear.set_seq(2);
  *clear.mutable_clear_payload()->mutable_selector()->mutable_ids()->add_ids() = NumId(7);
  store->Apply(clear, [&](absl::Status s) { results.push_back(s); });
  disk.RunSyncs();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].ok());
  EXPECT_TRUE(results[1].ok()) << results[1];
  EXPECT_EQ(store->last_seq(), 2u);
}

TEST(ShardStoreTest, ReopenRecoversEveryAcknowledgedOp) {
  MemDisk disk;
  auto store = OpenOk(disk);
  ASSERT_TRUE(ApplyNow(*store, disk, UpsertOp(1, {MakePoint(1, {1, 2}, R"({"a": 1})"), MakePoint(2, {3, 4})})).ok());
  ASSERT_TRUE(ApplyNow(*store, disk, DeleteOp(2, {1})).ok());
  ASSERT_TRUE(ApplyNow(*store, disk, UpsertOp(5, {MakePoint(3, {0, 1})})).ok());
  auto again = OpenOk(disk);
  EXPECT_EQ(Dump(again->table()), Dump(store->table()));
  EXPECT_EQ(again->last_seq(), 5u);
  EXPECT_EQ(again->recovery().replayed_ops, 3u);
  EXPECT_EQ(again->recovery().dropped_tail_bytes, 0u);
}

TEST(ShardStoreTest, RetriesAreAcknowledgedWithoutReapplying) {
  MemDisk disk;
  auto store = OpenOk(disk);
  ASSERT_TRUE(ApplyNow(*store, disk, UpsertOp(3, {MakePoint(1, {1, 2})})).ok());
  ASSERT_TRUE(ApplyNow(*store, disk, DeleteOp(4, {1})).ok());
  const std::string wal = disk.files()[kWal];
  EXPECT_TRUE(ApplyNow(*store, disk, UpsertOp(3, {MakePoint(1, {1, 2})})).ok());
  EXPECT_TRUE(ApplyNow(*store, disk, UpsertOp(2, {MakePoint(9, {1, 2})})).ok());
  EXPECT_EQ(store->points_count(), 0u);
  EXPECT_EQ(disk.files()[kWal], wal);
  EXPECT_TRUE(absl::IsInvalidArgument(ApplyNow(*store, disk, UpsertOp(0, {MakePoint(9, {1, 2})}))));
}

TEST(ShardStoreTest, RejectedOpsChangeNeitherMemoryNorDisk) {
  MemDisk disk;
  auto store = OpenOk(disk);
  ASSERT_TRUE(ApplyNow(*store, disk, UpsertOp(1, {MakePoint(1, {1, 2})})).ok());
  const std::string wal = disk.files()[kWal];
  const std::string before = Dump(store->table());
  const absl::Status s = ApplyNow(*store, disk, UpsertOp(2, {MakePoint(2, {1, 2}), MakePoint(3, {1})}));
  EXPECT_EQ(s.message(), "Wrong input: Vector dimension error: expected dim: 2, got 1");
  EXPECT_EQ(Dump(store->table()), before);
  EXPECT_EQ(store->last_seq(), 1u);
  EXPECT_EQ(disk.files()[kWal], wal);
  // The rejected seq stays free for a valid op.
  EXPECT_TRUE(ApplyNow(*store, disk, UpsertOp(2, {MakePoint(2, {1, 2})})).ok());
}

// Regression: Protobuf serializes a proto3 string with invalid UTF-8 but will not parse it back, so
// logging such an op would have made recovery truncate the WAL at it (noticed while fuzzing
// snapshots, whose payload parsing logs the same refusal).
TEST(ShardStoreTest, OpsThatCouldNotBeReplayedAreRejected) {
  MemDisk disk;
  auto store = OpenOk(disk);
  ASSERT_TRUE(ApplyNow(*store, disk, UpsertOp(1, {MakePoint(1, {1, 2})})).ok());
  const std::string wal = disk.files()[kWal];
  shardpb::Point p = MakePoint(2, {1, 2});
  (*p.mutable_payload()->mutable_fields())["bad\xff"].set_bool_value(true);
  EXPECT_TRUE(absl::IsInvalidArgument(ApplyNow(*store, disk, UpsertOp(2, {p}))));
  EXPECT_EQ(disk.files()[kWal], wal);
  EXPECT_EQ(store->points_count(), 1u);
  ASSERT_TRUE(ApplyNow(*store, disk, UpsertOp(3, {MakePoint(3, {1, 2})})).ok());
  EXPECT_EQ(OpenOk(disk)->points_count(), 2u);
}

TEST(ShardStoreTest, TornTailIsTruncatedAndReported) {
  MemDisk disk;
  auto store = OpenOk(disk);
  ASSERT_TRUE(ApplyNow(*store, disk, UpsertOp(1, {MakePoint(1, {1, 2})})).ok());
  ASSERT_TRUE(ApplyNow(*store, disk, UpsertOp(2, {MakePoint(2, {1, 2})})).ok());
  const size_t first =
      world::EncodeRecord(kWalOp, DeterministicBytes(UpsertOp(1, {MakePoint(1, {1, 2})}))).size();
  const size_t full = disk.files()[kWal].size();
  disk.files()[kWal].resize(full - 4);
  auto again = OpenOk(disk);
  EXPECT_EQ(again->last_seq(), 1u);
  EXPECT_EQ(again->recovery().dropped_tail_bytes, full - 4 - first);
  EXPECT_EQ(disk.files()[kWal].size(), first);
  // New ops continue the truncated log.
  ASSERT_TRUE(ApplyNow(*again, disk, UpsertOp(3, {MakePoint(3, {1, 2})})).ok());
  EXPECT_EQ(OpenOk(disk)->points_count(), 2u);
}

TEST(ShardStoreTest, SnapshotRoundTripAndWalIsEmptied) {
  MemDisk disk;
  ShardConfig config;
  config.dense[""] = {2, Distance::kCosine};
  config.sparse.insert("s");
  auto store = *ShardStore::Open(disk, kDir, config);
  shardpb::Point p = MakePoint(1, {3, 4}, R"({"a": [1, "x", null, {"b": true}]})");
  (*p.mutable_vectors()->mutable_vectors())["s"] = testing::Sparse({9, 2}, {1, 2});
  shardpb::Point u = MakePoint(0, {}, R"({"u": 1})");
  *u.mutable_id() = UuidId(*ParseUuid("123e4567-e89b-12d3-a456-426614174000"));
  ASSERT_TRUE(ApplyNow(*store, disk, UpsertOp(4, {p, u})).ok());
  ASSERT_TRUE(SnapshotNow(*store, disk).ok());
  EXPECT_EQ(disk.files()[kWal], "");
  EXPECT_FALSE(disk.files().count("shards/0/snapshot.tmp"));
  ASSERT_TRUE(ApplyNow(*store, disk, DeleteOp(5, {1})).ok());
  auto again = ShardStore::Open(disk, kDir, config);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE((*again)->recovery().from_snapshot);
  EXPECT_EQ((*again)->recovery().snapshot_seq, 4u);
  EXPECT_EQ((*again)->recovery().replayed_ops, 1u);
  EXPECT_EQ(Dump((*again)->table()), Dump(store->table()));
  EXPECT_EQ((*again)->last_seq(), 5u);
}

TEST(ShardStoreTest, CrashAtEverySnapshotStepRecoversTheSameState) {
  testing::StepDisk disk;
  auto store = OpenOk(disk);
  ASSERT_TRUE(ApplyNow(*store, disk, UpsertOp(1, {MakePoint(1, {1, 2}), MakePoint(2, {2, 1})})).ok());
  ASSERT_TRUE(SnapshotNow(*store, disk).ok());
  ASSERT_TRUE(ApplyNow(*store, disk, DeleteOp(2, {1})).ok());
  const std::string expected = Dump(store->table());
  // Run a second snapshot one sync at a time, crashing (copying the disk) before each step.
  bool finished = false;
  store->CreateSnapshot([&](absl::Status s) { finished = s.ok(); });
  // An op issued meanwhile waits behind the snapshot.
  bool op_done = false;
  store->Apply(UpsertOp(3, {MakePoint(3, {0, 1})}), [&](absl::Status) { op_done = true; });
  int crashes = 0;
  while (!finished) {
    MemDisk crashed;
    crashed.files() = disk.files();
    auto recovered = OpenOk(crashed);
    ASSERT_NE(recovered, nullptr);
    EXPECT_EQ(Dump(recovered->table()), expected) << "crash point " << crashes;
    ++crashes;
    EXPECT_FALSE(op_done);
    ASSERT_TRUE(disk.RunOneSync());
  }
  EXPECT_EQ(crashes, 3);  // before: snapshot.tmp synced, the rename synced, the WAL emptied
  disk.RunSyncs();
  EXPECT_TRUE(op_done);
  EXPECT_EQ(OpenOk(disk)->points_count(), 2u);
}

TEST(ShardStoreTest, CorruptSnapshotIsDataLoss) {
  MemDisk disk;
  auto store = OpenOk(disk);
  ASSERT_TRUE(ApplyNow(*store, disk, UpsertOp(1, {MakePoint(1, {1, 2})})).ok());
  ASSERT_TRUE(SnapshotNow(*store, disk).ok());
  std::string& snap = disk.files()[kSnap];
  snap[snap.size() / 2] ^= 0x10;
  EXPECT_TRUE(absl::IsDataLoss(ShardStore::Open(disk, kDir, Config()).status()));
  // A checksummed record holding garbage fails the verifier instead.
  snap = world::EncodeRecord(kSnapshotRecord, "not a flatbuffer at all");
  EXPECT_TRUE(absl::IsDataLoss(ShardStore::Open(disk, kDir, Config()).status()));
}

TEST(ShardStoreTest, SnapshotFromAnotherConfigIsRejected) {
  MemDisk disk;
  auto store = OpenOk(disk);
  ASSERT_TRUE(ApplyNow(*store, disk, UpsertOp(1, {MakePoint(1, {1, 2})})).ok());
  ASSERT_TRUE(SnapshotNow(*store, disk).ok());
  auto other = ShardStore::Open(disk, kDir, testing::DenseConfig(3, Distance::kDot));
  EXPECT_TRUE(absl::IsDataLoss(other.status())) << other.status();
}

TEST(ShardStoreTest, FailedSyncStopsWritesUntilReopen) {
  FaultyDisk disk;
  auto store = OpenOk(disk);
  disk.fail_syncs = true;
  absl::Status first = ApplyNow(*store, disk, UpsertOp(1, {MakePoint(1, {1, 2})}));
  EXPECT_TRUE(absl::IsDataLoss(first));
  EXPECT_EQ(store->points_count(), 0u);
  disk.fail_syncs = false;
  EXPECT_FALSE(ApplyNow(*store, disk, UpsertOp(2, {MakePoint(2, {1, 2})})).ok());
  EXPECT_FALSE(store->failure().ok());
  // The disk kept the record, so a reopened store has it.
  auto again = OpenOk(disk);
  EXPECT_EQ(again->points_count(), 1u);
  EXPECT_TRUE(ApplyNow(*again, disk, UpsertOp(2, {MakePoint(2, {1, 2})})).ok());
}

TEST(ShardStoreTest, FullDiskFailsOnlyThatWrite) {
  FaultyDisk disk;
  auto store = OpenOk(disk);
  disk.append_error = absl::ResourceExhaustedError("disk full");
  EXPECT_TRUE(absl::IsResourceExhausted(ApplyNow(*store, disk, UpsertOp(1, {MakePoint(1, {1, 2})}))));
  disk.append_error = absl::OkStatus();
  EXPECT_TRUE(ApplyNow(*store, disk, UpsertOp(1, {MakePoint(1, {1, 2})})).ok());
  EXPECT_TRUE(store->failure().ok());
}

TEST(ShardStoreTest, ExportImportReproducesTheShard) {
  MemDisk disk;
  ShardConfig config = testing::DenseConfig(2, Distance::kCosine);
  auto source = *ShardStore::Open(disk, "a", config);
  std::vector<shardpb::Point> points;
  for (uint64_t i = 0; i < 250; ++i) {
    points.push_back(MakePoint(i, {static_cast<float>(i % 7) + 1, 3}, R"({"k": "v"})"));
  }
  ASSERT_TRUE(ApplyNow(*source, disk, UpsertOp(1, points)).ok());
  const auto batches = source->ExportBatches(100);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[2].points_size(), 50);
  auto target = *ShardStore::Open(disk, "b", config);
  uint64_t seq = 1;
  for (const auto& b : batches) {
    absl::Status result;
    target->ImportBatch(b, seq++, [&](absl::Status s) { result = s; });
    disk.RunSyncs();
    ASSERT_TRUE(result.ok()) << result;
  }
  // Same ids, payloads and vector bits (versions differ: they are the target's own seqs).
  std::string a, b;
  for (const auto& [k, p] : source->table().points()) a += k.ToString() + p.vectors.at("").SerializeAsString();
  for (const auto& [k, p] : target->table().points()) b += k.ToString() + p.vectors.at("").SerializeAsString();
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace qdsim::shard
