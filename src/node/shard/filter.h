// Filter evaluation over a point's id and payload, with Qdrant's semantics (SPEC.md §5):
//
//  - must: all hold; must_not: none holds; should: at least one holds when non-empty;
//    min_should: at least min_count of its conditions hold.
//  - A field condition reads every value at its key (payload.h); a final array contributes each
//    element. match.value / match.any hold if some value equals one given: keywords, integers and
//    booleans compare exactly, and an integer-valued number matches an integer. match.except holds
//    if some value of the list's type (string for keywords, integer-valued number for integers) is
//    not in the list; a missing key does not match. range holds if some number satisfies every bound.
//  - is_empty: the key is missing, null, or an empty array (every value found is null or []).
//  - is_null: some value found at the key is an explicit null.
//  - has_id: the point's id is listed.
//
//   RETURN_IF_ERROR(ValidateFilter(filter));
//   if (FilterMatches(filter, key, payload)) ...
//
// Thread-safety: pure functions.
#ifndef QDSIM_NODE_SHARD_FILTER_H_
#define QDSIM_NODE_SHARD_FILTER_H_

#include "absl/status/status.h"
#include "google/protobuf/struct.pb.h"
#include "node/shard/point_id.h"
#include "proto/shard.pb.h"

namespace qdsim::shard {

// InvalidArgument if a condition is empty, a field condition has no key or neither match nor
// range, a match has no kind, a has_id lists an invalid id, or filters nest deeper than 32.
absl::Status ValidateFilter(const shardpb::Filter& filter);

// Whether the point passes. REQUIRES: ValidateFilter(filter) is OK.
bool FilterMatches(const shardpb::Filter& filter, const PointKey& id,
                   const google::protobuf::Struct& payload);

}  // namespace qdsim::shard

#endif  // QDSIM_NODE_SHARD_FILTER_H_
