// Qdrant's point JSON (SPEC.md §5) to and from the node's types: write bodies become
// shardpb::ShardOperations, read bodies become the shard store's requests, and records and hits
// become Qdrant's answer shapes.
//
// Writes (json_point_writes.cc):
//   PUT  …/points              {"points": [{id, vector, payload?}]} | {"batch": {ids, vectors, payloads?}}
//   POST …/points/delete       {"points": [ids]} | {"filter": …}
//   POST …/points/payload      {payload, points? | filter?, key?}      (PUT: overwrite, no key)
//   POST …/points/payload/delete {keys, points? | filter?}
//   POST …/points/payload/clear  {"points": [ids]} | {"filter": …}
//   PUT  …/points/vectors      {"points": [{id, vector}]}
//   POST …/points/batch        {"operations": [{"upsert": …}, {"delete": …}, …]}
// Reads (json_point_reads.cc): retrieve, scroll, count, legacy search (and its batch), query (and
// its batch). Answers (json_point_answers.cc): records {id, payload, vector}, hits {id, version,
// score, payload?, vector?}, scroll pages, update results.
//
// A vector is a list of floats (the default vector, name ""), or a map from name to a list of
// floats (dense) or {indices, values} (sparse). Vector sizes are checked by the node, which answers
// "Wrong input: Vector dimension error: expected dim: X, got Y".
//
//   ASSIGN_OR_RETURN(shardpb::ShardOperation op, UpsertFromJson(body));
//   node.WritePoints({.collection = name, .op = op, .wait = true}, ...);
//
// Thread-safety: pure functions.
#ifndef QDSIM_REAL_REST_JSON_POINTS_H_
#define QDSIM_REAL_REST_JSON_POINTS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/api/types.h"
#include "node/shard/point_table.h"
#include "proto/shard.pb.h"
#include "real/rest/json_util.h"

namespace qdsim::rest {

// Which payload an answer shows (Qdrant's with_payload: bool, a list of keys, {"include": keys}
// or {"exclude": keys}; keys may be dotted paths into nested objects). The node is asked for the
// whole payload when `enabled`; the keys are applied when rendering.
struct PayloadSelector {
  bool enabled = false;
  std::vector<std::string> include;  // if non-empty: only these paths
  std::vector<std::string> exclude;  // these paths removed
};

// ---- Vectors -----------------------------------------------------------------------------------

// One vector: a list of floats (dense) or {indices, values} (sparse).
absl::StatusOr<shardpb::Vector> VectorFromJson(const Json& value, const std::string& where);
// A point's vectors: a list of floats (the default vector) or a map name -> vector.
absl::StatusOr<shardpb::NamedVectors> VectorStructFromJson(const Json& value, const std::string& where);
// A single default dense vector prints as a list; anything else as a map by name (sorted).
Json VectorsToJson(const shardpb::NamedVectors& vectors);

// ---- Writes ------------------------------------------------------------------------------------

absl::StatusOr<shardpb::ShardOperation> UpsertFromJson(const Json& body);
absl::StatusOr<shardpb::ShardOperation> DeletePointsFromJson(const Json& body);
absl::StatusOr<shardpb::ShardOperation> SetPayloadFromJson(const Json& body);
absl::StatusOr<shardpb::ShardOperation> OverwritePayloadFromJson(const Json& body);
absl::StatusOr<shardpb::ShardOperation> DeletePayloadFromJson(const Json& body);
absl::StatusOr<shardpb::ShardOperation> ClearPayloadFromJson(const Json& body);
absl::StatusOr<shardpb::ShardOperation> UpdateVectorsFromJson(const Json& body);
// The operations of POST …/points/batch, in order.
absl::StatusOr<std::vector<shardpb::ShardOperation>> BatchUpdateFromJson(const Json& body);

// ---- Reads -------------------------------------------------------------------------------------

absl::StatusOr<PayloadSelector> WithPayloadFromJson(const Json* value, bool fallback);
absl::StatusOr<shard::WithVector> WithVectorFromJson(const Json* value);

struct RetrieveBody {
  std::vector<shardpb::PointId> ids;
  PayloadSelector payload;
  shard::WithVector with_vector;
};
absl::StatusOr<RetrieveBody> RetrieveFromJson(const Json& body);

struct ScrollBody {
  shard::ScrollRequest request;  // with_payload mirrors payload.enabled
  PayloadSelector payload;
};
absl::StatusOr<ScrollBody> ScrollFromJson(const Json& body);

// The filter of POST …/points/count ({filter?, exact?}).
absl::StatusOr<std::optional<shardpb::Filter>> CountFromJson(const Json& body);

// A nearest-neighbour read: a legacy search or a query.
struct SearchBody {
  enum class Kind {
    kVector,   // request.query holds the query vector
    kPointId,  // the nearest to the vector of point `query_id` (which the answer leaves out)
    kIdOrder,  // a query without `query`: matching points in id order, score 0
  };
  Kind kind = Kind::kVector;
  shard::SearchRequest request;  // vector_name, limit, offset, filter, threshold, with_*
  std::optional<shardpb::PointId> query_id;
  PayloadSelector payload;
};
// POST …/points/search: {vector, limit | top, filter?, offset?, with_payload?, with_vector?,
// score_threshold?, params?}.
absl::StatusOr<SearchBody> SearchFromJson(const Json& body);
// POST …/points/query: {query?, using?, limit?, offset?, filter?, with_payload?, with_vector?,
// score_threshold?, params?}; query is [floats] | {indices, values} | a point id |
// {"nearest": any of these}.
absl::StatusOr<SearchBody> QueryFromJson(const Json& body);
// {"searches": [...]} of the batch endpoints.
absl::StatusOr<std::vector<SearchBody>> SearchBatchFromJson(const Json& body);
absl::StatusOr<std::vector<SearchBody>> QueryBatchFromJson(const Json& body);

// ---- Answers -----------------------------------------------------------------------------------

// The payload as `selector` shows it.
Json SelectPayload(const google::protobuf::Struct& payload, const PayloadSelector& selector);
// {id, payload, vector} (payload / vector null when not asked for).
Json RecordToJson(const shard::PointRecord& record, const PayloadSelector& selector);
// {id, version, score, payload?, vector?}.
Json ScoredPointToJson(const shard::ScoredPoint& hit, const PayloadSelector& selector);
Json ScoredPointsToJson(const std::vector<shard::ScoredPoint>& hits, const PayloadSelector& selector);
// {points, next_page_offset}.
Json ScrollPageToJson(const shard::ScrollPage& page, const PayloadSelector& selector);
// {operation_id, status: "acknowledged" | "completed"}.
Json UpdateResultToJson(const api::UpdateResult& result);

}  // namespace qdsim::rest

#endif  // QDSIM_REAL_REST_JSON_POINTS_H_
