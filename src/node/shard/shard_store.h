// ShardStore: one local shard replica — its points, payloads and vectors — made durable on the
// world disk through a write-ahead log and snapshots, recovered after a crash at any instant.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<ShardStore> store, ShardStore::Open(disk, "shards/3", config));
//   shardpb::ShardOperation op;
//   op.set_seq(store->last_seq() + 1);
//   *op.mutable_upsert()->add_points() = point;
//   store->Apply(op, [](absl::Status s) { /* durable and visible to reads once s.ok() */ });
//   auto hits = store->Search({.vector_name = "", .query = q, .limit = 10});
//
// Writes. Apply() runs operations one at a time, in call order: validate against the current state
// (an invalid operation — including one whose strings are not valid UTF-8, which could not be read
// back — is rejected whole and changes nothing), append to `wal`, sync, apply in memory, then call
// `done`. `done` never runs before the sync has completed; reads never see an operation that is
// not durable. Operations are idempotent by seq: one whose seq is at or below
// last_seq() is acknowledged (OK) without being applied again, so replicas can receive retries;
// seqs must be at least 1 and may skip numbers. While an operation waits for its sync, later ones
// queue behind it. `done` may run before Apply() returns when no write is needed (a rejection or an
// acknowledged retry).
//
// Disk failures. A failed sync, or a failed append other than a full disk, leaves the WAL's
// durable content unknown: the store then refuses every later write with that error (reads go on)
// until it is reopened, which recovers whatever the disk kept. A full disk fails only that write.
//
// Snapshots. CreateSnapshot() writes the state as of last_seq() to snapshot.tmp, syncs it, renames
// it over `snapshot`, syncs, then empties the WAL and syncs. It queues like a write (writes wait
// for it). A crash at any step recovers a consistent state: WAL operations at or below the
// snapshot's seq are skipped on replay.
//
// Recovery (Open). Loads `snapshot` if present (its checksum, the FlatBuffers verifier and the
// config are checked: the file is untrusted; DataLoss if it fails), then replays the WAL's longest
// valid prefix (a torn or corrupt tail is truncated; the file is read a few times first because
// reads may flip bits transiently; a checksummed record that is not a parsable operation ends the
// log the same way). A parsable operation that fails validation on replay is DataLoss: something
// other than this store wrote it, and guessing would be worse than refusing to start.
//
// Thread-safety: none; every call and callback on the node's logical thread. The store must
// outlive the callbacks of its pending syncs (a simulated crash drops both together).
#ifndef QDSIM_NODE_SHARD_SHARD_STORE_H_
#define QDSIM_NODE_SHARD_SHARD_STORE_H_

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/shard/cluster_bugs.h"
#include "node/shard/point_table.h"
#include "node/shard/vectors.h"
#include "node/world/disk.h"
#include "proto/shard.pb.h"

namespace qdsim::shard {

class ShardStore {
 public:
  using Done = std::function<void(absl::Status)>;

  // What Open() found on disk.
  struct Recovery {
    bool from_snapshot = false;       // a snapshot was loaded
    uint64_t snapshot_seq = 0;        // its last_seq (0 without one)
    uint64_t replayed_ops = 0;        // WAL operations applied on top of it
    uint64_t dropped_tail_bytes = 0;  // torn or corrupt WAL bytes truncated
  };

  // Recovers the shard stored under `dir` (an empty or missing directory is an empty shard).
  // InvalidArgument for a bad config; DataLoss for an unreadable snapshot or a WAL that does not
  // replay; other disk errors as the disk reports them.
  static absl::StatusOr<std::unique_ptr<ShardStore>> Open(world::Disk& disk, std::string dir,
                                                          const ShardConfig& config);

  ShardStore(const ShardStore&) = delete;
  ShardStore& operator=(const ShardStore&) = delete;

  // Validates, logs, syncs and applies `op`, then calls `done` (see the overview).
  void Apply(shardpb::ShardOperation op, Done done);

  // Durably replaces the snapshot with the current state and empties the WAL (see the overview).
  void CreateSnapshot(Done done);

  // Every point (id, vectors, payload) in id order, in batches of at most `batch_size` (>= 1), for
  // a shard transfer by stream_records. Vectors are in canonical form; importing them stores the
  // same bits.
  std::vector<shardpb::PointBatch> ExportBatches(size_t batch_size = 100) const;
  // A digest of the points (ids, vectors, payloads) as applied: equal on two replicas exactly when
  // they hold the same points (up to a 64-bit hash collision). O(points).
  uint64_t ContentDigest() const;

