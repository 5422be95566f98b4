// URL pieces of an HTTP request target: percent-decoding, query strings and path segments, for the
// request parser and the REST router.
//
// Paths are split into segments *before* decoding, so an encoded slash stays inside its segment:
// "/collections/a%2Fb/points" is ["collections", "a/b", "points"], never four segments.
//
//   absl::StatusOr<RequestTarget> target = ParseRequestTarget("/collections/docs/points?wait=true");
//   // target->path == "/collections/docs/points"
//   // target->segments == {"collections", "docs", "points"}
//   // target->query == {{"wait", "true"}}
//
// Every function returns InvalidArgument on malformed input (the parser answers it with 400).
//
// Thread-safety: free functions without shared state; safe from any thread.
#ifndef QDSIM_REAL_HTTP_URL_H_
#define QDSIM_REAL_HTTP_URL_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace qdsim::http {

// Query parameters in the order they appear; a name may repeat ("?id=1&id=2").
using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Decodes "%XX" escapes (hex digits in either case) and, if `plus_as_space`, '+' as ' ' (the
// application/x-www-form-urlencoded rule used in query strings, not in paths). Any byte value may
// result, including NUL and bytes that are not UTF-8; validating names is the caller's business.
// InvalidArgument if a '%' is not followed by two hex digits.
absl::StatusOr<std::string> PercentDecode(std::string_view encoded, bool plus_as_space);

// Splits "a=1&b=x%20y&flag" into {{"a","1"}, {"b","x y"}, {"flag",""}}: pieces separated by '&',
// each "name=value" (split at the first '=') or a bare "name" with an empty value; empty pieces are
// skipped. Names and values are decoded with plus_as_space. InvalidArgument on a bad escape.
absl::StatusOr<QueryParams> ParseQueryString(std::string_view query);

// Splits a raw (still encoded) path into decoded segments: "/collections/docs/points/scroll" →
// {"collections", "docs", "points", "scroll"}. Empty segments ("//", a trailing '/') are dropped, so
// "/collections/" and "/collections" route alike; "/" is no segments. InvalidArgument on a bad escape.
absl::StatusOr<std::vector<std::string>> SplitPath(std::string_view raw_path);

// A request target taken apart.
struct RequestTarget {
  std::string path;                   // decoded path, always starting with '/' (or "*")
  std::vector<std::string> segments;  // decoded segments of the path (SplitPath)
  QueryParams query;                  // decoded query parameters, in order
};

// Parses the request target of a request line. Accepted forms (RFC 9112 §3.2):
//   origin-form    "/path?query"
//   absolute-form  "http://host:port/path?query" (scheme and authority are dropped)
//   asterisk-form  "*" (only meaningful for OPTIONS; the caller checks the method)
// Only visible ASCII is allowed (non-ASCII must be percent-encoded) and no '#': a fragment is never
// part of a request. InvalidArgument otherwise.
absl::StatusOr<RequestTarget> ParseRequestTarget(std::string_view target);

}  // namespace qdsim::http

#endif  // QDSIM_REAL_HTTP_URL_H_
