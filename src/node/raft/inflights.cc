#include "node/raft/inflights.h"

#include <algorithm>
#include <cassert>

namespace qdsim::raft {

Inflights::Inflights(size_t capacity, uint64_t max_bytes)
    : capacity_(capacity), max_bytes_(max_bytes), ring_(capacity) {
  assert(capacity > 0);
}

void Inflights::Add(uint64_t index, uint64_t bytes) {
  assert(!Full());
  size_t next = start_ + count_;
  if (next >= capacity_) next -= capacity_;
  ring_[next] = Slot{index, bytes};
  ++count_;
  bytes_ += bytes;
}

void Inflights::FreeLE(uint64_t to) {
  size_t freed = 0;
  size_t pos = start_;
  uint64_t freed_bytes = 0;
  while (freed < count_ && ring_[pos].index <= to) {
    freed_bytes += ring_[pos].bytes;
    ++freed;
    if (++pos == capacity_) pos = 0;
  }
  count_ -= freed;
  bytes_ -= freed_bytes;
  start_ = count_ == 0 ? 0 : pos;
}

void Inflights::FreeFirstOne() {
  if (count_ > 0) FreeLE(ring_[start_].index);
}

bool Inflights::Full() const {
  return count_ == capacity_ || (max_bytes_ != 0 && bytes_ >= max_bytes_);
}

void Inflights::Reset() {
  start_ = 0;
  count_ = 0;
  bytes_ = 0;
}

}  // namespace qdsim::raft