  // Applies a batch from ExportBatches() as an Upsert with sequence number `seq`.
  void ImportBatch(const shardpb::PointBatch& batch, uint64_t seq, Done done);

  // Reads, on the applied (hence durable) state; see point_table.h.
  absl::StatusOr<std::vector<PointRecord>> Retrieve(const std::vector<shardpb::PointId>& ids,
                                                    bool with_payload,
                                                    const WithVector& with_vector) const {
    return table_.Retrieve(ids, with_payload, with_vector);
  }
  absl::StatusOr<ScrollPage> Scroll(const ScrollRequest& request) const { return table_.Scroll(request); }
  absl::StatusOr<uint64_t> Count(const shardpb::Filter* filter = nullptr) const { return table_.Count(filter); }
  absl::StatusOr<std::vector<ScoredPoint>> Search(const SearchRequest& request) const {
    return table_.Search(request);
  }

  // Switches on planted bugs (cluster_bugs.h) for this store; off by default.
  void set_planted_bugs(const ClusterBugs& bugs) { bugs_ = bugs; }

  // Seq of the last applied operation (0 for a new shard).
  uint64_t last_seq() const { return last_seq_; }
  // The sequence number for the next operation this replica accepts: above every one applied or
  // handed out before (a replica numbers its own operations; see replication/replica_service.h).
  uint64_t AssignSeq() {
    assigned_seq_ = std::max(assigned_seq_, last_seq_) + 1;
    return assigned_seq_;
  }
  // True when no write or snapshot is queued or waiting for the disk, and no answer of this store is
  // on the stack: the store may be destroyed. (An answer may lead to a metadata apply that closes
  // this store before the answer returns; the store must outlive it.)
  bool idle() const { return !busy_ && !pumping_ && answering_ == 0 && queue_.empty() && read_pins_ == 0; }

  // While pinned, the points stay as they are (an operation whose sync completes waits to be
  // applied until the last UnpinRead) and the store is not idle (its owner keeps it): a helper
  // thread may read it (Env::Offload). Both calls on the node's thread.
  void PinForRead() { ++read_pins_; }
  void UnpinRead();
  uint64_t points_count() const { return table_.points().size(); }
  // Bytes in the WAL (a hint for when to snapshot).
  uint64_t wal_bytes() const { return wal_bytes_; }
  const Recovery& recovery() const { return recovery_; }
  // OK, or the disk error that stopped writes.
  const absl::Status& failure() const { return failure_; }
  const PointTable& table() const { return table_; }

 private:
  // A queued write: an operation, or a snapshot when `op` is null.
  struct Task {
    std::shared_ptr<const shardpb::ShardOperation> op;
    Done done;
  };

  ShardStore(world::Disk& disk, std::string dir, const ShardConfig& config);
  std::string Path(std::string_view name) const { return dir_ + "/" + std::string(name); }
  absl::Status LoadSnapshot();
  absl::Status ReplayWal();
  // Starts queued tasks until one is waiting for the disk.
  void Pump();
  void StartOp(Task task);
  void StartSnapshot(Done done);
  // Snapshot steps after snapshot.tmp is durable.
  void InstallSnapshot(Done done);
  // Ends the task in progress: reports `s`, then continues with the queue.
  void FinishTask(const Done& done, absl::Status s);
  // Records a disk error that leaves the WAL's durable content unknown.
  absl::Status Fail(absl::Status s);

  world::Disk& disk_;        // the node's disk
  std::string dir_;          // this shard's directory on it
  PointTable table_;         // the applied state
  uint64_t last_seq_ = 0;    // seq of the last applied op (or of the loaded snapshot)
  int read_pins_ = 0;        // PinForRead() calls not yet undone
  ClusterBugs bugs_;         // planted bugs switched on (tests of the checkers only)
  std::function<void()> apply_when_unpinned_;  // the durable op waiting for the last UnpinRead
  uint64_t assigned_seq_ = 0;  // highest seq handed out by AssignSeq()
  uint64_t wal_bytes_ = 0;   // size of `wal` as this incarnation knows it
  Recovery recovery_;        // what Open() found
  absl::Status failure_;     // non-OK once a disk error stopped writes
  std::deque<Task> queue_;   // writes waiting for the one in progress
  bool busy_ = false;        // a task is waiting for a sync
  bool pumping_ = false;     // Pump() is on the stack (re-entrant calls only enqueue)
  int answering_ = 0;        // FinishTask's answers on the stack (the store is not idle meanwhile)
};

}  // namespace qdsim::shard

#endif  // QDSIM_NODE_SHARD_SHARD_STORE_H_
