// DenseColumn: the vectors of one dense vector name, copied into one contiguous array so that exact
// search streams through memory instead of chasing a pointer per point. PointTable keeps it in step
// with the points (the protos in StoredPoint stay the source of truth for reads and snapshots).
//
// Slots are dense (0..size()-1) and unordered: removing a point moves the last slot into its place.
// Search results do not depend on slot order, because ties are broken by point id.
//
// Thread-safety: none.
#ifndef QDSIM_NODE_SHARD_DENSE_COLUMN_H_
#define QDSIM_NODE_SHARD_DENSE_COLUMN_H_

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "node/shard/point_id.h"
#include "node/shard/stored_point.h"

namespace qdsim::shard {

class DenseColumn {
 public:
  // REQUIRES: dim > 0.
  explicit DenseColumn(uint32_t dim) : dim_(dim) {}

  // Stores `values` (dim floats) for the point, replacing what it had.
  void Put(const PointEntry* owner, const float* values);
  // Drops the point's vector; no-op if it has none.
  void Remove(const PointKey& key);
  void Clear();

  size_t size() const { return owners_.size(); }
  uint32_t dim() const { return dim_; }
  // The vector in `slot`. REQUIRES: slot < size().
  const float* vector(size_t slot) const { return data_.data() + slot * dim_; }
  // The point owning `slot`. REQUIRES: slot < size().
  const PointEntry* owner(size_t slot) const { return owners_[slot]; }

 private:
  uint32_t dim_;                             // floats per vector
  std::vector<float> data_;                  // size() * dim_ floats, slot-major
  std::vector<const PointEntry*> owners_;    // the point in each slot
  std::map<PointKey, uint32_t> slot_of_;     // each point's slot
};

}  // namespace qdsim::shard

#endif  // QDSIM_NODE_SHARD_DENSE_COLUMN_H_
