// Storage: the Raft core's read-only view of the durable log, and MemoryStorage, an in-memory
// implementation for tests and for drivers that keep a copy of their persisted log in memory.
//
// The core reads from Storage but never writes to it: the driver persists what Ready hands it
// (entries, hard state, snapshots) and then appends the same to its Storage before Advance().
//
//   raft::MemoryStorage storage;
//   storage.SetConfState(cs);                        // bootstrap a new group
//   RETURN_IF_ERROR(storage.Append(ready.entries));  // after writing them to disk
//   ASSIGN_OR_RETURN(uint64_t term, storage.Term(5));
//
// Errors: index-addressed reads fail with the statuses made by CompactedError() (the index is
// below FirstIndex()) or UnavailableError() (beyond LastIndex()); test them with IsCompacted() / IsEntryUnavailable().
//
// Thread-safety: none; the core and the driver run on one logical thread.
#ifndef QDSIM_NODE_RAFT_STORAGE_H_
#define QDSIM_NODE_RAFT_STORAGE_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/raft.pb.h"

namespace qdsim::raft {

// The requested index was compacted into a snapshot (code OutOfRange).
absl::Status CompactedError();
// The requested index is not in the log yet (code NotFound; test with IsEntryUnavailable).
absl::Status UnavailableError();
// The snapshot offered is older than the one held (code FailedPrecondition).
absl::Status SnapshotOutOfDateError();
// A snapshot is being made and cannot be read now; try later (code Unavailable).
absl::Status SnapshotTemporarilyUnavailableError();
bool IsCompacted(const absl::Status& status);
bool IsEntryUnavailable(const absl::Status& status);
bool IsSnapshotTemporarilyUnavailable(const absl::Status& status);

// What a node restarts with (returned by Storage::InitialState).
struct PersistentState {
  raftpb::HardState hard_state;  // last persisted term, vote and commit
  raftpb::ConfState conf_state;  // membership as of the last applied configuration
};

// Total serialized size of `entries`' payloads as counted against size limits.
uint64_t EntriesByteSize(const std::vector<raftpb::Entry>& entries);

// Keeps a prefix of `entries` whose EntriesByteSize is at most max_size, but always at least one.
void LimitSize(std::vector<raftpb::Entry>* entries, uint64_t max_size);

class Storage {
 public:
  virtual ~Storage() = default;

  // The persisted hard state and membership.
  virtual absl::StatusOr<PersistentState> InitialState() const = 0;

  // Entries in [lo, hi), trimmed to at most max_size bytes (at least one entry is returned if the
  // range is non-empty). Fails with CompactedError if lo <= the snapshot index, UnavailableError if
  // hi > LastIndex() + 1. REQUIRES: lo <= hi.
  virtual absl::StatusOr<std::vector<raftpb::Entry>> Entries(uint64_t lo, uint64_t hi,
                                                             uint64_t max_size) const = 0;

  // The term of entry i, for i in [FirstIndex()-1, LastIndex()] (FirstIndex()-1 is the snapshot's
  // index, whose term is kept). CompactedError below that range, UnavailableError above it.
  virtual absl::StatusOr<uint64_t> Term(uint64_t i) const = 0;

  // Index of the first entry still available (snapshot index + 1).
  virtual uint64_t FirstIndex() const = 0;

  // Index of the last entry (the snapshot index if the log is empty).
  virtual uint64_t LastIndex() const = 0;

  // The most recent snapshot; SnapshotTemporarilyUnavailableError if one is being prepared.
  virtual absl::StatusOr<raftpb::Snapshot> Snapshot() const = 0;
};

class MemoryStorage : public Storage {
 public:
  // An empty log with an empty snapshot at index 0, term 0.
  MemoryStorage();

  absl::StatusOr<PersistentState> InitialState() const override;
  absl::StatusOr<std::vector<raftpb::Entry>> Entries(uint64_t lo, uint64_t hi,
                                                     uint64_t max_size) const override;
  absl::StatusOr<uint64_t> Term(uint64_t i) const override;
  uint64_t FirstIndex() const override;
  uint64_t LastIndex() const override;
  absl::StatusOr<raftpb::Snapshot> Snapshot() const override;

  // Records the persisted hard state.
  void SetHardState(const raftpb::HardState& hs) { hard_state_ = hs; }

  // Sets the membership of the current snapshot without changing its index: how a brand-new group
  // is bootstrapped (e.g. voters = {first peer}).
  void SetConfState(const raftpb::ConfState& cs);

  // Replaces the whole log with `snap`. SnapshotOutOfDateError if snap is not newer than the
  // snapshot held.
  absl::Status ApplySnapshot(const raftpb::Snapshot& snap);

  // Makes a snapshot at index i (its term is looked up) carrying `cs` and `data`, without
  // discarding entries (see Compact). Returns it. SnapshotOutOfDateError if i is not above the
  // current snapshot index; UnavailableError if i > LastIndex().
  absl::StatusOr<raftpb::Snapshot> CreateSnapshot(uint64_t i, const raftpb::ConfState& cs,
                                                  std::string data);

  // Discards entries before compact_index; afterwards FirstIndex() == compact_index + 1 and the
  // term of compact_index is remembered. CompactedError if already compacted that far,
  // UnavailableError if compact_index > LastIndex().
  absl::Status Compact(uint64_t compact_index);

  // Appends `entries` (consecutive indexes); entries overlapping the log replace the existing
  // suffix from the first index they cover. Entries at or below the snapshot are ignored.
  // InvalidArgument if they would leave a gap after LastIndex().
  absl::Status Append(const std::vector<raftpb::Entry>& entries);

  const raftpb::HardState& hard_state() const { return hard_state_; }

 private:
  // Offset of the dummy entry: the snapshot index.
  uint64_t Offset() const { return entries_.front().index(); }

  raftpb::HardState hard_state_;  // last persisted hard state
  raftpb::Snapshot snapshot_;     // latest snapshot (index 0 until one is applied or created)
  // entries_[0] is a dummy holding the snapshot's (index, term); entries_[k] has index
  // Offset() + k. Never empty.
  std::vector<raftpb::Entry> entries_;
};

}  // namespace qdsim::raft

#endif  // QDSIM_NODE_RAFT_STORAGE_H_
