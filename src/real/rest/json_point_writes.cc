// Point write bodies (and the vector forms they share with reads) to ShardOperations.
#include <utility>

#include "absl/strings/str_cat.h"
#include "real/rest/json_filter.h"
#include "real/rest/json_points.h"

namespace qdsim::rest {
namespace {

std::string At(const std::string& where, size_t index) { return absl::StrCat(where, "[", index, "]"); }

absl::StatusOr<shardpb::DenseVector> DenseFromJson(const Json& list, const std::string& where) {
  shardpb::DenseVector dense;
  dense.mutable_values()->Reserve(static_cast<int>(list.size()));
  for (size_t i = 0; i < list.size(); ++i) {
    absl::StatusOr<float> x = ToFloat(list[i], At(where, i));
    if (!x.ok()) return x.status();
    dense.add_values(*x);
  }
  return dense;
}

absl::StatusOr<shardpb::SparseVector> SparseFromJson(const Json& object, const std::string& where) {
  shardpb::SparseVector sparse;
  const Json& indices = object["indices"];
  const Json& values = object["values"];
  if (!indices.is_array()) return InvalidType(absl::StrCat(where, ".indices"), indices, "a list of u32");
  if (!values.is_array()) return InvalidType(absl::StrCat(where, ".values"), values, "a list of f32");
  for (size_t i = 0; i < indices.size(); ++i) {
    absl::StatusOr<uint32_t> index = ToU32(indices[i], At(absl::StrCat(where, ".indices"), i));
    if (!index.ok()) return index.status();
    sparse.add_indices(*index);
  }
  for (size_t i = 0; i < values.size(); ++i) {
    absl::StatusOr<float> x = ToFloat(values[i], At(absl::StrCat(where, ".values"), i));
    if (!x.ok()) return x.status();
    sparse.add_values(*x);
  }
  return sparse;
}

absl::StatusOr<std::vector<shardpb::PointId>> IdListFromJson(const Json& list, const std::string& where) {
  if (!list.is_array()) return InvalidType(where, list, "a list of point ids");
  std::vector<shardpb::PointId> ids;
  ids.reserve(list.size());
  for (const Json& item : list) {
    absl::StatusOr<shardpb::PointId> id = PointIdFromJson(item);
    if (!id.ok()) return id.status();
    ids.push_back(*std::move(id));
  }
  return ids;
}

absl::StatusOr<shardpb::Point> PointFromJson(const Json& value, const std::string& where, bool with_payload) {
  if (!value.is_object())
    return InvalidType(where, value, with_payload ? "struct PointStruct" : "struct PointVectors");
  shardpb::Point point;
  absl::StatusOr<const Json*> id = Require(value, "id");
  if (!id.ok()) return FormatError(absl::StrCat(where, ": missing field `id`"));
  absl::StatusOr<shardpb::PointId> parsed = PointIdFromJson(**id);
  if (!parsed.ok()) return parsed.status();
  *point.mutable_id() = *parsed;
  absl::StatusOr<const Json*> vector = Require(value, "vector");
  if (!vector.ok()) return FormatError(absl::StrCat(where, ": missing field `vector`"));
  absl::StatusOr<shardpb::NamedVectors> vectors =
      VectorStructFromJson(**vector, absl::StrCat(where, ".vector"));
  if (!vectors.ok()) return vectors.status();
  *point.mutable_vectors() = *std::move(vectors);
  if (const Json* payload = with_payload ? Find(value, "payload") : nullptr) {
    absl::StatusOr<google::protobuf::Struct> s = JsonToStruct(*payload, absl::StrCat(where, ".payload"));
    if (!s.ok()) return s.status();
    *point.mutable_payload() = *std::move(s);
  }
  return point;
}

absl::StatusOr<shardpb::ShardOperation> PointsListFromJson(const Json& points) {
  if (!points.is_array()) return InvalidType("points", points, "a list of points");
  shardpb::ShardOperation op;
  auto* upsert = op.mutable_upsert();
  for (size_t i = 0; i < points.size(); ++i) {
    absl::StatusOr<shardpb::Point> p = PointFromJson(points[i], At("points", i), true);
    if (!p.ok()) return p.status();
    *upsert->add_points() = *std::move(p);
  }
  return op;
}

// The vectors of a batch: a list of dense vectors (the default vector) or a map from name to a
// list of vectors. Adds one NamedVectors per point to `out` (which holds `count` entries).
absl::Status BatchVectorsFromJson(const Json& vectors, size_t count,
                                  std::vector<shardpb::NamedVectors>& out) {
  const auto size_error = [&](size_t got) {
    return ValidationError(
        "batch", absl::StrCat("number of vectors (", got, ") must equal the number of ids (", count, ")"));
  };
  if (vectors.is_array()) {
    if (vectors.size() != count) return size_error(vectors.size());
    for (size_t i = 0; i < count; ++i) {
      absl::StatusOr<shardpb::Vector> v = VectorFromJson(vectors[i], At("batch.vectors", i));
      if (!v.ok()) return v.status();
      (*out[i].mutable_vectors())[""] = *std::move(v);
    }
    return absl::OkStatus();
  }
  if (!vectors.is_object())
    return InvalidType("batch.vectors", vectors, "a list of vectors or a map of named vectors");
  for (const auto& [name, list] : vectors.items()) {
    const std::string where = absl::StrCat("batch.vectors.", name);
    if (!list.is_array()) return InvalidType(where, list, "a list of vectors");
    if (list.size() != count) return size_error(list.size());
    for (size_t i = 0; i < count; ++i) {
      absl::StatusOr<shardpb::Vector> v = VectorFromJson(list[i], At(where, i));
      if (!v.ok()) return v.status();
      (*out[i].mutable_vectors())[name] = *std::move(v);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<shardpb::ShardOperation> BatchFromJson(const Json& batch) {
  if (!batch.is_object()) return InvalidType("batch", batch, "struct Batch");
  absl::StatusOr<const Json*> ids_json = Require(batch, "ids");
  if (!ids_json.ok()) return FormatError("batch: missing field `ids`");
  absl::StatusOr<std::vector<shardpb::PointId>> ids = IdListFromJson(**ids_json, "batch.ids");
  if (!ids.ok()) return ids.status();
  absl::StatusOr<const Json*> vectors_json = Require(batch, "vectors");
  if (!vectors_json.ok()) return FormatError("batch: missing field `vectors`");
  std::vector<shardpb::NamedVectors> vectors(ids->size());
  if (absl::Status s = BatchVectorsFromJson(**vectors_json, ids->size(), vectors); !s.ok()) return s;
  const Json* payloads = Find(batch, "payloads");
  if (payloads != nullptr && !payloads->is_array())
    return InvalidType("batch.payloads", *payloads, "a list of payloads");
  if (payloads != nullptr && payloads->size() != ids->size()) {
    return ValidationError("batch", absl::StrCat("number of payloads (", payloads->size(),
                                                 ") must equal the number of ids (", ids->size(), ")"));
  }
  shardpb::ShardOperation op;
  for (size_t i = 0; i < ids->size(); ++i) {
    shardpb::Point* p = op.mutable_upsert()->add_points();
    *p->mutable_id() = (*ids)[i];
    *p->mutable_vectors() = std::move(vectors[i]);
    if (payloads == nullptr || (*payloads)[i].is_null()) continue;
    absl::StatusOr<google::protobuf::Struct> s = JsonToStruct((*payloads)[i], At("batch.payloads", i));
    if (!s.ok()) return s.status();
    *p->mutable_payload() = *std::move(s);
  }
  return op;
}

// The points a payload operation touches: `points` (ids) or `filter`, exactly one.
absl::StatusOr<shardpb::PointSelector> SelectorFromJson(const Json& body) {
  const Json* points = Find(body, "points");
  const Json* filter = Find(body, "filter");
  if ((points == nullptr) == (filter == nullptr)) {
    return FormatError(points == nullptr ? "Either list of point ids or filter must be provided"
                                         : "Either list of point ids or filter must be provided, not both");
  }
  shardpb::PointSelector selector;
  if (points != nullptr) {
    absl::StatusOr<std::vector<shardpb::PointId>> ids = IdListFromJson(*points, "points");
    if (!ids.ok()) return ids.status();
    for (auto& id : *ids) *selector.mutable_ids()->add_ids() = std::move(id);
  } else {
    absl::StatusOr<shardpb::Filter> f = FilterFromJson(*filter, "filter");
    if (!f.ok()) return f.status();
    *selector.mutable_filter() = *std::move(f);
  }
  return selector;
}

absl::StatusOr<google::protobuf::Struct> RequiredPayload(const Json& body) {
  absl::StatusOr<const Json*> payload = Require(body, "payload");
  if (!payload.ok()) return payload.status();
  return JsonToStruct(**payload, "payload");
}

absl::Status RefuseShardKey(const Json& body) {
  if (Find(body, "shard_key") != nullptr) return BadRequest("custom sharding (shard_key) is not supported");
  return absl::OkStatus();
}

// One operation of POST …/points/batch: {"<kind>": body}.
absl::StatusOr<shardpb::ShardOperation> BatchOperationFromJson(const Json& item, const std::string& where) {
  if (!item.is_object() || item.size() != 1)
    return InvalidType(where, item, "an operation (one of upsert, delete, …)");
  const std::string& kind = item.begin().key();
  const Json& body = item.begin().value();
  if (!body.is_object()) return InvalidType(absl::StrCat(where, ".", kind), body, "an operation body");
  if (kind == "upsert") return UpsertFromJson(body);
  if (kind == "delete") return DeletePointsFromJson(body);
  if (kind == "set_payload") return SetPayloadFromJson(body);
  if (kind == "overwrite_payload") return OverwritePayloadFromJson(body);
  if (kind == "delete_payload") return DeletePayloadFromJson(body);
  if (kind == "clear_payload") return ClearPayloadFromJson(body);
  if (kind == "update_vectors") return UpdateVectorsFromJson(body);
  if (kind == "delete_vectors") return BadRequest("delete_vectors is not supported");
  return FormatError(
      absl::StrCat(where, ": unknown variant `", kind,
                   "`, expected one of `upsert`, `delete`, `set_payload`, `overwrite_payload`, "
                   "`delete_payload`, `clear_payload`, `update_vectors`, `delete_vectors`"));
}

}  // namespace

// ---- Vectors -----------------------------------------------------------------------------------

absl::StatusOr<shardpb::Vector> VectorFromJson(const Json& value, const std::string& where) {
  shardpb::Vector v;
  if (value.is_array()) {
    if (!value.empty() && value[0].is_array())
      return BadRequest(absl::StrCat(where, ": multivectors are not supported"));
    absl::StatusOr<shardpb::DenseVector> dense = DenseFromJson(value, where);
    if (!dense.ok()) return dense.status();
    *v.mutable_dense() = *std::move(dense);
    return v;
  }
  if (value.is_object() && value.contains("indices") && value.contains("values")) {
    absl::StatusOr<shardpb::SparseVector> sparse = SparseFromJson(value, where);
    if (!sparse.ok()) return sparse.status();
    *v.mutable_sparse() = *std::move(sparse);
    return v;
  }
  if (value.is_object() && (value.contains("text") || value.contains("image") || value.contains("object"))) {
    return BadRequest(absl::StrCat(where, ": inference (documents, images, objects) is not supported"));
  }
  return FormatError(absl::StrCat(where, ": data did not match any variant of untagged enum Vector"));
}

absl::StatusOr<shardpb::NamedVectors> VectorStructFromJson(const Json& value, const std::string& where) {
  shardpb::NamedVectors named;
  if (value.is_array()) {
    absl::StatusOr<shardpb::Vector> v = VectorFromJson(value, where);
    if (!v.ok()) return v.status();
    (*named.mutable_vectors())[""] = *std::move(v);
    return named;
  }
  if (!value.is_object())
    return FormatError(absl::StrCat(where, ": data did not match any variant of untagged enum VectorStruct"));
  for (const auto& [name, item] : value.items()) {
    absl::StatusOr<shardpb::Vector> v = VectorFromJson(item, absl::StrCat(where, ".", name));
    if (!v.ok()) return v.status();
    (*named.mutable_vectors())[name] = *std::move(v);
  }
  return named;
}

// ---- Writes ------------------------------------------------------------------------------------

absl::StatusOr<shardpb::ShardOperation> UpsertFromJson(const Json& body) {
  if (absl::Status s = RequireObject(body, "PointInsertOperations"); !s.ok()) return s;
  if (absl::Status s = RefuseShardKey(body); !s.ok()) return s;
  if (Find(body, "update_filter") != nullptr)
    return BadRequest("conditional upserts (update_filter) are not supported");
  if (const Json* batch = Find(body, "batch")) return BatchFromJson(*batch);
  if (const Json* points = Find(body, "points")) return PointsListFromJson(*points);
  return FormatError("data did not match any variant of untagged enum PointInsertOperations");
}

absl::StatusOr<shardpb::ShardOperation> DeletePointsFromJson(const Json& body) {
  if (absl::Status s = RequireObject(body, "PointsSelector"); !s.ok()) return s;
  if (absl::Status s = RefuseShardKey(body); !s.ok()) return s;
  shardpb::ShardOperation op;
  if (const Json* points = Find(body, "points")) {
    absl::StatusOr<std::vector<shardpb::PointId>> ids = IdListFromJson(*points, "points");
    if (!ids.ok()) return ids.status();
    for (auto& id : *ids) *op.mutable_delete_points()->add_ids() = std::move(id);
    return op;
  }
  if (const Json* filter = Find(body, "filter")) {
    absl::StatusOr<shardpb::Filter> f = FilterFromJson(*filter, "filter");
    if (!f.ok()) return f.status();
    *op.mutable_delete_by_filter()->mutable_filter() = *std::move(f);
    return op;
  }
  return FormatError("data did not match any variant of untagged enum PointsSelector");
}

absl::StatusOr<shardpb::ShardOperation> SetPayloadFromJson(const Json& body) {
  if (absl::Status s = RequireObject(body, "SetPayload"); !s.ok()) return s;
  if (absl::Status s = RefuseShardKey(body); !s.ok()) return s;
  absl::StatusOr<google::protobuf::Struct> payload = RequiredPayload(body);
  if (!payload.ok()) return payload.status();
  absl::StatusOr<shardpb::PointSelector> selector = SelectorFromJson(body);
  if (!selector.ok()) return selector.status();
  shardpb::ShardOperation op;
  auto* set = op.mutable_set_payload();
  *set->mutable_selector() = *std::move(selector);
  *set->mutable_payload() = *std::move(payload);
  if (const Json* key = Find(body, "key")) {
    absl::StatusOr<std::string> k = ToString(*key, "key");
    if (!k.ok()) return k.status();
    set->set_key(*k);
  }
  return op;
}

absl::StatusOr<shardpb::ShardOperation> OverwritePayloadFromJson(const Json& body) {
  if (absl::Status s = RequireObject(body, "SetPayload"); !s.ok()) return s;
  if (absl::Status s = RefuseShardKey(body); !s.ok()) return s;
  if (Find(body, "key") != nullptr) return BadRequest("`key` is not allowed when overwriting a payload");
  absl::StatusOr<google::protobuf::Struct> payload = RequiredPayload(body);
  if (!payload.ok()) return payload.status();
  absl::StatusOr<shardpb::PointSelector> selector = SelectorFromJson(body);
  if (!selector.ok()) return selector.status();
  shardpb::ShardOperation op;
  *op.mutable_overwrite_payload()->mutable_selector() = *std::move(selector);
  *op.mutable_overwrite_payload()->mutable_payload() = *std::move(payload);
  return op;
}

absl::StatusOr<shardpb::ShardOperation> DeletePayloadFromJson(const Json& body) {
  if (absl::Status s = RequireObject(body, "DeletePayload"); !s.ok()) return s;
  if (absl::Status s = RefuseShardKey(body); !s.ok()) return s;
  absl::StatusOr<const Json*> keys = Require(body, "keys");
  if (!keys.ok()) return keys.status();
  if (!(*keys)->is_array()) return InvalidType("keys", **keys, "a list of strings");
  absl::StatusOr<shardpb::PointSelector> selector = SelectorFromJson(body);
  if (!selector.ok()) return selector.status();
  shardpb::ShardOperation op;
  auto* del = op.mutable_delete_payload_keys();
  *del->mutable_selector() = *std::move(selector);
  for (size_t i = 0; i < (*keys)->size(); ++i) {
    absl::StatusOr<std::string> k = ToString((**keys)[i], At("keys", i));
    if (!k.ok()) return k.status();
    del->add_keys(*k);
  }
  return op;
}

absl::StatusOr<shardpb::ShardOperation> ClearPayloadFromJson(const Json& body) {
  if (absl::Status s = RequireObject(body, "PointsSelector"); !s.ok()) return s;
  if (absl::Status s = RefuseShardKey(body); !s.ok()) return s;
  if (Find(body, "points") == nullptr && Find(body, "filter") == nullptr) {
    return FormatError("data did not match any variant of untagged enum PointsSelector");
  }
  absl::StatusOr<shardpb::PointSelector> selector = SelectorFromJson(body);
  if (!selector.ok()) return selector.status();
  shardpb::ShardOperation op;
  *op.mutable_clear_payload()->mutable_selector() = *std::move(selector);
  return op;
}

absl::StatusOr<shardpb::ShardOperation> UpdateVectorsFromJson(const Json& body) {
  if (absl::Status s = RequireObject(body, "UpdateVectors"); !s.ok()) return s;
  if (absl::Status s = RefuseShardKey(body); !s.ok()) return s;
  absl::StatusOr<const Json*> points = Require(body, "points");
  if (!points.ok()) return points.status();
  if (!(*points)->is_array()) return InvalidType("points", **points, "a list of points");
  if ((*points)->empty()) return ValidationError("points", "must not be empty");
  shardpb::ShardOperation op;
  for (size_t i = 0; i < (*points)->size(); ++i) {
    absl::StatusOr<shardpb::Point> p = PointFromJson((**points)[i], At("points", i), false);
    if (!p.ok()) return p.status();
    *op.mutable_update_vectors()->add_points() = *std::move(p);
  }
  return op;
}

absl::StatusOr<std::vector<shardpb::ShardOperation>> BatchUpdateFromJson(const Json& body) {
  if (absl::Status s = RequireObject(body, "UpdateOperations"); !s.ok()) return s;
  absl::StatusOr<const Json*> operations = Require(body, "operations");
  if (!operations.ok()) return operations.status();
  if (!(*operations)->is_array()) return InvalidType("operations", **operations, "a list of operations");
  std::vector<shardpb::ShardOperation> ops;
  for (size_t i = 0; i < (*operations)->size(); ++i) {
    absl::StatusOr<shardpb::ShardOperation> op =
        BatchOperationFromJson((**operations)[i], At("operations", i));
    if (!op.ok()) return op.status();
    ops.push_back(*std::move(op));
  }
  return ops;
}

}  // namespace qdsim::rest
