// Qdrant's collection JSON (SPEC.md §4): create / update bodies, alias actions, and the answers of
// GET /collections, GET /collections/{name} and the alias listings.
//
// Create: `vectors` is {size, distance, …} (the default vector, name "") or {"name": {size,
// distance, …}, …}; distance is one of Cosine, Euclid, Dot, Manhattan (exact case, as serde
// reads it); `sparse_vectors` is {"name": {index?, modifier?}}. shard_number, replication_factor
// and write_consistency_factor go to the node; the other Qdrant fields (hnsw_config, wal_config,
// optimizers_config, quantization_config, strict_mode_config, on_disk_payload, read_fan_out_factor,
// sharding_method, metadata) and each vector's own extra fields are kept verbatim in
// CollectionParams.extra_json and reported back by CollectionInfoToJson, over Qdrant's defaults.
//
//   ASSIGN_OR_RETURN(api::CreateCollection create, CreateCollectionFromJson("docs", body));
//   node.CreateCollection(create, ...);
//   ... OkBody(CollectionInfoToJson(info), seconds) ...
//
// Thread-safety: pure functions.
#ifndef QDSIM_REAL_REST_JSON_COLLECTIONS_H_
#define QDSIM_REAL_REST_JSON_COLLECTIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/api/types.h"
#include "proto/consensus.pb.h"
#include "real/rest/json_util.h"

namespace qdsim::rest {

// PUT /collections/{name}. Range errors (size 0, replication_factor 0, …) are 422.
absl::StatusOr<api::CreateCollection> CreateCollectionFromJson(const std::string& name, const Json& body);

// PATCH /collections/{name}: {"params": {replication_factor?, write_consistency_factor?}} (the two
// may also be given at the top level). Qdrant's other updatable fields (optimizers_config,
// hnsw_config, …) are accepted and change nothing here.
absl::StatusOr<api::UpdateCollection> UpdateCollectionFromJson(const std::string& name, const Json& body);

// One action of POST /collections/aliases.
struct AliasChange {
  enum class Kind { kCreate, kDelete, kRename } kind = Kind::kCreate;
  std::string alias;       // create, delete: the alias; rename: the old alias
  std::string collection;  // create only
  std::string new_alias;   // rename only
};
// {"actions": [{"create_alias": {collection_name, alias_name}} | {"delete_alias": {alias_name}} |
//              {"rename_alias": {old_alias_name, new_alias_name}}]}
absl::StatusOr<std::vector<AliasChange>> AliasActionsFromJson(const Json& body);

// {"collections": [{"name": …}]}
Json CollectionsListToJson(const std::vector<std::string>& names);
// config.params: vectors (single or named), shard_number, replication_factor, …
Json CollectionParamsToJson(const consensuspb::CollectionParams& params);
// The whole GET /collections/{name} answer.
Json CollectionInfoToJson(const api::CollectionInfo& info);
// {"aliases": [{"alias_name", "collection_name"}]}, only those of `collection` if non-empty.
Json AliasesToJson(const std::vector<consensuspb::Alias>& aliases, const std::string& collection);

}  // namespace qdsim::rest

#endif  // QDSIM_REAL_REST_JSON_COLLECTIONS_H_
