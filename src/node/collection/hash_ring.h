// HashRing: which shard a point id belongs to — Qdrant's "fair" consistent hash ring, bit for bit.
//
// Every shard contributes `scale` (100) virtual nodes (shard, i) for i in [0, scale); a virtual
// node's position is SipHash-2-4 with a zero key over Rust's Hash encoding of the pair (the u32
// shard then the u32 i, little-endian). Positions are kept sorted (stably, in insertion order). A
// point goes to the first virtual node at or after its own position, wrapping around. A point id is
// encoded as Rust hashes Qdrant's ExtendedPointId: a numeric id as the u64 0 then the u64 id; a UUID
// as the u64 1, the u64 16 (slice length) and its 16 bytes. So a given id lands on the same shard
// number here as in Qdrant (SPEC.md §4).
//
//   HashRing ring = HashRing::Fair(/*shard_count=*/3);
//   uint32_t shard = ring.ShardOfNumber(42);
//
// Adding a shard moves points only onto the new shard (consistent hashing).
// Thread-safety: immutable after construction; safe to share.
#ifndef QDSIM_NODE_COLLECTION_HASH_RING_H_
#define QDSIM_NODE_COLLECTION_HASH_RING_H_

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace qdsim::collection {

class HashRing {
 public:
  static constexpr uint32_t kFairScale = 100;  // Qdrant's DEFAULT_FAIR_HASH_RING_SCALE

  // A ring over shards 0..shard_count-1, added in that order. REQUIRES: shard_count > 0.
  static HashRing Fair(uint32_t shard_count, uint32_t scale = kFairScale);
  // A ring over the given shard ids, added in the order given.
  static HashRing FairOver(const std::vector<uint32_t>& shards, uint32_t scale = kFairScale);

  uint32_t ShardOfNumber(uint64_t id) const;
  // REQUIRES: uuid holds the 16 bytes of the UUID (big-endian, as written in its text form).
  uint32_t ShardOfUuid(std::string_view uuid) const;

  // Ring position of a numeric / UUID point id (exposed for tests).
  static uint64_t PositionOfNumber(uint64_t id);
  static uint64_t PositionOfUuid(std::string_view uuid);

 private:
  uint32_t ShardAt(uint64_t position) const;

  std::vector<std::pair<uint64_t, uint32_t>> ring_;  // (position, shard), sorted by position
};

}  // namespace qdsim::collection

#endif  // QDSIM_NODE_COLLECTION_HASH_RING_H_
