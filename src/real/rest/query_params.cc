#include "real/rest/query_params.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace qdsim::rest {
namespace {

absl::Status QueryError(const std::string& detail) {
  return absl::InvalidArgumentError(absl::StrCat("Deserialize error in query parameters: ", detail));
}

}  // namespace

const std::string* QueryValue(const QueryList& query, const std::string& key) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : query) {
    if (k == key) found = &v;
  }
  return found;
}

absl::StatusOr<bool> BoolParam(const QueryList& query, const std::string& key, bool fallback) {
  const std::string* v = QueryValue(query, key);
  if (v == nullptr) return fallback;
  if (*v == "true") return true;
  if (*v == "false") return false;
  return QueryError(absl::StrCat(key, ": provided string was not `true` or `false` (got \"", *v, "\")"));
}

absl::StatusOr<std::optional<world::Duration>> TimeoutParam(const QueryList& query) {
  const std::string* v = QueryValue(query, "timeout");
  if (v == nullptr) return std::optional<world::Duration>();
  uint64_t seconds = 0;
  // Bounded so the conversion to microseconds cannot overflow (a day is far beyond any use).
  if (!absl::SimpleAtoi(*v, &seconds) || seconds == 0 || seconds > 86400) {
    return QueryError(absl::StrCat("timeout: expected whole seconds between 1 and 86400 (got \"", *v, "\")"));
  }
  return std::optional<world::Duration>(world::Seconds(static_cast<int64_t>(seconds)));
}

absl::StatusOr<WriteParams> ParseWriteParams(const QueryList& query) {
  WriteParams p;
  absl::StatusOr<bool> wait = BoolParam(query, "wait", false);
  if (!wait.ok()) return wait.status();
  p.wait = *wait;
  if (const std::string* ordering = QueryValue(query, "ordering")) {
    absl::StatusOr<replication::WriteOrdering> o = replication::ParseWriteOrdering(*ordering);
    if (!o.ok()) return o.status();
    p.ordering = *o;
  }
  absl::StatusOr<std::optional<world::Duration>> timeout = TimeoutParam(query);
  if (!timeout.ok()) return timeout.status();
  p.timeout = *timeout;
  return p;
}

absl::StatusOr<api::ReadOptions> ParseReadParams(const QueryList& query) {
  api::ReadOptions read;
  if (const std::string* consistency = QueryValue(query, "consistency")) {
    absl::StatusOr<replication::ReadConsistency> c = replication::ParseReadConsistency(*consistency);
    if (!c.ok()) return c.status();
    read.consistency = *c;
  }
  absl::StatusOr<std::optional<world::Duration>> timeout = TimeoutParam(query);
  if (!timeout.ok()) return timeout.status();
  read.timeout = *timeout;
  return read;
}

}  // namespace qdsim::rest
