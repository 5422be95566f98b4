#include "real/rest/json_collections.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"

namespace qdsim::rest {
namespace {

// Qdrant fields a create body may carry that this node keeps only to report them back.
constexpr const char* kEchoedObjects[] = {"hnsw_config",         "wal_config",         "optimizers_config",
                                          "quantization_config", "strict_mode_config", "metadata"};

struct DistanceName {
  consensuspb::Distance distance;
  const char* name;
};
constexpr DistanceName kDistances[] = {{consensuspb::COSINE, "Cosine"},
                                       {consensuspb::EUCLID, "Euclid"},
                                       {consensuspb::DOT, "Dot"},
                                       {consensuspb::MANHATTAN, "Manhattan"}};

const char* NameOf(consensuspb::Distance d) {
  for (const auto& entry : kDistances) {
    if (entry.distance == d) return entry.name;
  }
  return "Cosine";
}

absl::StatusOr<consensuspb::Distance> DistanceFromJson(const Json& value, const std::string& where) {
  absl::StatusOr<std::string> text = ToString(value, where);
  if (!text.ok()) return text.status();
  for (const auto& entry : kDistances) {
    if (*text == entry.name) return entry.distance;
  }
  return FormatError(absl::StrCat(where, ": unknown variant `", *text,
                                  "`, expected one of `Cosine`, `Euclid`, `Dot`, `Manhattan`"));
}

// A positive count: 422 for 0, as Qdrant validates it.
absl::StatusOr<std::optional<uint32_t>> PositiveU32(const Json& obj, const char* key,
                                                    const std::string& where) {
  absl::StatusOr<std::optional<uint32_t>> v = GetOptU32(obj, key);
  if (!v.ok()) return v.status();
  if (*v && **v == 0) return ValidationError(where, "value 0 invalid, must be 1 or larger");
  return v;
}

// One vector's params: size and distance to the node, the rest (hnsw_config, on_disk, …) to
// `extra` for reporting back.
absl::StatusOr<consensuspb::VectorParams> VectorParamsFromJson(const std::string& name, const Json& value,
                                                               const std::string& where, Json& extra) {
  if (!value.is_object()) return InvalidType(where, value, "struct VectorParams");
  if (Find(value, "multivector_config") != nullptr)
    return BadRequest(absl::StrCat(where, ": multivectors are not supported"));
  consensuspb::VectorParams p;
  p.set_name(name);
  absl::StatusOr<const Json*> size = Require(value, "size");
  if (!size.ok()) return FormatError(absl::StrCat(where, ": missing field `size`"));
  absl::StatusOr<uint64_t> n = ToU64(**size, absl::StrCat(where, ".size"));
  if (!n.ok()) return n.status();
  if (*n == 0) return ValidationError(absl::StrCat(where, ".size"), "value 0 invalid, must be 1 or larger");
  if (*n > 65536) return ValidationError(absl::StrCat(where, ".size"), "value must be at most 65536");
  p.set_size(*n);
  absl::StatusOr<const Json*> distance = Require(value, "distance");
  if (!distance.ok()) return FormatError(absl::StrCat(where, ": missing field `distance`"));
  absl::StatusOr<consensuspb::Distance> d = DistanceFromJson(**distance, absl::StrCat(where, ".distance"));
  if (!d.ok()) return d.status();
  p.set_distance(*d);
  for (const auto& [key, item] : value.items()) {
    if (key != "size" && key != "distance" && !item.is_null()) extra[key] = item;
  }
  return p;
}

// `vectors`: single ({size, distance}) or named ({name: {size, distance}}).
absl::Status VectorsFromJson(const Json& value, consensuspb::CollectionParams& params, Json& extras) {
  if (!value.is_object()) return InvalidType("vectors", value, "struct VectorParams or a map of them");
  std::map<std::string, std::pair<consensuspb::VectorParams, Json>> sorted;  // the proto wants them by name
  const bool single = value.contains("size") || value.contains("distance");
  params.set_named_vectors(!single);
  if (single) {
    Json extra = Json::object();
    absl::StatusOr<consensuspb::VectorParams> p = VectorParamsFromJson("", value, "vectors", extra);
    if (!p.ok()) return p.status();
    sorted[""] = {*std::move(p), std::move(extra)};
  } else {
    for (const auto& [name, item] : value.items()) {
      Json extra = Json::object();
      absl::StatusOr<consensuspb::VectorParams> p =
          VectorParamsFromJson(name, item, absl::StrCat("vectors.", name), extra);
      if (!p.ok()) return p.status();
      sorted[name] = {*std::move(p), std::move(extra)};
    }
  }
  Json vector_extras = Json::object();
  for (auto& [name, entry] : sorted) {
    *params.add_vectors() = std::move(entry.first);
    if (!entry.second.empty()) vector_extras[name] = std::move(entry.second);
  }
  if (!vector_extras.empty()) extras["vectors"] = std::move(vector_extras);
  return absl::OkStatus();
}

absl::Status SparseVectorsFromJson(const Json& value, consensuspb::CollectionParams& params, Json& extras) {
  if (!value.is_object()) return InvalidType("sparse_vectors", value, "a map of sparse vector params");
  std::map<std::string, Json> sorted;
  for (const auto& [name, item] : value.items()) {
    const std::string where = absl::StrCat("sparse_vectors.", name);
    if (!item.is_object()) return InvalidType(where, item, "struct SparseVectorParams");
    if (const Json* modifier = Find(item, "modifier"); modifier != nullptr && *modifier != "none") {
      return BadRequest(absl::StrCat(where, ".modifier: only `none` is supported"));
    }
    sorted[name] = item;
  }
  Json echoed = Json::object();
  for (auto& [name, item] : sorted) {
    params.add_sparse_vectors()->set_name(name);
    echoed[name] = std::move(item);
  }
  extras["sparse_vectors"] = std::move(echoed);
  return absl::OkStatus();
}

// The Qdrant fields kept only to be reported back.
absl::Status EchoedFieldsFromJson(const Json& body, Json& extras) {
  for (const char* key : kEchoedObjects) {
    const Json* v = Find(body, key);
    if (v == nullptr) continue;
    if (!v->is_object()) return InvalidType(key, *v, "an object");
    extras[key] = *v;
  }
  if (const Json* v = Find(body, "on_disk_payload")) {
    absl::StatusOr<bool> b = ToBool(*v, "on_disk_payload");
    if (!b.ok()) return b.status();
    extras["on_disk_payload"] = *b;
  }
  if (const Json* v = Find(body, "read_fan_out_factor")) {
    absl::StatusOr<uint32_t> n = ToU32(*v, "read_fan_out_factor");
    if (!n.ok()) return n.status();
    extras["read_fan_out_factor"] = *n;
  }
  if (const Json* v = Find(body, "sharding_method")) {
    if (*v != "auto") return BadRequest("sharding_method: only `auto` is supported");
    extras["sharding_method"] = "auto";
  }
  if (Find(body, "init_from") != nullptr) return BadRequest("init_from is not supported");
  return absl::OkStatus();
}

// `base` with the non-null members of `diff` set over it (Qdrant's *Diff semantics).
Json Overlay(Json base, const Json* diff) {
  if (diff == nullptr || !diff->is_object()) return base;
  for (const auto& [key, value] : diff->items()) {
    if (!value.is_null()) base[key] = value;
  }
  return base;
}

// The extra fields kept at creation (an object; empty if none or unreadable).
Json Extras(const consensuspb::CollectionParams& params) {
  if (params.extra_json().empty()) return Json::object();
  Json extras = Json::parse(params.extra_json(), nullptr, /*allow_exceptions=*/false);
  return extras.is_object() ? extras : Json::object();
}

Json VectorParamsToJson(const consensuspb::VectorParams& p, const Json* extra) {
  Json out = Json::object({{"size", p.size()}, {"distance", NameOf(p.distance())}});
  return Overlay(std::move(out), extra);
}

const Json* Member(const Json& obj, const std::string& key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

Json HnswDefaults() {
  return Json::object({{"m", 16},
                       {"ef_construct", 100},
                       {"full_scan_threshold", 10000},
                       {"max_indexing_threads", 0},
                       {"on_disk", false}});
}

Json OptimizerDefaults() {
  return Json::object({{"deleted_threshold", 0.2},
                       {"vacuum_min_vector_number", 1000},
                       {"default_segment_number", 0},
                       {"max_segment_size", nullptr},
                       {"memmap_threshold", nullptr},
                       {"indexing_threshold", 10000},
                       {"flush_interval_sec", 5},
                       {"max_optimization_threads", nullptr}});
}

Json WalDefaults() { return Json::object({{"wal_capacity_mb", 32}, {"wal_segments_ahead", 0}}); }

absl::StatusOr<AliasChange> AliasActionFromJson(const Json& item, const std::string& where) {
  if (!item.is_object() || item.size() != 1 || !item.begin().value().is_object()) {
    return FormatError(
        absl::StrCat(where, ": data did not match any variant of untagged enum AliasOperations"));
  }
  const std::string& kind = item.begin().key();
  const Json& body = item.begin().value();
  auto field = [&](const char* key) -> absl::StatusOr<std::string> {
    absl::StatusOr<const Json*> v = Require(body, key);
    if (!v.ok()) return FormatError(absl::StrCat(where, ".", kind, ": missing field `", key, "`"));
    return ToString(**v, absl::StrCat(where, ".", kind, ".", key));
  };
  AliasChange change;
  absl::StatusOr<std::string> a, b;
  if (kind == "create_alias") {
    change.kind = AliasChange::Kind::kCreate;
    a = field("alias_name");
    b = field("collection_name");
  } else if (kind == "delete_alias") {
    change.kind = AliasChange::Kind::kDelete;
    a = field("alias_name");
    b = std::string();
  } else if (kind == "rename_alias") {
    change.kind = AliasChange::Kind::kRename;
    a = field("old_alias_name");
    b = field("new_alias_name");
  } else {
    return FormatError(
        absl::StrCat(where, ": data did not match any variant of untagged enum AliasOperations"));
  }
  if (!a.ok()) return a.status();
  if (!b.ok()) return b.status();
  change.alias = *a;
  (change.kind == AliasChange::Kind::kRename ? change.new_alias : change.collection) = *b;
  return change;
}

}  // namespace

absl::StatusOr<api::CreateCollection> CreateCollectionFromJson(const std::string& name, const Json& body) {
  if (absl::Status s = RequireObject(body, "CreateCollection"); !s.ok()) return s;
  api::CreateCollection create;
  create.name = name;
  consensuspb::CollectionParams& params = create.params;
  Json extras = Json::object();
  if (const Json* vectors = Find(body, "vectors")) {
    if (absl::Status s = VectorsFromJson(*vectors, params, extras); !s.ok()) return s;
  }
  if (const Json* sparse = Find(body, "sparse_vectors")) {
    if (absl::Status s = SparseVectorsFromJson(*sparse, params, extras); !s.ok()) return s;
  }
  absl::StatusOr<std::optional<uint32_t>> shards = PositiveU32(body, "shard_number", "shard_number");
  if (!shards.ok()) return shards.status();
  params.set_shard_number(shards->value_or(0));  // 0: one per peer
  absl::StatusOr<std::optional<uint32_t>> rf = PositiveU32(body, "replication_factor", "replication_factor");
  if (!rf.ok()) return rf.status();
  params.set_replication_factor(rf->value_or(1));
  absl::StatusOr<std::optional<uint32_t>> wcf =
      PositiveU32(body, "write_consistency_factor", "write_consistency_factor");
  if (!wcf.ok()) return wcf.status();
  params.set_write_consistency_factor(wcf->value_or(1));
  if (absl::Status s = EchoedFieldsFromJson(body, extras); !s.ok()) return s;
  if (!extras.empty()) params.set_extra_json(Dump(extras));
  return create;
}

absl::StatusOr<api::UpdateCollection> UpdateCollectionFromJson(const std::string& name, const Json& body) {
  if (absl::Status s = RequireObject(body, "UpdateCollection"); !s.ok()) return s;
  api::UpdateCollection update;
  update.name = name;
  const Json* params = Find(body, "params");
  if (params != nullptr && !params->is_object())
    return InvalidType("params", *params, "struct CollectionParamsDiff");
  for (const Json* source : {params, &body}) {
    if (source == nullptr) continue;
    const std::string prefix = source == params ? "params." : "";
    absl::StatusOr<std::optional<uint32_t>> rf =
        PositiveU32(*source, "replication_factor", prefix + "replication_factor");
    if (!rf.ok()) return rf.status();
    if (*rf) update.replication_factor = *rf;
    absl::StatusOr<std::optional<uint32_t>> wcf =
        PositiveU32(*source, "write_consistency_factor", prefix + "write_consistency_factor");
    if (!wcf.ok()) return wcf.status();
    if (*wcf) update.write_consistency_factor = *wcf;
  }
  return update;
}

absl::StatusOr<std::vector<AliasChange>> AliasActionsFromJson(const Json& body) {
  if (absl::Status s = RequireObject(body, "ChangeAliasesOperation"); !s.ok()) return s;
  absl::StatusOr<const Json*> actions = Require(body, "actions");
  if (!actions.ok()) return actions.status();
  if (!(*actions)->is_array()) return InvalidType("actions", **actions, "a list of alias operations");
  std::vector<AliasChange> out;
  for (size_t i = 0; i < (*actions)->size(); ++i) {
    absl::StatusOr<AliasChange> change =
        AliasActionFromJson((**actions)[i], absl::StrCat("actions[", i, "]"));
    if (!change.ok()) return change.status();
    out.push_back(*std::move(change));
  }
  return out;
}

Json CollectionsListToJson(const std::vector<std::string>& names) {
  Json list = Json::array();
  for (const std::string& name : names) list.push_back(Json::object({{"name", name}}));
  return Json::object({{"collections", std::move(list)}});
}

Json CollectionParamsToJson(const consensuspb::CollectionParams& params) {
  const Json extras = Extras(params);
  const Json* vector_extras = Member(extras, "vectors");
  Json out = Json::object();
  if (!params.named_vectors() && params.vectors_size() == 1) {
    out["vectors"] =
        VectorParamsToJson(params.vectors(0), vector_extras ? Member(*vector_extras, "") : nullptr);
  } else {
    Json named = Json::object();
    for (const auto& v : params.vectors()) {
      named[v.name()] = VectorParamsToJson(v, vector_extras ? Member(*vector_extras, v.name()) : nullptr);
    }
    out["vectors"] = std::move(named);
  }
  out["shard_number"] = params.shard_number();
  if (const Json* method = Member(extras, "sharding_method")) out["sharding_method"] = *method;
  out["replication_factor"] = params.replication_factor();
  out["write_consistency_factor"] = params.write_consistency_factor();
  if (const Json* fan_out = Member(extras, "read_fan_out_factor")) out["read_fan_out_factor"] = *fan_out;
  const Json* on_disk = Member(extras, "on_disk_payload");
  out["on_disk_payload"] = on_disk != nullptr ? *on_disk : Json(true);
  if (params.sparse_vectors_size() > 0) {
    const Json* sparse_extras = Member(extras, "sparse_vectors");
    Json sparse = Json::object();
    for (const auto& s : params.sparse_vectors()) {
      const Json* given = sparse_extras ? Member(*sparse_extras, s.name()) : nullptr;
      sparse[s.name()] = given != nullptr ? *given : Json::object();
    }
    out["sparse_vectors"] = std::move(sparse);
  }
  return out;
}

Json CollectionInfoToJson(const api::CollectionInfo& info) {
  const Json extras = Extras(info.params);
  Json config = Json::object();
  config["params"] = CollectionParamsToJson(info.params);
  config["hnsw_config"] = Overlay(HnswDefaults(), Member(extras, "hnsw_config"));
  config["optimizer_config"] = Overlay(OptimizerDefaults(), Member(extras, "optimizers_config"));
  config["wal_config"] = Overlay(WalDefaults(), Member(extras, "wal_config"));
  const Json* quantization = Member(extras, "quantization_config");
  config["quantization_config"] = quantization != nullptr ? *quantization : Json(nullptr);
  config["strict_mode_config"] =
      Overlay(Json::object({{"enabled", false}}), Member(extras, "strict_mode_config"));
  if (const Json* metadata = Member(extras, "metadata")) config["metadata"] = *metadata;

  Json out = Json::object();
  out["status"] = info.status;
  out["optimizer_status"] = "ok";
  out["indexed_vectors_count"] = 0;  // search here is exact: nothing is in a vector index
  out["points_count"] = info.points_count;
  out["segments_count"] = info.segments_count;
  out["config"] = std::move(config);
  out["payload_schema"] = Json::object();
  return out;
}

Json AliasesToJson(const std::vector<consensuspb::Alias>& aliases, const std::string& collection) {
  Json list = Json::array();
  for (const auto& a : aliases) {
    if (!collection.empty() && a.collection() != collection) continue;
    list.push_back(Json::object({{"alias_name", a.alias()}, {"collection_name", a.collection()}}));
  }
  return Json::object({{"aliases", std::move(list)}});
}

}  // namespace qdsim::rest
