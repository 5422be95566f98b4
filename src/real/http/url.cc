#include "real/http/url.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"

namespace qdsim::http {
namespace {

// Value of a hex digit, or -1.
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Visible ASCII except '#'. Stricter than "anything but whitespace", looser than RFC 3986's
// character classes: clients commonly leave '|', '"' or '{' unescaped in query strings.
bool IsTargetChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7F && c != '#';
}

// True if `s` starts with `lower_prefix` in any letter case.
bool StartsWithIgnoreCase(std::string_view s, std::string_view lower_prefix) {
  if (s.size() < lower_prefix.size()) return false;
  for (size_t i = 0; i < lower_prefix.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(s[i])) != lower_prefix[i]) return false;
  }
  return true;
}

// The non-empty pieces of `s` between occurrences of `separator`.
std::vector<std::string_view> SplitSkippingEmpty(std::string_view s, char separator) {
  std::vector<std::string_view> pieces;
  while (!s.empty()) {
    const size_t at = s.find(separator);
    if (at != 0) pieces.push_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return pieces;
}

// Splits "path?query" (the query is empty when there is no '?').
std::pair<std::string_view, std::string_view> SplitAtQuestionMark(std::string_view target) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

// The path-and-query part of an absolute-form target ("http://host/x?y" → "/x?y"), or nullopt if
// `target` is not absolute-form.
std::optional<std::string> StripSchemeAndAuthority(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!StartsWithIgnoreCase(target, scheme)) continue;
    const std::string_view rest = target.substr(scheme.size());
    const size_t end = rest.find_first_of("/?");
    if (end == std::string_view::npos) return std::string("/");
    if (rest[end] == '?') return std::string("/").append(rest.substr(end));
    return std::string(rest.substr(end));
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::string> PercentDecode(std::string_view encoded, bool plus_as_space) {
  std::string out;
  out.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else {
      const int hi = i + 1 < encoded.size() ? HexValue(encoded[i + 1]) : -1;
      const int lo = i + 2 < encoded.size() ? HexValue(encoded[i + 2]) : -1;
      if (hi < 0 || lo < 0) return absl::InvalidArgumentError("invalid percent-encoding in URL");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  return out;
}

absl::StatusOr<QueryParams> ParseQueryString(std::string_view query) {
  QueryParams params;
  for (std::string_view piece : SplitSkippingEmpty(query, '&')) {
    const size_t eq = piece.find('=');
    const std::string_view raw_name = piece.substr(0, eq);
    const std::string_view raw_value = eq == std::string_view::npos ? "" : piece.substr(eq + 1);
    absl::StatusOr<std::string> name = PercentDecode(raw_name, /*plus_as_space=*/true);
    if (!name.ok()) return name.status();
    absl::StatusOr<std::string> value = PercentDecode(raw_value, /*plus_as_space=*/true);
    if (!value.ok()) return value.status();
    params.emplace_back(*std::move(name), *std::move(value));
  }
  return params;
}

absl::StatusOr<std::vector<std::string>> SplitPath(std::string_view raw_path) {
  std::vector<std::string> segments;
  for (std::string_view raw : SplitSkippingEmpty(raw_path, '/')) {
    absl::StatusOr<std::string> segment = PercentDecode(raw, /*plus_as_space=*/false);
    if (!segment.ok()) return segment.status();
    segments.push_back(*std::move(segment));
  }
  return segments;
}

absl::StatusOr<RequestTarget> ParseRequestTarget(std::string_view target) {
  for (char c : target) {
    if (!IsTargetChar(c)) return absl::InvalidArgumentError("invalid character in request target");
  }
  RequestTarget out;
  if (target == "*") {
    out.path = "*";
    return out;
  }
  std::optional<std::string> origin_form;
  if (target.empty() || target[0] != '/') {
    origin_form = StripSchemeAndAuthority(target);
    if (!origin_form) return absl::InvalidArgumentError("request target must start with '/'");
    target = *origin_form;
  }
  const auto [raw_path, raw_query] = SplitAtQuestionMark(target);
  absl::StatusOr<std::string> path = PercentDecode(raw_path, /*plus_as_space=*/false);
  if (!path.ok()) return path.status();
  absl::StatusOr<std::vector<std::string>> segments = SplitPath(raw_path);
  if (!segments.ok()) return segments.status();
  absl::StatusOr<QueryParams> query = ParseQueryString(raw_query);
  if (!query.ok()) return query.status();
  out.path = *std::move(path);
  out.segments = *std::move(segments);
  out.query = *std::move(query);
  return out;
}

}  // namespace qdsim::http
