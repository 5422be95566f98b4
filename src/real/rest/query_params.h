// Query-string parameters of the REST API (SPEC.md §5-§7): `wait` and `ordering` on point writes,
// `consistency` and `timeout` on reads, `timeout` on metadata operations, `force` on peer removal.
// Unknown parameters are ignored, as Qdrant does; a known one with a bad value is a 400
// "Bad request: …" / "Deserialize error in query parameters: …".
//
//   ASSIGN_OR_RETURN(WriteParams w, ParseWriteParams(request.query));
//   api::PointWrite write{.collection = name, .op = op, .wait = w.wait, .ordering = w.ordering};
//
// Thread-safety: pure functions.
#ifndef QDSIM_REAL_REST_QUERY_PARAMS_H_
#define QDSIM_REAL_REST_QUERY_PARAMS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "node/api/types.h"
#include "node/replication/consistency.h"
#include "node/world/time.h"

namespace qdsim::rest {

using QueryList = std::vector<std::pair<std::string, std::string>>;

// The last value given for `key`, or null.
const std::string* QueryValue(const QueryList& query, const std::string& key);

// `key` as "true"/"false" (Qdrant's serde bool); `fallback` when absent.
absl::StatusOr<bool> BoolParam(const QueryList& query, const std::string& key, bool fallback);
// `timeout` in whole seconds (>= 1); nullopt when absent (the node's default applies).
absl::StatusOr<std::optional<world::Duration>> TimeoutParam(const QueryList& query);

struct WriteParams {
  bool wait = false;  // Qdrant's default: answer once the write is queued
  replication::WriteOrdering ordering = replication::WriteOrdering::kWeak;
  std::optional<world::Duration> timeout;
};
// wait, ordering, timeout of a point write.
absl::StatusOr<WriteParams> ParseWriteParams(const QueryList& query);

// consistency, timeout of a point read.
absl::StatusOr<api::ReadOptions> ParseReadParams(const QueryList& query);

}  // namespace qdsim::rest

#endif  // QDSIM_REAL_REST_QUERY_PARAMS_H_
