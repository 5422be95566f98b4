// The REST layer's own request and answer: what the HTTP server hands to RestRouter and gets
// back, with no sockets, headers or HTTP parsing in them. The HTTP server (src/real/http) splits
// the target into path segments and query pairs (both already percent-decoded) and passes the body
// bytes as received; it writes `status`, `content_type` and `body` back as the HTTP answer.
//
//   RestRequest request{.method = "GET", .path_segments = {"collections", "docs"}};
//   router.Handle(std::move(request), [&](RestResponse r) { connection.Write(r.status, r.body); });
//
// Thread-safety: plain values.
#ifndef QDSIM_REAL_REST_REST_TYPES_H_
#define QDSIM_REAL_REST_REST_TYPES_H_

#include <string>
#include <utility>
#include <vector>

namespace qdsim::rest {

struct RestRequest {
  std::string method;                                      // "GET", "POST", "PUT", "PATCH", "DELETE"
  std::vector<std::string> path_segments;                  // "/collections/docs" -> {"collections", "docs"}
  std::vector<std::pair<std::string, std::string>> query;  // in the order given; a key may repeat
  std::string body;                                        // JSON for the endpoints that take one
};

struct RestResponse {
  int status = 200;
  std::string body;                               // JSON, except the health probes (plain text)
  std::string content_type = "application/json";  // what the HTTP server sends as Content-Type
};

}  // namespace qdsim::rest

#endif  // QDSIM_REAL_REST_REST_TYPES_H_
