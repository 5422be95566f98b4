// Qdrant's filter JSON (SPEC.md §5) to and from shardpb::Filter.
//
//   {"must": [{"key": "city", "match": {"value": "Berlin"}},
//             {"key": "price", "range": {"gte": 10, "lt": 20}}],
//    "should": {"has_id": [1, 2, "550e8400-e29b-41d4-a716-446655440000"]},
//    "must_not": [{"is_empty": {"key": "tags"}}, {"is_null": {"key": "a.b"}}],
//    "min_should": {"conditions": [...], "min_count": 2}}
//
// must / should / must_not take one condition or a list. A condition is a field condition (`key`
// with `match` {value | any | except} and/or `range` {gt, gte, lt, lte}, or the flags
// `is_empty` / `is_null`), `has_id`, `is_empty`, `is_null`, or a nested filter. Conditions this
// node cannot evaluate (geo, values_count, full-text match, `nested`, `has_vector`, datetime ranges)
// are refused with 400 "Bad request: …" rather than ignored; an object that is no condition at all
// is a format error ("data did not match any variant of untagged enum Condition").
//
//   ASSIGN_OR_RETURN(shardpb::Filter filter, FilterFromJson(body["filter"], "filter"));
//
// Thread-safety: pure functions.
#ifndef QDSIM_REAL_REST_JSON_FILTER_H_
#define QDSIM_REAL_REST_JSON_FILTER_H_

#include <string>

#include "absl/status/statusor.h"
#include "proto/shard.pb.h"
#include "real/rest/json_util.h"

namespace qdsim::rest {

// `where` names the filter in error messages ("filter", "searches[2].filter").
absl::StatusOr<shardpb::Filter> FilterFromJson(const Json& value, const std::string& where);

// The filter in the JSON form FilterFromJson reads (lists for must/should/must_not).
Json FilterToJson(const shardpb::Filter& filter);

}  // namespace qdsim::rest

#endif  // QDSIM_REAL_REST_JSON_FILTER_H_
