#include "node/collection/hash_ring.h"

#include <algorithm>

#include "node/world/siphash.h"

namespace qdsim::collection {

HashRing HashRing::Fair(uint32_t shard_count, uint32_t scale) {
  std::vector<uint32_t> shards(shard_count);
  for (uint32_t i = 0; i < shard_count; ++i) shards[i] = i;
  return FairOver(shards, scale);
}

HashRing HashRing::FairOver(const std::vector<uint32_t>& shards, uint32_t scale) {
  HashRing ring;
  ring.ring_.reserve(shards.size() * scale);
  for (uint32_t shard : shards) {
    for (uint32_t i = 0; i < scale; ++i) {
      world::SipHasher24 h;
      h.WriteU32(shard);
      h.WriteU32(i);
      ring.ring_.emplace_back(h.Finish(), shard);
    }
  }
  // Qdrant's ring sorts by position only, stably: equal positions keep insertion order.
  std::stable_sort(ring.ring_.begin(), ring.ring_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return ring;
}

uint64_t HashRing::PositionOfNumber(uint64_t id) {
  world::SipHasher24 h;
  h.WriteU64(0);  // ExtendedPointId::NumId discriminant
  h.WriteU64(id);
  return h.Finish();
}

uint64_t HashRing::PositionOfUuid(std::string_view uuid) {
  world::SipHasher24 h;
  h.WriteU64(1);            // ExtendedPointId::Uuid discriminant
  h.WriteU64(uuid.size());  // a byte slice hashes its length first
  h.Write(uuid);
  return h.Finish();
}

uint32_t HashRing::ShardAt(uint64_t position) const {
  auto it = std::lower_bound(ring_.begin(), ring_.end(), position,
                             [](const auto& node, uint64_t p) { return node.first < p; });
  if (it == ring_.end()) it = ring_.begin();
  return it->second;
}

uint32_t HashRing::ShardOfNumber(uint64_t id) const { return ShardAt(PositionOfNumber(id)); }

uint32_t HashRing::ShardOfUuid(std::string_view uuid) const { return ShardAt(PositionOfUuid(uuid)); }

}  // namespace qdsim::collection
