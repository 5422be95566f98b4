#include "node/shard/dense_column.h"

#include <algorithm>

namespace qdsim::shard {

void DenseColumn::Put(const PointEntry* owner, const float* values) {
  auto [it, inserted] = slot_of_.try_emplace(owner->first, static_cast<uint32_t>(owners_.size()));
  if (inserted) {
    owners_.push_back(owner);
    data_.insert(data_.end(), values, values + dim_);
    return;
  }
  owners_[it->second] = owner;
  std::copy(values, values + dim_, data_.begin() + static_cast<ptrdiff_t>(it->second) * dim_);
}

void DenseColumn::Remove(const PointKey& key) {
  auto it = slot_of_.find(key);
  if (it == slot_of_.end()) return;
  const uint32_t slot = it->second;
  const uint32_t last = static_cast<uint32_t>(owners_.size() - 1);
  slot_of_.erase(it);
  if (slot != last) {
    owners_[slot] = owners_[last];
    std::copy(data_.begin() + static_cast<ptrdiff_t>(last) * dim_, data_.end(),
              data_.begin() + static_cast<ptrdiff_t>(slot) * dim_);
    slot_of_[owners_[slot]->first] = slot;
  }
  owners_.pop_back();
  data_.resize(data_.size() - dim_);
}

void DenseColumn::Clear() {
  data_.clear();
  owners_.clear();
  slot_of_.clear();
}

}  // namespace qdsim::shard
