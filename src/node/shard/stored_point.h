// StoredPoint: one point as the shard store holds it in memory.
#ifndef QDSIM_NODE_SHARD_STORED_POINT_H_
#define QDSIM_NODE_SHARD_STORED_POINT_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "google/protobuf/struct.pb.h"
#include "node/shard/point_id.h"
#include "proto/shard.pb.h"

namespace qdsim::shard {

// A stored point. Vectors are in canonical form (vectors.h Canonicalize).
struct StoredPoint {
  std::map<std::string, shardpb::Vector> vectors;  // by vector name; only those the point has
  google::protobuf::Struct payload;                // the point's payload (JSON object)
  uint64_t version = 0;                            // seq of the last operation that touched it
};

// A point's entry in PointTable's map; its address is stable while the point exists.
using PointEntry = std::pair<const PointKey, StoredPoint>;

}  // namespace qdsim::shard

#endif  // QDSIM_NODE_SHARD_STORED_POINT_H_
