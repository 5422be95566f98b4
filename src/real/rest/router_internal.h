// RestRouter's internals, shared by router.cc and the endpoint files (endpoints_*.cc): the
// request being served (Call), the one-shot answer (Responder), and the endpoint handlers.
//
// A handler parses what it needs from the Call, calls the Node, and answers through the Call's
// Responder — at once or from the Node's callback. Callbacks capture the Responder (shared) and
// the Node (which only runs callbacks while it is alive), never the router.
//
// Thread-safety: none; everything runs on the node's logical thread.
#ifndef QDSIM_REAL_REST_ROUTER_INTERNAL_H_
#define QDSIM_REAL_REST_ROUTER_INTERNAL_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/node.h"
#include "real/rest/json_util.h"
#include "real/rest/rest_types.h"
#include "real/rest/router.h"

namespace qdsim::rest::internal {

// Answers one request exactly once; later attempts are ignored.
class Responder {
 public:
  Responder(std::function<double()> now, std::function<void(RestResponse)> done);

  // 200 {"result": result, "status": "ok", "time": …}
  void Ok(const Json& result);
  // The error envelope with RestHttpStatus(status).
  void Fail(const absl::Status& status);
  // The error envelope with an explicit HTTP status (404/405 of routing, 501).
  void Fail(int http_status, const std::string& message);
  // A body sent as is (GET / is not enveloped; health probes are plain text).
  void Raw(int http_status, std::string body, std::string content_type);

  // Ok(render(*result)) or Fail(result.status()).
  template <typename T, typename Render>
  void Answer(const absl::StatusOr<T>& result, Render render) {
    if (result.ok()) {
      Ok(render(*result));
    } else {
      Fail(result.status());
    }
  }

 private:
  double Elapsed() const;

  std::function<double()> now_;
  std::function<void(RestResponse)> done_;
  double start_;
  bool answered_ = false;
};

// One request being served.
struct Call {
  Node& node;
  RestRequest request;
  std::vector<std::string> params;  // the path's placeholders, in order ({name}, {id}, …)
  std::shared_ptr<Responder> reply;
  std::shared_ptr<const RestRouter::Options> options;

  const std::string& collection() const { return params.front(); }
  // The body as JSON, or answers the parse error and returns nullopt.
  std::optional<Json> Body(bool empty_is_object);
  // The value, or answers its error and returns nullopt.
  template <typename T>
  std::optional<T> Take(absl::StatusOr<T> value) {
    if (!value.ok()) {
      reply->Fail(value.status());
      return std::nullopt;
    }
    return *std::move(value);
  }
  // Answers 405 unless the cluster is enabled (cluster-management endpoints in standalone mode).
  bool RequireCluster();
};

using Handler = void (*)(Call& call);

// ---- Service (router.cc) ----
void Root(Call& call);
void Healthz(Call& call);
void Readyz(Call& call);
void Telemetry(Call& call);

// ---- Collections, aliases, cluster (endpoints_collections.cc) ----
void ListCollections(Call& call);
void CreateCollection(Call& call);
void GetCollection(Call& call);
void UpdateCollection(Call& call);
void DeleteCollection(Call& call);
void CollectionExists(Call& call);
void PayloadIndex(Call& call);
void UpdateAliases(Call& call);
void ListAliases(Call& call);
void ListCollectionAliases(Call& call);
void GetCollectionCluster(Call& call);
void UpdateCollectionCluster(Call& call);
void GetCluster(Call& call);
void RemovePeer(Call& call);
void RecoverCluster(Call& call);

// ---- Points (endpoints_points.cc) ----
void Upsert(Call& call);
void DeletePoints(Call& call);
void SetPayload(Call& call);
void OverwritePayload(Call& call);
void DeletePayload(Call& call);
void ClearPayload(Call& call);
void UpdateVectors(Call& call);
void BatchUpdate(Call& call);
void GetPoint(Call& call);
void RetrievePoints(Call& call);
void ScrollPoints(Call& call);
void CountPoints(Call& call);
void SearchPoints(Call& call);
void SearchBatch(Call& call);
void QueryPoints(Call& call);
void QueryBatch(Call& call);

}  // namespace qdsim::rest::internal

#endif  // QDSIM_REAL_REST_ROUTER_INTERNAL_H_
