// PointTable: validation and application of ShardOperations (reads are in point_table_read.cc).
#include "node/shard/point_table.h"

#include "absl/strings/str_cat.h"
#include "node/shard/filter.h"
#include "node/shard/payload.h"
#include "node/world/status_macros.h"

namespace qdsim::shard {
namespace {

absl::Status MissingPoint(const PointKey& key) {
  return absl::NotFoundError(absl::StrCat("No point with id ", key.ToString(), " found"));
}

}  // namespace

PointTable::PointTable(ShardConfig config) : config_(std::move(config)) {
  for (const auto& [name, params] : config_.dense) columns_.emplace(name, DenseColumn(params.size));
}

void PointTable::Index(const PointEntry& entry) {
  for (const auto& [name, vector] : entry.second.vectors) {
    auto column = columns_.find(name);
    if (column != columns_.end() && vector.has_dense()) {
      column->second.Put(&entry, vector.dense().values().data());
    }
  }
}

void PointTable::Unindex(const PointKey& key) {
  for (auto& [name, column] : columns_) column.Remove(key);
}

void PointTable::Erase(const PointKey& key) {
  Unindex(key);
  points_.erase(key);
}

void PointTable::Clear() {
  points_.clear();
  for (auto& [name, column] : columns_) column.Clear();
}

absl::Status PointTable::ValidatePoint(const shardpb::Point& point, bool must_exist) const {
  if (!point.has_id()) return absl::InvalidArgumentError("Wrong input: point without an id");
  ASSIGN_OR_RETURN(const PointKey key, PointKey::From(point.id()));
  if (must_exist && !points_.count(key)) return MissingPoint(key);
  // Sorted names keep the first error reported the same on every replica.
  const std::map<std::string, shardpb::Vector> sorted(point.vectors().vectors().begin(),
                                                      point.vectors().vectors().end());
  for (const auto& [name, vector] : sorted) RETURN_IF_ERROR(ValidateVector(config_, name, vector));
  return absl::OkStatus();
}

absl::Status PointTable::ValidateSelector(const shardpb::PointSelector& selector) const {
  switch (selector.kind_case()) {
    case shardpb::PointSelector::kIds:
      for (const auto& id : selector.ids().ids()) {
        ASSIGN_OR_RETURN(const PointKey key, PointKey::From(id));
        if (!points_.count(key)) return MissingPoint(key);
      }
      return absl::OkStatus();
    case shardpb::PointSelector::kFilter:
      return ValidateFilter(selector.filter());
    case shardpb::PointSelector::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("Wrong input: select points by ids or by a filter");
}

absl::Status PointTable::Validate(const shardpb::ShardOperation& op) const {
  using Op = shardpb::ShardOperation;
  switch (op.op_case()) {
    case Op::kUpsert:
      for (const auto& p : op.upsert().points()) RETURN_IF_ERROR(ValidatePoint(p, false));
      return absl::OkStatus();
    case Op::kDeletePoints:
      for (const auto& id : op.delete_points().ids()) RETURN_IF_ERROR(PointKey::From(id).status());
      return absl::OkStatus();
    case Op::kDeleteByFilter:
      return ValidateFilter(op.delete_by_filter().filter());
    case Op::kSetPayload:
      return ValidateSelector(op.set_payload().selector());
    case Op::kOverwritePayload:
      return ValidateSelector(op.overwrite_payload().selector());
    case Op::kDeletePayloadKeys:
      return ValidateSelector(op.delete_payload_keys().selector());
    case Op::kClearPayload:
      return ValidateSelector(op.clear_payload().selector());
    case Op::kUpdateVectors:
      for (const auto& p : op.update_vectors().points()) RETURN_IF_ERROR(ValidatePoint(p, true));
      return absl::OkStatus();
    case Op::OP_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("Wrong input: empty shard operation");
}

std::vector<PointKey> PointTable::Select(const shardpb::PointSelector& selector) const {
  std::vector<PointKey> keys;
  if (selector.has_ids()) {
    for (const auto& id : selector.ids().ids()) keys.push_back(*PointKey::From(id));
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
  }
  for (const auto& [key, point] : points_) {
    if (FilterMatches(selector.filter(), key, point.payload)) keys.push_back(key);
  }
  return keys;
}

void PointTable::ApplyUpsert(const shardpb::Upsert& upsert, uint64_t seq) {
  for (const auto& p : upsert.points()) {
    StoredPoint stored;
    for (const auto& [name, vector] : p.vectors().vectors()) {
      shardpb::Vector v = vector;
      Canonicalize(config_, name, v);
      stored.vectors[name] = std::move(v);
    }
    stored.payload = p.payload();
    stored.version = seq;
    const PointKey key = *PointKey::From(p.id());
    Unindex(key);
    auto [it, inserted] = points_.insert_or_assign(key, std::move(stored));  // a later duplicate wins
    Index(*it);
  }
}

void PointTable::ApplyUpdateVectors(const shardpb::UpdateVectors& update, uint64_t seq) {
  for (const auto& p : update.points()) {
    auto entry = points_.find(*PointKey::From(p.id()));
    StoredPoint& stored = entry->second;
    for (const auto& [name, vector] : p.vectors().vectors()) {
      shardpb::Vector v = vector;
      Canonicalize(config_, name, v);
      stored.vectors[name] = std::move(v);
    }
    stored.version = seq;
    Index(*entry);
  }
}

template <typename Fn>
void PointTable::MutatePayloads(const shardpb::PointSelector& selector, uint64_t seq, Fn mutate) {
  for (const PointKey& key : Select(selector)) {
    StoredPoint& point = points_.at(key);
    mutate(point.payload);
    point.version = seq;
  }
}

void PointTable::Apply(const shardpb::ShardOperation& op) {
  using Op = shardpb::ShardOperation;
  const uint64_t seq = op.seq();
  switch (op.op_case()) {
    case Op::kUpsert:
      return ApplyUpsert(op.upsert(), seq);
    case Op::kDeletePoints:
      for (const auto& id : op.delete_points().ids()) Erase(*PointKey::From(id));
      return;
    case Op::kDeleteByFilter: {
      shardpb::PointSelector selector;
      *selector.mutable_filter() = op.delete_by_filter().filter();
      for (const PointKey& key : Select(selector)) Erase(key);
      return;
    }
    case Op::kSetPayload: {
      const auto& set = op.set_payload();
      return MutatePayloads(set.selector(), seq, [&](google::protobuf::Struct& payload) {
        SetPayloadAt(payload, set.has_key() ? set.key() : std::string(), set.payload());
      });
    }
    case Op::kOverwritePayload:
      return MutatePayloads(op.overwrite_payload().selector(), seq,
                            [&](google::protobuf::Struct& payload) {
                              payload = op.overwrite_payload().payload();
                            });
    case Op::kDeletePayloadKeys:
      return MutatePayloads(op.delete_payload_keys().selector(), seq,
                            [&](google::protobuf::Struct& payload) {
                              for (const auto& key : op.delete_payload_keys().keys()) {
                                DeletePayloadKey(payload, key);
                              }
                            });
    case Op::kClearPayload:
      return MutatePayloads(op.clear_payload().selector(), seq,
                            [](google::protobuf::Struct& payload) { payload.Clear(); });
    case Op::kUpdateVectors:
      return ApplyUpdateVectors(op.update_vectors(), seq);
    case Op::OP_NOT_SET:
      return;
  }
}

absl::Status PointTable::Restore(const PointKey& key, StoredPoint point) {
  for (auto& [name, vector] : point.vectors) {
    RETURN_IF_ERROR(ValidateVector(config_, name, vector));
    if (vector.has_sparse()) Canonicalize(config_, name, vector);  // sorting is idempotent
  }
  Unindex(key);
  auto [it, inserted] = points_.insert_or_assign(key, std::move(point));
  Index(*it);
  return absl::OkStatus();
}

}  // namespace qdsim::shard
