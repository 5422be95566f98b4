#include "node/raft/log_unstable.h"

#include <cassert>

namespace qdsim::raft {

std::optional<uint64_t> Unstable::MaybeFirstIndex() const {
  if (snapshot_) return snapshot_->metadata().index() + 1;
  return std::nullopt;
}

std::optional<uint64_t> Unstable::MaybeLastIndex() const {
  if (!entries_.empty()) return offset_ + entries_.size() - 1;
  if (snapshot_) return snapshot_->metadata().index();
  return std::nullopt;
}

std::optional<uint64_t> Unstable::MaybeTerm(uint64_t i) const {
  if (i < offset_) {
    if (snapshot_ && snapshot_->metadata().index() == i) return snapshot_->metadata().term();
    return std::nullopt;
  }
  std::optional<uint64_t> last = MaybeLastIndex();
  if (!last || i > *last) return std::nullopt;
  return entries_[i - offset_].term();
}

void Unstable::StableTo(uint64_t i, uint64_t t) {
  std::optional<uint64_t> term = MaybeTerm(i);
  // Only if the entry is still ours and was not replaced by a newer leader meanwhile.
  if (!term || *term != t || i < offset_) return;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(i + 1 - offset_));
  offset_ = i + 1;
}

void Unstable::StableSnapTo(uint64_t i) {
  if (snapshot_ && snapshot_->metadata().index() == i) snapshot_.reset();
}

void Unstable::Restore(const raftpb::Snapshot& snap) {
  offset_ = snap.metadata().index() + 1;
  entries_.clear();
  snapshot_ = snap;
}

void Unstable::TruncateAndAppend(const std::vector<raftpb::Entry>& entries) {
  assert(!entries.empty());
  const uint64_t after = entries.front().index();
  if (after == offset_ + entries_.size()) {
    // Directly after what we hold.
  } else if (after <= offset_) {
    // Replaces the whole tail (and possibly some stable entries, which the storage truncates when
    // the driver appends these).
    offset_ = after;
    entries_.clear();
  } else {
    // Keeps [offset_, after) and replaces the rest.
    entries_.resize(after - offset_);
  }
  entries_.insert(entries_.end(), entries.begin(), entries.end());
}

std::vector<raftpb::Entry> Unstable::Slice(uint64_t lo, uint64_t hi) const {
  assert(offset_ <= lo && lo <= hi && hi <= offset_ + entries_.size());
  return std::vector<raftpb::Entry>(entries_.begin() + static_cast<ptrdiff_t>(lo - offset_),
                                    entries_.begin() + static_cast<ptrdiff_t>(hi - offset_));
}

}  // namespace qdsim::raft
