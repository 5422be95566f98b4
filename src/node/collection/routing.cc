#include "node/collection/routing.h"

#include <string>

namespace qdsim::collection {
namespace {

using shardpb::ShardOperation;

// Splits a list of points by owner; `field` picks the list in a part.
template <typename GetList>
void SplitPoints(const google::protobuf::RepeatedPtrField<shardpb::Point>& points, const HashRing& ring,
                 const ShardOperation& shape, GetList list_of, std::map<uint32_t, ShardOperation>& parts) {
  for (const auto& p : points) {
    auto [it, fresh] = parts.try_emplace(ShardOf(ring, p.id()));
    if (fresh) {
      it->second = shape;
      list_of(it->second)->Clear();
    }
    *list_of(it->second)->Add() = p;
  }
}

void SplitIds(const google::protobuf::RepeatedPtrField<shardpb::PointId>& ids, const HashRing& ring,
              const ShardOperation& shape, google::protobuf::RepeatedPtrField<shardpb::PointId>* (*list_of)(ShardOperation&),
              std::map<uint32_t, ShardOperation>& parts) {
  for (const auto& id : ids) {
    auto [it, fresh] = parts.try_emplace(ShardOf(ring, id));
    if (fresh) {
      it->second = shape;
      list_of(it->second)->Clear();
    }
    *list_of(it->second)->Add() = id;
  }
}

// The selector of a payload operation, or null.
shardpb::PointSelector* SelectorOf(ShardOperation& op) {
  switch (op.op_case()) {
    case ShardOperation::kSetPayload: return op.mutable_set_payload()->mutable_selector();
    case ShardOperation::kOverwritePayload: return op.mutable_overwrite_payload()->mutable_selector();
    case ShardOperation::kDeletePayloadKeys: return op.mutable_delete_payload_keys()->mutable_selector();
    case ShardOperation::kClearPayload: return op.mutable_clear_payload()->mutable_selector();
    default: return nullptr;
  }
}

}  // namespace

uint32_t ShardOf(const HashRing& ring, const shardpb::PointId& id) {
  return id.has_uuid() ? ring.ShardOfUuid(id.uuid()) : ring.ShardOfNumber(id.num());
}

std::map<uint32_t, ShardOperation> SplitByShard(const ShardOperation& op, const HashRing& ring,
                                                uint32_t shard_count) {
  std::map<uint32_t, ShardOperation> parts;
  ShardOperation shape = op;
  shape.clear_seq();
  switch (op.op_case()) {
    case ShardOperation::kUpsert:
      SplitPoints(op.upsert().points(), ring, shape, [](ShardOperation& o) { return o.mutable_upsert()->mutable_points(); },
                  parts);
      return parts;
    case ShardOperation::kUpdateVectors:
      SplitPoints(op.update_vectors().points(), ring, shape,
                  [](ShardOperation& o) { return o.mutable_update_vectors()->mutable_points(); }, parts);
      return parts;
    case ShardOperation::kDeletePoints:
      SplitIds(op.delete_points().ids(), ring, shape,
               [](ShardOperation& o) { return o.mutable_delete_points()->mutable_ids(); }, parts);
      return parts;
    default:
      break;
  }
  if (shardpb::PointSelector* selector = SelectorOf(shape); selector != nullptr && selector->has_ids()) {
    SplitIds(selector->ids().ids(), ring, shape,
             [](ShardOperation& o) { return SelectorOf(o)->mutable_ids()->mutable_ids(); }, parts);
    return parts;
  }
  if (op.op_case() == ShardOperation::OP_NOT_SET) return parts;
  for (uint32_t shard = 0; shard < shard_count; ++shard) parts[shard] = shape;
  return parts;
}

}  // namespace qdsim::collection
