#include "node/shard/shard_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "node/shard/snapshot_codec.h"
#include "node/shard/wal.h"
#include "node/world/records.h"
#include "node/world/siphash.h"
#include "node/world/status_macros.h"

namespace qdsim::shard {

ShardStore::ShardStore(world::Disk& disk, std::string dir, const ShardConfig& config)
    : disk_(disk), dir_(std::move(dir)), table_(config) {}

absl::StatusOr<std::unique_ptr<ShardStore>> ShardStore::Open(world::Disk& disk, std::string dir,
                                                             const ShardConfig& config) {
  RETURN_IF_ERROR(ValidateConfig(config));
  std::unique_ptr<ShardStore> store(new ShardStore(disk, std::move(dir), config));
  // A leftover of an interrupted CreateSnapshot is never the current state.
  RETURN_IF_ERROR(disk.Remove(store->Path(kSnapshotTmpFile)));
  RETURN_IF_ERROR(store->LoadSnapshot());
  RETURN_IF_ERROR(store->ReplayWal());
  return store;
}

absl::Status ShardStore::LoadSnapshot() {
  absl::StatusOr<std::string> bytes =
      world::ReadRecordFile(disk_, Path(kSnapshotFile), /*whole_file_must_parse=*/true);
  if (absl::IsNotFound(bytes.status())) return absl::OkStatus();
  RETURN_IF_ERROR(bytes.status());
  world::RecordReader reader(*bytes);
  const std::optional<world::Record> record = reader.Next();
  if (!record || record->type != kSnapshotRecord || reader.Next()) {
    return absl::DataLossError(absl::StrCat(Path(kSnapshotFile), " does not hold one snapshot"));
  }
  uint64_t seq = 0;
  RETURN_IF_ERROR(DecodeSnapshot(record->payload, table_, &seq));
  last_seq_ = seq;
  recovery_.from_snapshot = true;
  recovery_.snapshot_seq = seq;
  return absl::OkStatus();
}

absl::Status ShardStore::ReplayWal() {
  absl::StatusOr<std::string> bytes =
      world::ReadRecordFile(disk_, Path(kWalFile), /*whole_file_must_parse=*/false);
  if (absl::IsNotFound(bytes.status())) return absl::OkStatus();
  RETURN_IF_ERROR(bytes.status());
  world::RecordReader reader(*bytes);
  size_t valid = 0;  // end of the last record that belongs to the log
  while (std::optional<world::Record> record = reader.Next()) {
    shardpb::ShardOperation op;
    if (record->type != kWalOp ||
        !op.ParseFromArray(record->payload.data(), static_cast<int>(record->payload.size()))) {
      break;  // checksummed but not ours: treat as the start of a corrupt tail
    }
    if (op.seq() > last_seq_) {
      if (absl::Status s = table_.Validate(op); !s.ok()) {
        return absl::DataLossError(absl::StrCat(Path(kWalFile), ": operation ", op.seq(),
                                                " at byte ", valid, " does not replay: ", s.message()));
      }
      table_.Apply(op);
      last_seq_ = op.seq();
      ++recovery_.replayed_ops;
    }
    valid = reader.valid_bytes();
  }
  if (valid < bytes->size()) {
    recovery_.dropped_tail_bytes = bytes->size() - valid;
    RETURN_IF_ERROR(disk_.Truncate(Path(kWalFile), valid));
  }
  wal_bytes_ = valid;
  return absl::OkStatus();
}

void ShardStore::Apply(shardpb::ShardOperation op, Done done) {
  queue_.push_back(Task{std::make_shared<const shardpb::ShardOperation>(std::move(op)), std::move(done)});
  Pump();
}

void ShardStore::CreateSnapshot(Done done) {
  queue_.push_back(Task{nullptr, std::move(done)});
  Pump();
}

void ShardStore::ImportBatch(const shardpb::PointBatch& batch, uint64_t seq, Done done) {
  shardpb::ShardOperation op;
  op.set_seq(seq);
  *op.mutable_upsert()->mutable_points() = batch.points();
  Apply(std::move(op), std::move(done));
}

std::vector<shardpb::PointBatch> ShardStore::ExportBatches(size_t batch_size) const {
  std::vector<shardpb::PointBatch> batches;
  if (batch_size == 0) batch_size = 1;
  for (const auto& [key, point] : table_.points()) {
    if (batches.empty() || static_cast<size_t>(batches.back().points_size()) == batch_size) {
      batches.emplace_back();
    }
    shardpb::Point* p = batches.back().add_points();
    *p->mutable_id() = key.ToProto();
    for (const auto& [name, vector] : point.vectors) (*p->mutable_vectors()->mutable_vectors())[name] = vector;
    *p->mutable_payload() = point.payload;
  }
  return batches;
}

void ShardStore::UnpinRead() {
  if (--read_pins_ > 0 || !apply_when_unpinned_) return;
  std::function<void()> apply = std::move(apply_when_unpinned_);
  apply_when_unpinned_ = nullptr;
  apply();
}

uint64_t ShardStore::ContentDigest() const {
  // A sum of per-point hashes, so that the order points are visited in does not matter.
  uint64_t digest = 0;
  shardpb::Point p;
  for (const auto& [key, point] : table_.points()) {
    p.Clear();
    *p.mutable_id() = key.ToProto();
    for (const auto& [name, vector] : point.vectors) (*p.mutable_vectors()->mutable_vectors())[name] = vector;
    *p.mutable_payload() = point.payload;
    world::SipHasher24 hasher;
    hasher.Write(DeterministicBytes(p));
    digest += hasher.Finish();
  }
  return digest;
}

void ShardStore::Pump() {
  if (pumping_) return;
  pumping_ = true;
  while (!busy_ && !queue_.empty()) {
    Task task = std::move(queue_.front());
    queue_.pop_front();
    if (task.op) {
      StartOp(std::move(task));
    } else {
      StartSnapshot(std::move(task.done));
    }
  }
  pumping_ = false;
}

absl::Status ShardStore::Fail(absl::Status s) {
  if (failure_.ok()) {
    failure_ = absl::Status(s.code(), absl::StrCat("shard store ", dir_, " stopped writing after a disk error: ",
                                                   s.message()));
  }
  return failure_;
}

void ShardStore::FinishTask(const Done& done, absl::Status s) {
  busy_ = false;
  ++answering_;
  done(std::move(s));
  --answering_;
  Pump();
}

void ShardStore::StartOp(Task task) {
  const shardpb::ShardOperation& op = *task.op;
  if (!failure_.ok()) return task.done(failure_);
  if (op.seq() == 0) return task.done(absl::InvalidArgumentError("shard operation seq must be at least 1"));
  if (op.seq() <= last_seq_) return task.done(absl::OkStatus());  // a retry: already durable
  if (absl::Status s = table_.Validate(op); !s.ok()) return task.done(s);
  const std::string bytes = DeterministicBytes(op);
  if (shardpb::ShardOperation replayed; !replayed.ParseFromString(bytes)) {
    // Protobuf writes a proto3 string holding invalid UTF-8 but refuses to read it back: such an op
    // would cut the WAL short on recovery.
    return task.done(absl::InvalidArgumentError(
        "Wrong input: the operation holds a string that is not valid UTF-8"));
  }
  const std::string record = world::EncodeRecord(kWalOp, bytes);
  if (absl::Status s = disk_.Append(Path(kWalFile), record); !s.ok()) {
    // A full disk applies nothing of the write; any other error may have left part of it.
    return task.done(absl::IsResourceExhausted(s) ? s : Fail(s));
  }
  wal_bytes_ += record.size();
  if (bugs_.Has(ClusterBug::kShardAckBeforeSync)) {
    table_.Apply(*task.op);
    last_seq_ = task.op->seq();
    disk_.Sync(Path(kWalFile), [](absl::Status) {});
    task.done(absl::OkStatus());
    return;
  }
  busy_ = true;
  disk_.Sync(Path(kWalFile), [this, task = std::move(task)](absl::Status s) {
    if (!s.ok()) return FinishTask(task.done, Fail(s));
    auto apply = [this, task] {
      table_.Apply(*task.op);
      last_seq_ = task.op->seq();
      FinishTask(task.done, absl::OkStatus());
    };
    if (read_pins_ > 0) {
      apply_when_unpinned_ = std::move(apply);  // busy_ holds the next operation back meanwhile
      return;
    }
    apply();
  });
}

void ShardStore::StartSnapshot(Done done) {
  if (!failure_.ok()) return done(failure_);
  const std::string fb = EncodeSnapshot(table_, last_seq_);
  if (fb.size() + 1 > world::kMaxRecordPayload) {
    return done(absl::ResourceExhaustedError(
        absl::StrCat("shard snapshot of ", fb.size(), " bytes exceeds the record limit")));
  }
  // snapshot.tmp is never read back, so failures before the rename leave the store healthy.
  absl::Status s = disk_.Remove(Path(kSnapshotTmpFile));
  if (s.ok()) s = disk_.Append(Path(kSnapshotTmpFile), world::EncodeRecord(kSnapshotRecord, fb));
  if (!s.ok()) return done(s);
  busy_ = true;
  disk_.Sync(Path(kSnapshotTmpFile), [this, done = std::move(done)](absl::Status s1) {
    if (!s1.ok()) return FinishTask(done, s1);
    if (absl::Status r = disk_.Rename(Path(kSnapshotTmpFile), Path(kSnapshotFile)); !r.ok()) {
      return FinishTask(done, r);
    }
    disk_.Sync(Path(kSnapshotFile), [this, done](absl::Status s2) {
      // Either snapshot recovers consistently with the full WAL, so a failed sync is harmless.
      if (!s2.ok()) return FinishTask(done, s2);
      InstallSnapshot(done);
    });
  });
}

void ShardStore::InstallSnapshot(Done done) {
  // The snapshot now covers every operation in the WAL (writes waited behind it): empty the WAL.
  absl::Status t = disk_.Truncate(Path(kWalFile), 0);
  if (absl::IsNotFound(t)) return FinishTask(done, absl::OkStatus());  // no WAL yet
  if (!t.ok()) return FinishTask(done, Fail(t));
  wal_bytes_ = 0;
  disk_.Sync(Path(kWalFile), [this, done](absl::Status s3) {
    FinishTask(done, s3.ok() ? s3 : Fail(s3));
  });
}

}  // namespace qdsim::shard
