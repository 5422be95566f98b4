// The values that cross the HTTP layer: HttpRequest (what the parser produces and the REST handlers
// read) and HttpResponse (what the handlers produce and the connection writes).
//
//   void Handle(uint64_t seq, HttpRequest request) {
//     if (request.method == "GET" && request.segments == std::vector<std::string>{"healthz"}) {
//       HttpResponse ok;
//       ok.content_type = "text/plain";
//       ok.body = "healthz check passed";
//       connection.Respond(seq, std::move(ok));
//     } else if (request.QueryValue("wait") == "maybe") {
//       connection.Respond(seq, HttpResponse::Error(400, "wait must be true or false"));
//     }
//   }
//
// HttpResponse::Serialize writes the framing itself (status line, Content-Type, Content-Length,
// Connection), so a handler only sets the status, the body and any extra headers.
//
// Thread-safety: plain values; distinct objects may be used from different threads.
#ifndef QDSIM_REAL_HTTP_REQUEST_H_
#define QDSIM_REAL_HTTP_REQUEST_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "real/http/url.h"

namespace qdsim::http {

// One header field as received (or to be sent): name with its original case, value without the
// surrounding whitespace.
struct HttpHeader {
  std::string name;
  std::string value;
};

// An ordered list of header fields with case-insensitive lookup by name (RFC 9110 §5.1). Order is
// kept because it is observable (repeated fields combine in order) and makes tests readable.
class HttpHeaders {
 public:
  // Appends a field; an existing field of the same name is kept (fields may repeat).
  void Add(std::string_view name, std::string_view value);

  // Replaces every field named `name` with a single one, appended at the end.
  void Set(std::string_view name, std::string_view value);

  // Removes every field named `name`; returns how many were removed.
  size_t Remove(std::string_view name);

  // The value of the first field named `name`, or nullopt. The view lives as long as this object
  // is not modified.
  std::optional<std::string_view> Get(std::string_view name) const;

  // Values of every field named `name`, in order.
  std::vector<std::string_view> GetAll(std::string_view name) const;

  // Number of fields named `name`.
  size_t Count(std::string_view name) const;

  bool Has(std::string_view name) const { return Count(name) > 0; }

  // True if some field named `name` holds `token` in its comma-separated list, compared
  // case-insensitively ("Connection: Keep-Alive, Upgrade" has "keep-alive").
  bool HasToken(std::string_view name, std::string_view token) const;

  const std::vector<HttpHeader>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  std::vector<HttpHeader>::const_iterator begin() const { return entries_.begin(); }
  std::vector<HttpHeader>::const_iterator end() const { return entries_.end(); }

 private:
  std::vector<HttpHeader> entries_;  // in order of arrival / insertion
};

enum class HttpVersion {
  kHttp10,  // HTTP/1.0: the connection closes after each response unless keep-alive is requested
  kHttp11,  // HTTP/1.1 (and 1.x for x > 1, answered as 1.1): persistent unless "Connection: close"
};

// A complete request, as the parser hands it to the handler.
struct HttpRequest {
  std::string method;                 // case-sensitive token: "GET", "POST", ...
  std::string target;                 // the request target exactly as received
  std::string path;                   // target's path, percent-decoded ("/collections/my docs")
  std::vector<std::string> segments;  // path split at '/' then decoded, empty segments dropped
  QueryParams query;                  // decoded query parameters ('+' is a space), in order
  HttpHeaders headers;                // every header field, in order (trailers are not kept)
  std::string body;                   // the decoded body (chunked framing removed)
  HttpVersion version = HttpVersion::kHttp11;
  bool keep_alive = true;  // whether the connection stays open after the response

  // The value of the first query parameter named `name` (case-sensitive), or nullopt.
  std::optional<std::string_view> QueryValue(std::string_view name) const;
};

// How the connection frames one response on the wire; the handler never sets this.
struct ResponseFraming {
  bool close = false;              // write "Connection: close": the connection closes after this
  bool keep_alive_header = false;  // write "Connection: keep-alive" (HTTP/1.0 clients need it)
  bool head = false;               // answer to HEAD: headers (with the body's length) but no body
};

// A response as a handler produces it.
struct HttpResponse {
  int status = 200;
  // Written as the Content-Type header whenever the status allows a body; empty writes none. Any
  // Content-Type in `headers` is ignored so that there is exactly one.
  std::string content_type = "application/json";
  // Extra header fields. Framing fields (Content-Length, Transfer-Encoding, Connection) are ignored:
  // Serialize owns the framing. CR, LF and NUL in values become spaces and fields whose name is not a
  // token are dropped, so a value echoed from a request can never split the response.
  HttpHeaders headers;
  std::string body;

  // A JSON response: `json` must already be serialized JSON.
  static HttpResponse Json(int status, std::string json);

  // An error in Qdrant's shape, {"status":{"error":"<message>"},"time":0.0}, with `message`
  // escaped as a JSON string.
  static HttpResponse Error(int status, std::string_view message);

  // True if the handler asked for the connection to close after this response ("Connection: close"
  // in `headers`).
  bool AsksToClose() const;

  // The bytes of the response: "HTTP/1.1 <status> <reason>", the headers, Content-Type and
  // Content-Length (none for 1xx, 204 and 304, which carry no body), a Connection field as `framing`
  // says, a blank line, then the body (not for HEAD or bodiless statuses). A status outside
  // 100..599 is written as 500, since no client could interpret it.
  std::string Serialize(const ResponseFraming& framing = {}) const;
};

// ASCII case-insensitive equality, the comparison for field names and most tokens (RFC 9110 §5.1).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// The elements of a comma-separated field value (RFC 9110 §5.6.1), trimmed of spaces and tabs,
// empty elements dropped: " a, ,b " → {"a", "b"}. Views into `value`.
std::vector<std::string_view> ListItems(std::string_view value);

// True if `s` is a non-empty token (RFC 9110 §5.6.2), the syntax of methods and header names.
bool IsToken(std::string_view s);

// The reason phrase for a status code ("Not Found" for 404), or "Unknown" for codes not in the table.
std::string_view ReasonPhrase(int status);

// `text` as the contents of a JSON string literal (quotes not included): '"', '\\' and control
// characters escaped. Bytes >= 0x80 pass through, so UTF-8 stays UTF-8.
std::string JsonEscape(std::string_view text);

// Whether the connection stays open after answering a request of `version` with these headers:
// HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive" (RFC 9112 §9.3).
bool KeepAlive(HttpVersion version, const HttpHeaders& headers);

}  // namespace qdsim::http

#endif  // QDSIM_REAL_HTTP_REQUEST_H_
