#include "real/rest/router.h"

#include <cassert>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "real/rest/router_internal.h"

namespace qdsim::rest {
namespace internal {

// ---- Responder ---------------------------------------------------------------------------------

Responder::Responder(std::function<double()> now, std::function<void(RestResponse)> done)
    : now_(std::move(now)), done_(std::move(done)), start_(now_()) {}

double Responder::Elapsed() const {
  const double elapsed = now_() - start_;
  return elapsed > 0 ? elapsed : 0.0;
}

void Responder::Ok(const Json& result) { Raw(200, OkBody(result, Elapsed()), "application/json"); }

void Responder::Fail(const absl::Status& status) {
  Fail(RestHttpStatus(status), std::string(status.message()));
}

void Responder::Fail(int http_status, const std::string& message) {
  Raw(http_status, ErrorBody(message, Elapsed()), "application/json");
}

void Responder::Raw(int http_status, std::string body, std::string content_type) {
  if (answered_) return;
  answered_ = true;
  // Moved out first: the callback may release the last reference to this Responder.
  auto done = std::move(done_);
  done(RestResponse{http_status, std::move(body), std::move(content_type)});
}

// ---- Call --------------------------------------------------------------------------------------

std::optional<Json> Call::Body(bool empty_is_object) {
  return Take(ParseJsonBody(request.body, empty_is_object));
}

bool Call::RequireCluster() {
  if (options->cluster_enabled) return true;
  reply->Fail(405, "Distributed deployment is disabled.");
  return false;
}

// ---- Service endpoints -------------------------------------------------------------------------

void Root(Call& call) {
  Json info = Json::object({{"title", "qdrant - vector search engine"}, {"version", call.options->version}});
  call.reply->Raw(200, Dump(info), "application/json");
}

void Healthz(Call& call) { call.reply->Raw(200, "healthz check passed", "text/plain"); }

void Readyz(Call& call) {
  if (call.node.Ready()) {
    call.reply->Raw(200, "all shards are ready", "text/plain");
  } else {
    call.reply->Raw(503, "some shards are not ready", "text/plain");
  }
}

void Telemetry(Call& call) {
  call.reply->Ok(TelemetryToJson(call.node.id(), call.node.ListCollections().size(),
                                 call.options->cluster_enabled, call.options->version));
}

}  // namespace internal

namespace {

using internal::Handler;

// One endpoint: a method and a path pattern whose "{…}" segments match any value.
struct Route {
  const char* method;
  std::vector<const char*> pattern;
  Handler handler;
};

const std::vector<Route>& Routes() {
  using namespace internal;
  static const std::vector<Route> routes = {
      {"GET", {}, Root},
      {"GET", {"healthz"}, Healthz},
      {"GET", {"livez"}, Healthz},
      {"GET", {"readyz"}, Readyz},
      {"GET", {"telemetry"}, Telemetry},
      // Cluster (SPEC.md §2, §7).
      {"GET", {"cluster"}, GetCluster},
      {"POST", {"cluster", "recover"}, RecoverCluster},
      {"DELETE", {"cluster", "peer", "{peer_id}"}, RemovePeer},
      // Aliases; before {name} so that "aliases" is not taken for a collection name.
      {"POST", {"collections", "aliases"}, UpdateAliases},
      {"GET", {"aliases"}, ListAliases},
      // Collections (SPEC.md §4, §6).
      {"GET", {"collections"}, ListCollections},
      {"GET", {"collections", "{name}"}, GetCollection},
      {"PUT", {"collections", "{name}"}, CreateCollection},
      {"PATCH", {"collections", "{name}"}, UpdateCollection},
      {"DELETE", {"collections", "{name}"}, DeleteCollection},
      {"GET", {"collections", "{name}", "exists"}, CollectionExists},
      {"GET", {"collections", "{name}", "aliases"}, ListCollectionAliases},
      {"GET", {"collections", "{name}", "cluster"}, GetCollectionCluster},
      {"POST", {"collections", "{name}", "cluster"}, UpdateCollectionCluster},
      // Points (SPEC.md §5); literal segments before {id}.
      {"PUT", {"collections", "{name}", "index"}, PayloadIndex},
      {"DELETE", {"collections", "{name}", "index", "{field}"}, PayloadIndex},
      {"PUT", {"collections", "{name}", "points"}, Upsert},
      {"POST", {"collections", "{name}", "points"}, RetrievePoints},
      {"POST", {"collections", "{name}", "points", "delete"}, DeletePoints},
      {"POST", {"collections", "{name}", "points", "payload"}, SetPayload},
      {"PUT", {"collections", "{name}", "points", "payload"}, OverwritePayload},
      {"POST", {"collections", "{name}", "points", "payload", "delete"}, DeletePayload},
      {"POST", {"collections", "{name}", "points", "payload", "clear"}, ClearPayload},
      {"PUT", {"collections", "{name}", "points", "vectors"}, UpdateVectors},
      {"POST", {"collections", "{name}", "points", "batch"}, BatchUpdate},
      {"POST", {"collections", "{name}", "points", "scroll"}, ScrollPoints},
      {"POST", {"collections", "{name}", "points", "count"}, CountPoints},
      {"POST", {"collections", "{name}", "points", "search"}, SearchPoints},
      {"POST", {"collections", "{name}", "points", "search", "batch"}, SearchBatch},
      {"POST", {"collections", "{name}", "points", "query"}, QueryPoints},
      {"POST", {"collections", "{name}", "points", "query", "batch"}, QueryBatch},
      {"GET", {"collections", "{name}", "points", "{id}"}, GetPoint},
  };
  return routes;
}

// True if `path` fits `pattern`; the placeholders' values go to `params`.
bool Matches(const Route& route, const std::vector<std::string>& path, std::vector<std::string>& params) {
  if (route.pattern.size() != path.size()) return false;
  std::vector<std::string> found;
  for (size_t i = 0; i < path.size(); ++i) {
    const std::string segment = route.pattern[i];
    if (segment.front() == '{') {
      found.push_back(path[i]);
    } else if (segment != path[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

}  // namespace

namespace {

// Options with the callbacks Handle relies on filled in.
std::shared_ptr<const RestRouter::Options> Complete(RestRouter::Options options) {
  assert(options.now_seconds);
  if (!options.now_seconds) options.now_seconds = [] { return 0.0; };  // never call an empty function
  return std::make_shared<const RestRouter::Options>(std::move(options));
}

}  // namespace

RestRouter::RestRouter(Node& node, Options options) : node_(node), options_(Complete(std::move(options))) {}

void RestRouter::Handle(RestRequest request, std::function<void(RestResponse)> done) {
  auto reply = std::make_shared<internal::Responder>(options_->now_seconds, std::move(done));
  // A trailing slash ("/collections/") names the same resource.
  std::vector<std::string>& path = request.path_segments;
  while (!path.empty() && path.back().empty()) path.pop_back();
  bool path_known = false;
  for (const Route& route : Routes()) {
    std::vector<std::string> params;
    if (!Matches(route, path, params)) continue;
    path_known = true;
    if (request.method != route.method) continue;
    internal::Call call{node_, std::move(request), std::move(params), reply, options_};
    route.handler(call);
    return;
  }
  const std::string shown = absl::StrCat("/", absl::StrJoin(path, "/"));
  if (path_known)
    return reply->Fail(405, absl::StrCat("Method ", request.method, " is not allowed for ", shown));
  reply->Fail(404, absl::StrCat("Not found: no endpoint ", shown));
}

}  // namespace qdsim::rest
