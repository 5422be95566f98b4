#include "node/raft/storage.h"

#include <string>

namespace qdsim::raft {
namespace {

constexpr char kCompacted[] = "raft: requested index is unavailable due to compaction";
constexpr char kUnavailable[] = "raft: requested entry at index is unavailable";
constexpr char kSnapOutOfDate[] = "raft: requested index is older than the existing snapshot";
constexpr char kSnapTemporarilyUnavailable[] = "raft: snapshot is temporarily unavailable";

}  // namespace

absl::Status CompactedError() { return absl::OutOfRangeError(kCompacted); }
absl::Status UnavailableError() { return absl::NotFoundError(kUnavailable); }
absl::Status SnapshotOutOfDateError() { return absl::FailedPreconditionError(kSnapOutOfDate); }
absl::Status SnapshotTemporarilyUnavailableError() {
  return absl::UnavailableError(kSnapTemporarilyUnavailable);
}
bool IsCompacted(const absl::Status& status) { return absl::IsOutOfRange(status); }
bool IsEntryUnavailable(const absl::Status& status) { return absl::IsNotFound(status); }
bool IsSnapshotTemporarilyUnavailable(const absl::Status& status) {
  return absl::IsUnavailable(status);
}

uint64_t EntriesByteSize(const std::vector<raftpb::Entry>& entries) {
  uint64_t size = 0;
  for (const raftpb::Entry& e : entries) size += e.ByteSizeLong();
  return size;
}

void LimitSize(std::vector<raftpb::Entry>* entries, uint64_t max_size) {
  if (entries->empty()) return;
  uint64_t size = (*entries)[0].ByteSizeLong();
  size_t keep = 1;
  while (keep < entries->size()) {
    size += (*entries)[keep].ByteSizeLong();
    if (size > max_size) break;
    ++keep;
  }
  entries->resize(keep);
}

MemoryStorage::MemoryStorage() { entries_.emplace_back(); }

absl::StatusOr<PersistentState> MemoryStorage::InitialState() const {
  return PersistentState{hard_state_, snapshot_.metadata().conf_state()};
}

absl::StatusOr<std::vector<raftpb::Entry>> MemoryStorage::Entries(uint64_t lo, uint64_t hi,
                                                                  uint64_t max_size) const {
  if (lo <= Offset()) return CompactedError();
  if (hi > LastIndex() + 1) return UnavailableError();
  std::vector<raftpb::Entry> out(entries_.begin() + static_cast<ptrdiff_t>(lo - Offset()),
                                 entries_.begin() + static_cast<ptrdiff_t>(hi - Offset()));
  LimitSize(&out, max_size);
  return out;
}

absl::StatusOr<uint64_t> MemoryStorage::Term(uint64_t i) const {
  if (i < Offset()) return CompactedError();
  if (i - Offset() >= entries_.size()) return UnavailableError();
  return entries_[i - Offset()].term();
}

uint64_t MemoryStorage::FirstIndex() const { return Offset() + 1; }

uint64_t MemoryStorage::LastIndex() const { return Offset() + entries_.size() - 1; }

absl::StatusOr<raftpb::Snapshot> MemoryStorage::Snapshot() const { return snapshot_; }

void MemoryStorage::SetConfState(const raftpb::ConfState& cs) {
  *snapshot_.mutable_metadata()->mutable_conf_state() = cs;
}

absl::Status MemoryStorage::ApplySnapshot(const raftpb::Snapshot& snap) {
  if (snap.metadata().index() <= snapshot_.metadata().index()) return SnapshotOutOfDateError();
  snapshot_ = snap;
  entries_.clear();
  raftpb::Entry dummy;
  dummy.set_index(snap.metadata().index());
  dummy.set_term(snap.metadata().term());
  entries_.push_back(std::move(dummy));
  return absl::OkStatus();
}

absl::StatusOr<raftpb::Snapshot> MemoryStorage::CreateSnapshot(uint64_t i,
                                                               const raftpb::ConfState& cs,
                                                               std::string data) {
  if (i <= snapshot_.metadata().index()) return SnapshotOutOfDateError();
  if (i > LastIndex()) return UnavailableError();
  raftpb::SnapshotMetadata* md = snapshot_.mutable_metadata();
  md->set_index(i);
  md->set_term(entries_[i - Offset()].term());
  *md->mutable_conf_state() = cs;
  snapshot_.set_data(std::move(data));
  return snapshot_;
}

absl::Status MemoryStorage::Compact(uint64_t compact_index) {
  if (compact_index <= Offset()) return CompactedError();
  if (compact_index > LastIndex()) return UnavailableError();
  const size_t k = compact_index - Offset();
  // entries_[k] becomes the new dummy: keep its index and term, drop its payload.
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(k));
  entries_[0].clear_data();
  entries_[0].set_type(raftpb::ENTRY_NORMAL);
  return absl::OkStatus();
}

absl::Status MemoryStorage::Append(const std::vector<raftpb::Entry>& entries) {
  if (entries.empty()) return absl::OkStatus();
  const uint64_t first = FirstIndex();
  const uint64_t last = entries.back().index();
  if (last < first) return absl::OkStatus();  // entirely compacted away
  // Skip the part already covered by the snapshot.
  size_t skip = entries.front().index() < first ? first - entries.front().index() : 0;
  const uint64_t start = entries[skip].index();
  if (start > LastIndex() + 1) {
    return absl::InvalidArgumentError("raft: missing log entries [last: " +
                                      std::to_string(LastIndex()) +
                                      ", append at: " + std::to_string(start) + "]");
  }
  entries_.resize(start - Offset());  // truncate the conflicting or overlapping suffix
  entries_.insert(entries_.end(), entries.begin() + static_cast<ptrdiff_t>(skip), entries.end());
  return absl::OkStatus();
}

}  // namespace qdsim::raft
