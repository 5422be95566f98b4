// RestRouter: Qdrant's REST API (SPEC.md §2, §4-§7) over one Node. It matches a RestRequest's
// method and path to an endpoint, maps the JSON body and query parameters to the node's typed
// requests (json_*.h), calls the Node method the simulator's clients call, and renders the answer
// in Qdrant's envelope: {"result": …, "status": "ok", "time": s} or {"status": {"error": …},
// "time": s} with the error's HTTP status (RestHttpStatus). An unknown path is 404, a known path
// with another method 405.
//
//   RestRouter::Options options;
//   options.cluster_enabled = true;
//   options.now_seconds = [&env] { return world::ToSeconds(env.clock().Now()); };
//   options.wall_micros = [&env] { return env.clock().WallMicros(); };
//   options.cluster_extras = [&transport] { return transport.ClusterExtras(); };  // optional
//   RestRouter router(*node, options);
//   router.Handle(std::move(request), [conn](RestResponse r) { conn->Send(r); });
//
// Standalone (cluster_enabled false): GET /cluster answers {"status": "disabled"}; removing a
// peer, recovering consensus and POST /collections/{name}/cluster answer 405.
//
// `done` runs exactly once: before Handle returns for answers the node gives at once (listings,
// parse errors, local reads), else later from a Node callback — always on the node's thread.
// Aliases resolve in every collection endpoint (the node's metadata lookups resolve them).
// Answers still pending when the Node is destroyed never come (the Node drops its callbacks);
// the router itself may be destroyed while requests are pending.
//
// Thread-safety: none; Handle must be called on the node's logical thread.
#ifndef QDSIM_REAL_REST_ROUTER_H_
#define QDSIM_REAL_REST_ROUTER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "node/node.h"
#include "real/rest/json_cluster.h"
#include "real/rest/rest_types.h"

namespace qdsim::rest {

class RestRouter {
 public:
  struct Options {
    bool cluster_enabled = true;
    // Monotonic seconds (the node's world clock), for the answers' `time`. REQUIRED.
    std::function<double()> now_seconds;
    // Wall-clock microseconds since the epoch, for RFC 3339 stamps when cluster_extras is unset.
    std::function<int64_t()> wall_micros;
    // What GET /cluster reports beyond the node (consensus thread, send failures). Unset: the
    // thread is reported "working" as of now.
    std::function<ClusterExtras()> cluster_extras;
    std::string version = "1.19.0";  // the Qdrant API version reported by GET / and telemetry
  };

  // REQUIRES: options.now_seconds is set. `node` must outlive every call to Handle.
  RestRouter(Node& node, Options options);

  void Handle(RestRequest request, std::function<void(RestResponse)> done);

 private:
  Node& node_;
  std::shared_ptr<const Options> options_;  // shared with pending answers, which may outlive this
};

}  // namespace qdsim::rest

#endif  // QDSIM_REAL_REST_ROUTER_H_
