// Point read bodies (retrieve, scroll, count, legacy search, query and their batches) to the
// shard store's requests.
#include <utility>

#include "absl/strings/str_cat.h"
#include "real/rest/json_filter.h"
#include "real/rest/json_points.h"

namespace qdsim::rest {
namespace {

absl::StatusOr<std::vector<std::string>> StringList(const Json& value, const std::string& where) {
  if (value.is_string()) return std::vector<std::string>{value.get<std::string>()};
  if (!value.is_array()) return InvalidType(where, value, "a list of strings");
  std::vector<std::string> out;
  for (size_t i = 0; i < value.size(); ++i) {
    absl::StatusOr<std::string> s = ToString(value[i], absl::StrCat(where, "[", i, "]"));
    if (!s.ok()) return s.status();
    out.push_back(*std::move(s));
  }
  return out;
}

// `with_vector`, or its alias `with_vectors`.
const Json* WithVectorMember(const Json& body) {
  const Json* v = Find(body, "with_vector");
  return v != nullptr ? v : Find(body, "with_vectors");
}

absl::StatusOr<std::optional<shardpb::Filter>> OptionalFilter(const Json& body) {
  const Json* filter = Find(body, "filter");
  if (filter == nullptr) return std::optional<shardpb::Filter>();
  absl::StatusOr<shardpb::Filter> f = FilterFromJson(*filter, "filter");
  if (!f.ok()) return f.status();
  return std::optional<shardpb::Filter>(*std::move(f));
}

// A limit: `fallback` when absent; 422 for 0, as Qdrant validates it.
absl::StatusOr<size_t> Limit(const Json& body, const char* key, uint64_t fallback) {
  absl::StatusOr<uint64_t> limit = GetU64(body, key, fallback);
  if (!limit.ok()) return limit.status();
  if (*limit == 0) return ValidationError(key, "value 0 invalid, must be 1 or larger");
  return static_cast<size_t>(*limit);
}

// with_payload (`payload_by_default` when absent) and with_vector, as every read body has them.
absl::Status ReadSelectors(const Json& body, bool payload_by_default, PayloadSelector& payload,
                           shard::WithVector& with_vector) {
  absl::StatusOr<PayloadSelector> p = WithPayloadFromJson(Find(body, "with_payload"), payload_by_default);
  if (!p.ok()) return p.status();
  payload = *std::move(p);
  absl::StatusOr<shard::WithVector> v = WithVectorFromJson(WithVectorMember(body));
  if (!v.ok()) return v.status();
  with_vector = *std::move(v);
  return absl::OkStatus();
}

// The search fields shared by the legacy search and the query API.
absl::Status CommonSearchFields(const Json& body, SearchBody& out) {
  absl::StatusOr<std::optional<shardpb::Filter>> filter = OptionalFilter(body);
  if (!filter.ok()) return filter.status();
  out.request.filter = *std::move(filter);
  absl::StatusOr<uint64_t> offset = GetU64(body, "offset", 0);
  if (!offset.ok()) return offset.status();
  out.request.offset = static_cast<size_t>(*offset);
  absl::StatusOr<std::optional<float>> threshold = GetOptFloat(body, "score_threshold");
  if (!threshold.ok()) return threshold.status();
  out.request.score_threshold = *threshold;
  if (absl::Status s = ReadSelectors(body, false, out.payload, out.request.with_vector); !s.ok()) return s;
  out.request.with_payload = out.payload.enabled;
  if (const Json* params = Find(body, "params")) {  // hnsw_ef, exact, …: search here is always exact
    if (!params->is_object()) return InvalidType("params", *params, "struct SearchParams");
  }
  if (Find(body, "shard_key") != nullptr) return BadRequest("custom sharding (shard_key) is not supported");
  return absl::OkStatus();
}

// The legacy search's `vector`: [floats], {name, vector: [floats]} or {name, vector: {indices, values}}.
absl::Status NamedVectorFromJson(const Json& value, SearchBody& out) {
  if (value.is_array()) {
    absl::StatusOr<shardpb::Vector> v = VectorFromJson(value, "vector");
    if (!v.ok()) return v.status();
    out.request.query = *std::move(v);
    return absl::OkStatus();
  }
  if (!value.is_object() || Find(value, "name") == nullptr || Find(value, "vector") == nullptr) {
    return FormatError("vector: data did not match any variant of untagged enum NamedVectorStruct");
  }
  absl::StatusOr<std::string> name = ToString(value["name"], "vector.name");
  if (!name.ok()) return name.status();
  absl::StatusOr<shardpb::Vector> v = VectorFromJson(value["vector"], "vector.vector");
  if (!v.ok()) return v.status();
  out.request.vector_name = *std::move(name);
  out.request.query = *std::move(v);
  return absl::OkStatus();
}

// A query's vector input: a point id, [floats] or {indices, values}.
absl::Status VectorInputFromJson(const Json& value, const std::string& where, SearchBody& out) {
  if (value.is_number() || value.is_string()) {
    absl::StatusOr<shardpb::PointId> id = PointIdFromJson(value);
    if (!id.ok()) return id.status();
    out.kind = SearchBody::Kind::kPointId;
    out.query_id = *std::move(id);
    return absl::OkStatus();
  }
  absl::StatusOr<shardpb::Vector> v = VectorFromJson(value, where);
  if (!v.ok()) return v.status();
  out.request.query = *std::move(v);
  return absl::OkStatus();
}

absl::Status QueryInterfaceFromJson(const Json& query, SearchBody& out) {
  if (!query.is_object() || (query.contains("indices") && query.contains("values"))) {
    return VectorInputFromJson(query, "query", out);
  }
  if (const Json* nearest = Find(query, "nearest")) {
    if (Find(query, "mmr") != nullptr) return BadRequest("query.nearest: mmr is not supported");
    return VectorInputFromJson(*nearest, "query.nearest", out);
  }
  for (const char* kind :
       {"recommend", "discover", "context", "order_by", "fusion", "rrf", "formula", "sample"}) {
    if (query.contains(kind))
      return BadRequest(absl::StrCat("query: `", kind, "` queries are not supported"));
  }
  return FormatError("query: data did not match any variant of untagged enum QueryInterface");
}

absl::StatusOr<std::vector<SearchBody>> BatchOf(const Json& body,
                                                absl::StatusOr<SearchBody> (*parse)(const Json&)) {
  if (absl::Status s = RequireObject(body, "SearchRequestBatch"); !s.ok()) return s;
  absl::StatusOr<const Json*> searches = Require(body, "searches");
  if (!searches.ok()) return searches.status();
  if (!(*searches)->is_array()) return InvalidType("searches", **searches, "a list of requests");
  std::vector<SearchBody> out;
  for (size_t i = 0; i < (*searches)->size(); ++i) {
    absl::StatusOr<SearchBody> one = parse((**searches)[i]);
    if (!one.ok()) {
      return absl::Status(one.status().code(),
                          absl::StrCat(one.status().message(), " (in searches[", i, "])"));
    }
    out.push_back(*std::move(one));
  }
  return out;
}

}  // namespace

absl::StatusOr<PayloadSelector> WithPayloadFromJson(const Json* value, bool fallback) {
  PayloadSelector s;
  s.enabled = fallback;
  if (value == nullptr) return s;
  if (value->is_boolean()) {
    s.enabled = value->get<bool>();
    return s;
  }
  s.enabled = true;
  if (value->is_array()) {
    absl::StatusOr<std::vector<std::string>> keys = StringList(*value, "with_payload");
    if (!keys.ok()) return keys.status();
    s.include = *std::move(keys);
    return s;
  }
  if (value->is_object() && value->size() == 1 &&
      (value->contains("include") || value->contains("exclude"))) {
    const bool include = value->contains("include");
    absl::StatusOr<std::vector<std::string>> keys =
        StringList(value->begin().value(), include ? "with_payload.include" : "with_payload.exclude");
    if (!keys.ok()) return keys.status();
    (include ? s.include : s.exclude) = *std::move(keys);
    return s;
  }
  return FormatError("with_payload: data did not match any variant of untagged enum WithPayloadInterface");
}

absl::StatusOr<shard::WithVector> WithVectorFromJson(const Json* value) {
  shard::WithVector w;
  if (value == nullptr) return w;
  if (value->is_boolean()) {
    w.all = value->get<bool>();
    return w;
  }
  absl::StatusOr<std::vector<std::string>> names = StringList(*value, "with_vector");
  if (!names.ok())
    return FormatError("with_vector: data did not match any variant of untagged enum WithVector");
  w.names.insert(names->begin(), names->end());
  return w;
}

absl::StatusOr<RetrieveBody> RetrieveFromJson(const Json& body) {
  if (absl::Status s = RequireObject(body, "PointRequest"); !s.ok()) return s;
  if (Find(body, "shard_key") != nullptr) return BadRequest("custom sharding (shard_key) is not supported");
  absl::StatusOr<const Json*> ids = Require(body, "ids");
  if (!ids.ok()) return ids.status();
  if (!(*ids)->is_array()) return InvalidType("ids", **ids, "a list of point ids");
  RetrieveBody out;
  for (const Json& item : **ids) {
    absl::StatusOr<shardpb::PointId> id = PointIdFromJson(item);
    if (!id.ok()) return id.status();
    out.ids.push_back(*std::move(id));
  }
  if (absl::Status s = ReadSelectors(body, true, out.payload, out.with_vector); !s.ok()) return s;
  return out;
}

absl::StatusOr<ScrollBody> ScrollFromJson(const Json& body) {
  if (absl::Status s = RequireObject(body, "ScrollRequest"); !s.ok()) return s;
  if (Find(body, "order_by") != nullptr) return BadRequest("scroll with order_by is not supported");
  if (Find(body, "shard_key") != nullptr) return BadRequest("custom sharding (shard_key) is not supported");
  ScrollBody out;
  if (const Json* offset = Find(body, "offset")) {
    absl::StatusOr<shardpb::PointId> id = PointIdFromJson(*offset);
    if (!id.ok()) return id.status();
    out.request.offset = *std::move(id);
  }
  absl::StatusOr<size_t> limit = Limit(body, "limit", 10);
  if (!limit.ok()) return limit.status();
  out.request.limit = *limit;
  absl::StatusOr<std::optional<shardpb::Filter>> filter = OptionalFilter(body);
  if (!filter.ok()) return filter.status();
  out.request.filter = *std::move(filter);
  if (absl::Status s = ReadSelectors(body, true, out.payload, out.request.with_vector); !s.ok()) return s;
  out.request.with_payload = out.payload.enabled;
  return out;
}

absl::StatusOr<std::optional<shardpb::Filter>> CountFromJson(const Json& body) {
  if (absl::Status s = RequireObject(body, "CountRequest"); !s.ok()) return s;
  if (Find(body, "shard_key") != nullptr) return BadRequest("custom sharding (shard_key) is not supported");
  absl::StatusOr<bool> exact = GetBool(body, "exact", true);  // counts here are always exact
  if (!exact.ok()) return exact.status();
  return OptionalFilter(body);
}

absl::StatusOr<SearchBody> SearchFromJson(const Json& body) {
  if (absl::Status s = RequireObject(body, "SearchRequest"); !s.ok()) return s;
  SearchBody out;
  absl::StatusOr<const Json*> vector = Require(body, "vector");
  if (!vector.ok()) return vector.status();
  if (absl::Status s = NamedVectorFromJson(**vector, out); !s.ok()) return s;
  const char* limit_key = Find(body, "limit") != nullptr ? "limit" : "top";
  if (Find(body, limit_key) == nullptr) return FormatError("missing field `limit`");
  absl::StatusOr<size_t> limit = Limit(body, limit_key, 0);
  if (!limit.ok()) return limit.status();
  out.request.limit = *limit;
  if (absl::Status s = CommonSearchFields(body, out); !s.ok()) return s;
  return out;
}

absl::StatusOr<SearchBody> QueryFromJson(const Json& body) {
  if (absl::Status s = RequireObject(body, "QueryRequest"); !s.ok()) return s;
  SearchBody out;
  if (const Json* prefetch = Find(body, "prefetch");
      prefetch != nullptr && !(prefetch->is_array() && prefetch->empty())) {
    return BadRequest("prefetch is not supported");
  }
  if (Find(body, "lookup_from") != nullptr) return BadRequest("lookup_from is not supported");
  if (const Json* using_name = Find(body, "using")) {
    absl::StatusOr<std::string> name = ToString(*using_name, "using");
    if (!name.ok()) return name.status();
    out.request.vector_name = *std::move(name);
  }
  if (const Json* query = Find(body, "query")) {
    if (absl::Status s = QueryInterfaceFromJson(*query, out); !s.ok()) return s;
  } else {
    out.kind = SearchBody::Kind::kIdOrder;
  }
  absl::StatusOr<size_t> limit = Limit(body, "limit", 10);
  if (!limit.ok()) return limit.status();
  out.request.limit = *limit;
  if (absl::Status s = CommonSearchFields(body, out); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<SearchBody>> SearchBatchFromJson(const Json& body) {
  return BatchOf(body, &SearchFromJson);
}

absl::StatusOr<std::vector<SearchBody>> QueryBatchFromJson(const Json& body) {
  return BatchOf(body, &QueryFromJson);
}

}  // namespace qdsim::rest
