// Unstable: the tail of the log (and possibly an incoming snapshot) that the core has accepted but
// the driver has not yet persisted. Ready hands it out; Advance marks it stable.
//
// Entries held here have indexes offset, offset+1, ...; when a snapshot is pending it precedes
// them (offset == snapshot index + 1).
//
// Thread-safety: none.
#ifndef QDSIM_NODE_RAFT_LOG_UNSTABLE_H_
#define QDSIM_NODE_RAFT_LOG_UNSTABLE_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "proto/raft.pb.h"

namespace qdsim::raft {

class Unstable {
 public:
  // An empty tail whose first entry would get index `offset`.
  explicit Unstable(uint64_t offset) : offset_(offset) {}

  // First index of the log if a snapshot is pending (its index + 1).
  std::optional<uint64_t> MaybeFirstIndex() const;
  // Last index held here (last entry, else the pending snapshot's index).
  std::optional<uint64_t> MaybeLastIndex() const;
  // Term of entry i if this tail (or the pending snapshot's last entry) knows it.
  std::optional<uint64_t> MaybeTerm(uint64_t i) const;

  // The driver persisted entries up to (i, t): drops them from the tail if still there unchanged.
  void StableTo(uint64_t i, uint64_t t);
  // The driver persisted the snapshot at index i: forgets it if it is still the pending one.
  void StableSnapTo(uint64_t i);

  // Replaces everything with `snap` (nothing persisted yet).
  void Restore(const raftpb::Snapshot& snap);

  // Appends `entries`, first truncating any held entries at or after entries[0].index().
  // REQUIRES: entries non-empty; entries[0].index() <= last index + 1.
  void TruncateAndAppend(const std::vector<raftpb::Entry>& entries);

  // Entries in [lo, hi). REQUIRES: offset() <= lo <= hi <= offset() + entries().size().
  std::vector<raftpb::Entry> Slice(uint64_t lo, uint64_t hi) const;

  uint64_t offset() const { return offset_; }
  const std::vector<raftpb::Entry>& entries() const { return entries_; }
  const std::optional<raftpb::Snapshot>& snapshot() const { return snapshot_; }

 private:
  std::optional<raftpb::Snapshot> snapshot_;  // an incoming snapshot not yet persisted
  std::vector<raftpb::Entry> entries_;        // entries not yet persisted; entries_[k] has index
                                              // offset_ + k
  uint64_t offset_;                           // index of entries_[0] (or where it would go)
};

}  // namespace qdsim::raft

#endif  // QDSIM_NODE_RAFT_LOG_UNSTABLE_H_
