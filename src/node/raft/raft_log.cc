#include "node/raft/raft_log.h"

#include <algorithm>

namespace qdsim::raft {

RaftLog::RaftLog(const Storage* storage, uint64_t max_apply_bytes)
    : storage_(storage),
      unstable_(storage->LastIndex() + 1),
      committed_(storage->FirstIndex() - 1),
      applied_(storage->FirstIndex() - 1),
      max_apply_bytes_(max_apply_bytes) {}

std::optional<uint64_t> RaftLog::MaybeAppend(uint64_t index, uint64_t log_term,
                                             uint64_t committed,
                                             const std::vector<raftpb::Entry>& entries,
                                             bool keep_conflicting) {
  if (!MatchTerm(index, log_term)) return std::nullopt;
  const uint64_t last_new = index + entries.size();
  const uint64_t conflict = FindConflict(entries);
  if (conflict != 0) {
    // Entries before `conflict` are already here. A conflict at or below committed means safety
    // was already violated elsewhere; the checkers, not the core, report it.
    uint64_t from = conflict;
    if (keep_conflicting) from = std::max(conflict, LastIndex() + 1);
    if (from <= last_new) {
      Append(std::vector<raftpb::Entry>(entries.begin() + static_cast<ptrdiff_t>(from - index - 1),
                                        entries.end()));
    }
  }
  CommitTo(std::min(committed, last_new));
  return last_new;
}

uint64_t RaftLog::Append(const std::vector<raftpb::Entry>& entries) {
  if (entries.empty()) return LastIndex();
  unstable_.TruncateAndAppend(entries);
  return LastIndex();
}

uint64_t RaftLog::FindConflict(const std::vector<raftpb::Entry>& entries) const {
  for (const raftpb::Entry& e : entries) {
    if (!MatchTerm(e.index(), e.term())) return e.index();
  }
  return 0;
}

std::pair<uint64_t, uint64_t> RaftLog::FindConflictByTerm(uint64_t index, uint64_t term) const {
  while (true) {
    absl::StatusOr<uint64_t> t = Term(index);
    if (!t.ok()) return {index, 0};
    if (*t <= term) return {index, *t};
    --index;
  }
}

std::vector<raftpb::Entry> RaftLog::NextEntriesToApply(uint64_t limit) const {
  const uint64_t lo = std::max(applied_ + 1, FirstIndex());
  const uint64_t hi = std::min(limit, LastIndex()) + 1;
  if (lo >= hi) return {};
  absl::StatusOr<std::vector<raftpb::Entry>> entries = Slice(lo, hi, max_apply_bytes_);
  if (!entries.ok()) return {};
  return *std::move(entries);
}

bool RaftLog::HasNextEntriesToApply(uint64_t limit) const {
  return std::max(applied_ + 1, FirstIndex()) <= std::min(limit, LastIndex());
}

absl::StatusOr<raftpb::Snapshot> RaftLog::Snapshot() const {
  if (unstable_.snapshot()) return *unstable_.snapshot();
  return storage_->Snapshot();
}

uint64_t RaftLog::FirstIndex() const {
  if (std::optional<uint64_t> i = unstable_.MaybeFirstIndex()) return *i;
  return storage_->FirstIndex();
}

uint64_t RaftLog::LastIndex() const {
  if (std::optional<uint64_t> i = unstable_.MaybeLastIndex()) return *i;
  return storage_->LastIndex();
}

uint64_t RaftLog::LastTerm() const { return TermOrZero(LastIndex()); }

absl::StatusOr<uint64_t> RaftLog::Term(uint64_t i) const {
  if (i + 1 < FirstIndex()) return CompactedError();
  if (i > LastIndex()) return UnavailableError();
  if (std::optional<uint64_t> t = unstable_.MaybeTerm(i)) return *t;
  return storage_->Term(i);
}

uint64_t RaftLog::TermOrZero(uint64_t i) const {
  absl::StatusOr<uint64_t> t = Term(i);
  return t.ok() ? *t : 0;
}

absl::StatusOr<std::vector<raftpb::Entry>> RaftLog::Entries(uint64_t i, uint64_t max_size) const {
  if (i > LastIndex()) return std::vector<raftpb::Entry>{};
  return Slice(i, LastIndex() + 1, max_size);
}

absl::StatusOr<std::vector<raftpb::Entry>> RaftLog::Slice(uint64_t lo, uint64_t hi,
                                                          uint64_t max_size) const {
  if (lo < FirstIndex()) return CompactedError();
  if (hi > LastIndex() + 1) return UnavailableError();
  std::vector<raftpb::Entry> out;
  if (lo >= hi) return out;
  const uint64_t offset = unstable_.offset();
  if (lo < offset) {
    absl::StatusOr<std::vector<raftpb::Entry>> stored =
        storage_->Entries(lo, std::min(hi, offset), max_size);
    if (!stored.ok()) return stored.status();
    // Storage stopped early because of max_size: the unstable part would not fit either.
    if (stored->size() < std::min(hi, offset) - lo) return stored;
    out = *std::move(stored);
  }
  if (hi > offset) {
    std::vector<raftpb::Entry> tail = unstable_.Slice(std::max(lo, offset), hi);
    out.insert(out.end(), tail.begin(), tail.end());
  }
  LimitSize(&out, max_size);
  return out;
}

std::vector<raftpb::Entry> RaftLog::AllEntries() const {
  absl::StatusOr<std::vector<raftpb::Entry>> all = Entries(FirstIndex(), UINT64_MAX);
  return all.ok() ? *std::move(all) : std::vector<raftpb::Entry>{};
}

bool RaftLog::IsUpToDate(uint64_t lasti, uint64_t term) const {
  const uint64_t last_term = LastTerm();
  return term > last_term || (term == last_term && lasti >= LastIndex());
}

bool RaftLog::MatchTerm(uint64_t i, uint64_t term) const {
  absl::StatusOr<uint64_t> t = Term(i);
  return t.ok() && *t == term;
}

bool RaftLog::MaybeCommit(uint64_t max_index, uint64_t term) {
  if (max_index > committed_ && TermOrZero(max_index) == term) {
    CommitTo(max_index);
    return true;
  }
  return false;
}

void RaftLog::CommitTo(uint64_t to_commit) {
  to_commit = std::min(to_commit, LastIndex());
  if (to_commit > committed_) committed_ = to_commit;
}

void RaftLog::AppliedTo(uint64_t i) { applied_ = std::max(applied_, i); }

void RaftLog::Restore(const raftpb::Snapshot& snap) {
  committed_ = snap.metadata().index();
  unstable_.Restore(snap);
}

}  // namespace qdsim::raft
