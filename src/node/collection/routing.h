// Routing point operations to shards (SPEC.md §4): which shard owns an id, and how a point
// operation splits into one operation per shard.
//
//   HashRing ring = HashRing::Fair(3);
//   std::map<uint32_t, shardpb::ShardOperation> parts = SplitByShard(op, ring, 3);
//   for (auto& [shard, part] : parts) Send(shard, part);
#ifndef QDSIM_NODE_COLLECTION_ROUTING_H_
#define QDSIM_NODE_COLLECTION_ROUTING_H_

#include <cstdint>
#include <map>

#include "node/collection/hash_ring.h"
#include "proto/shard.pb.h"

namespace qdsim::collection {

// The shard that owns `id`.
uint32_t ShardOf(const HashRing& ring, const shardpb::PointId& id);

// Splits `op` into the parts each shard must apply (op.seq is not copied). Operations on listed ids
// (upsert, update vectors, delete, payload operations with an id selector) go only to the shards
// that own some of the ids, each with its own ids in their original order; operations selected by a
// filter go to every shard 0..shard_count-1. An operation with nothing to do yields no part.
std::map<uint32_t, shardpb::ShardOperation> SplitByShard(const shardpb::ShardOperation& op, const HashRing& ring,
                                                         uint32_t shard_count);

}  // namespace qdsim::collection

#endif  // QDSIM_NODE_COLLECTION_ROUTING_H_
