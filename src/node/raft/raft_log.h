// RaftLog: the node's whole log as the core sees it — the durable part in Storage followed by the
// Unstable tail — plus the commit and apply positions.
//
//   storage:  [snapshot] [ first ........ last ]
//   unstable:                             [ offset ...... ]
//   applied <= committed <= LastIndex()   (apply_uncommitted breaks the first inequality)
//
// Thread-safety: none.
#ifndef QDSIM_NODE_RAFT_RAFT_LOG_H_
#define QDSIM_NODE_RAFT_RAFT_LOG_H_

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "node/raft/log_unstable.h"
#include "node/raft/storage.h"
#include "proto/raft.pb.h"

namespace qdsim::raft {

class RaftLog {
 public:
  // A log over `storage` (not owned; must outlive this) with everything in it stable, committed and
  // applied up to the storage's snapshot. Batches of entries to apply are capped at
  // `max_apply_bytes` (at least one entry).
  RaftLog(const Storage* storage, uint64_t max_apply_bytes);

  // Follower append: if the entry at `index` has term `log_term`, appends `entries` after it,
  // truncating the first conflicting suffix, advances commit to min(committed, last new index) and
  // returns the last new index. Returns nullopt (log unchanged) if the terms do not match.
  // With `keep_conflicting` (planted bug no_conflict_truncation) conflicting local entries are
  // kept and only entries past the local last index are appended, yet the last new index is still
  // returned as if all had been accepted.
  std::optional<uint64_t> MaybeAppend(uint64_t index, uint64_t log_term, uint64_t committed,
                                      const std::vector<raftpb::Entry>& entries,
                                      bool keep_conflicting);

  // Leader append: appends `entries` (truncating any tail they overlap) and returns LastIndex().
  // REQUIRES: entries[0].index() - 1 >= committed() if non-empty.
  uint64_t Append(const std::vector<raftpb::Entry>& entries);

  // The index of the first entry of `entries` whose term differs from the local entry at that index
  // (or that is past LastIndex()); 0 if all match. REQUIRES: consecutive indexes.
  uint64_t FindConflict(const std::vector<raftpb::Entry>& entries) const;

  // Walking down from `index`, the first index whose term is <= `term`, and that term (0 if the
  // index is compacted or unknown). Used to skip a whole term on a rejected append.
  std::pair<uint64_t, uint64_t> FindConflictByTerm(uint64_t index, uint64_t term) const;

  // Entries not yet persisted.
  const std::vector<raftpb::Entry>& UnstableEntries() const { return unstable_.entries(); }
  // A received snapshot not yet persisted.
  const std::optional<raftpb::Snapshot>& UnstableSnapshot() const { return unstable_.snapshot(); }

  // Entries in (applied, min(limit, LastIndex())], capped at max_apply_bytes. Normally
  // limit == committed(); the core passes a larger limit only under apply_uncommitted.
  std::vector<raftpb::Entry> NextEntriesToApply(uint64_t limit) const;
  bool HasNextEntriesToApply(uint64_t limit) const;

  // The latest snapshot: the unstable one if any, else storage's.
  absl::StatusOr<raftpb::Snapshot> Snapshot() const;

  uint64_t FirstIndex() const;
  uint64_t LastIndex() const;
  // Term of the last entry (0 for an empty log).
  uint64_t LastTerm() const;

  // Term of entry i, for i in [FirstIndex()-1, LastIndex()]; CompactedError / UnavailableError
  // outside.
  absl::StatusOr<uint64_t> Term(uint64_t i) const;
  // Term(i), or 0 outside the known range.
  uint64_t TermOrZero(uint64_t i) const;

  // Entries from i to the end, at most max_size bytes (at least one). Empty if i > LastIndex();
  // CompactedError if i < FirstIndex().
  absl::StatusOr<std::vector<raftpb::Entry>> Entries(uint64_t i, uint64_t max_size) const;
  // Entries in [lo, hi) capped at max_size bytes; CompactedError if lo < FirstIndex(),
  // UnavailableError if hi > LastIndex() + 1.
  absl::StatusOr<std::vector<raftpb::Entry>> Slice(uint64_t lo, uint64_t hi,
                                                   uint64_t max_size) const;
  // Every available entry, stable and unstable.
  std::vector<raftpb::Entry> AllEntries() const;

  // True if a log ending at (lasti, term) is at least as up-to-date as this one (§5.4.1).
  bool IsUpToDate(uint64_t lasti, uint64_t term) const;
  // True if entry i exists with term `term`.
  bool MatchTerm(uint64_t i, uint64_t term) const;

  // Leader commit rule: commits max_index if it is beyond committed() and its entry has `term`
  // (the leader's current term). Returns true if the commit index moved.
  bool MaybeCommit(uint64_t max_index, uint64_t term);
  // Raises the commit index to min(to_commit, LastIndex()); never lowers it.
  void CommitTo(uint64_t to_commit);
  // Records that the application applied everything up to i; never lowers it.
  void AppliedTo(uint64_t i);

  // The driver persisted entries up to (i, t) / the snapshot at index i.
  void StableTo(uint64_t i, uint64_t t) { unstable_.StableTo(i, t); }
  void StableSnapTo(uint64_t i) { unstable_.StableSnapTo(i); }

  // Replaces the log with `snap` (committed = its index; applied follows when the driver persists
  // it).
  void Restore(const raftpb::Snapshot& snap);

  uint64_t committed() const { return committed_; }
  uint64_t applied() const { return applied_; }

 private:
  const Storage* storage_;   // the durable log; not owned
  Unstable unstable_;        // the tail not yet persisted
  uint64_t committed_;       // highest index known replicated on a quorum
  uint64_t applied_;         // highest index the application has applied
  uint64_t max_apply_bytes_; // cap on one batch of NextEntriesToApply
};

}  // namespace qdsim::raft

#endif  // QDSIM_NODE_RAFT_RAFT_LOG_H_
