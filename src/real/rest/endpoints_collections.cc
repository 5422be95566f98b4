// Collection, alias and cluster endpoints (SPEC.md §2, §4, §6, §7).
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "real/rest/json_cluster.h"
#include "real/rest/json_collections.h"
#include "real/rest/query_params.h"
#include "real/rest/router_internal.h"

namespace qdsim::rest::internal {
namespace {

// Answers a metadata operation's verdict as {"result": true}.
api::Callback<bool> AnswerTrue(const std::shared_ptr<Responder>& reply) {
  return [reply](absl::StatusOr<bool> r) { reply->Answer(r, [](bool ok) { return Json(ok); }); };
}

std::optional<std::optional<world::Duration>> Timeout(Call& call) {
  return call.Take(TimeoutParam(call.request.query));
}

// Rename = delete the old alias and create the new one for the same collection, in one list of
// actions; an unknown old alias is Qdrant's 404.
absl::StatusOr<std::vector<api::AliasAction>> ResolveAliasChanges(
    const std::vector<AliasChange>& changes, const std::vector<consensuspb::Alias>& existing) {
  std::vector<api::AliasAction> actions;
  for (const AliasChange& c : changes) {
    switch (c.kind) {
      case AliasChange::Kind::kCreate:
        actions.push_back({api::AliasAction::Kind::kCreate, c.alias, c.collection});
        break;
      case AliasChange::Kind::kDelete:
        actions.push_back({api::AliasAction::Kind::kDelete, c.alias, ""});
        break;
      case AliasChange::Kind::kRename: {
        const consensuspb::Alias* old = nullptr;
        for (const auto& a : existing) {
          if (a.alias() == c.alias) old = &a;
        }
        if (old == nullptr)
          return absl::NotFoundError(absl::StrCat("Not found: Alias `", c.alias, "` doesn't exist!"));
        actions.push_back({api::AliasAction::Kind::kDelete, c.alias, ""});
        actions.push_back({api::AliasAction::Kind::kCreate, c.new_alias, old->collection()});
        break;
      }
    }
  }
  return actions;
}

ClusterExtras DefaultExtras(const RestRouter::Options& options) {
  ClusterExtras extras;
  if (options.wall_micros) extras.last_update = Rfc3339(options.wall_micros());
  return extras;
}

}  // namespace

void ListCollections(Call& call) { call.reply->Ok(CollectionsListToJson(call.node.ListCollections())); }

void CreateCollection(Call& call) {
  std::optional<std::optional<world::Duration>> timeout = Timeout(call);
  if (!timeout) return;
  std::optional<Json> body = call.Body(false);
  if (!body) return;
  std::optional<api::CreateCollection> create = call.Take(CreateCollectionFromJson(call.collection(), *body));
  if (!create) return;
  create->timeout = *timeout;
  call.node.CreateCollection(*create, AnswerTrue(call.reply));
}

void GetCollection(Call& call) {
  call.node.GetCollection(call.collection(), [reply = call.reply](absl::StatusOr<api::CollectionInfo> info) {
    reply->Answer(info, CollectionInfoToJson);
  });
}

void UpdateCollection(Call& call) {
  std::optional<std::optional<world::Duration>> timeout = Timeout(call);
  if (!timeout) return;
  std::optional<Json> body = call.Body(true);
  if (!body) return;
  std::optional<api::UpdateCollection> update = call.Take(UpdateCollectionFromJson(call.collection(), *body));
  if (!update) return;
  update->timeout = *timeout;
  call.node.UpdateCollection(*update, AnswerTrue(call.reply));
}

void DeleteCollection(Call& call) {
  std::optional<std::optional<world::Duration>> timeout = Timeout(call);
  if (!timeout) return;
  api::DeleteCollection del{call.collection(), *timeout};
  // Qdrant answers a delete of a missing collection with {"result": false}, not an error.
  call.node.DeleteCollection(del, [reply = call.reply](absl::StatusOr<bool> r) {
    if (!r.ok() && absl::IsNotFound(r.status())) return reply->Ok(false);
    reply->Answer(r, [](bool ok) { return Json(ok); });
  });
}

void CollectionExists(Call& call) {
  call.reply->Ok(Json::object({{"exists", call.node.CollectionExists(call.collection())}}));
}

void UpdateAliases(Call& call) {
  std::optional<std::optional<world::Duration>> timeout = Timeout(call);
  if (!timeout) return;
  std::optional<Json> body = call.Body(false);
  if (!body) return;
  std::optional<std::vector<AliasChange>> changes = call.Take(AliasActionsFromJson(*body));
  if (!changes) return;
  std::optional<std::vector<api::AliasAction>> actions =
      call.Take(ResolveAliasChanges(*changes, call.node.ListAliases()));
  if (!actions) return;
  call.node.UpdateAliases(*actions, *timeout, AnswerTrue(call.reply));
}

void ListAliases(Call& call) { call.reply->Ok(AliasesToJson(call.node.ListAliases(), "")); }

void ListCollectionAliases(Call& call) {
  if (!call.node.CollectionExists(call.collection())) {
    return call.reply->Fail(
        absl::NotFoundError(absl::StrCat("Not found: Collection `", call.collection(), "` doesn't exist!")));
  }
  call.reply->Ok(AliasesToJson(call.node.ListAliases(), call.collection()));
}

// Payload indexes (PUT /collections/{name}/index, DELETE …/index/{field}): filters here are exact
// scans, so an index changes no answer. The request is checked (collection, field_name) and
// acknowledged, so that applications that create indexes at start-up run unchanged.
void PayloadIndex(Call& call) {
  if (!call.node.CollectionExists(call.collection())) {
    return call.reply->Fail(
        absl::NotFoundError(absl::StrCat("Not found: Collection `", call.collection(), "` doesn't exist!")));
  }
  if (call.request.method == "PUT") {
    std::optional<Json> body = call.Body(false);
    if (!body) return;
    const bool named = body->is_object() && body->contains("field_name") && (*body)["field_name"].is_string() &&
                       !(*body)["field_name"].get<std::string>().empty();
    if (!named) {
      return call.reply->Fail(absl::InvalidArgumentError("Bad request: field_name must be a non-empty string"));
    }
  }
  bool wait = false;
  for (const auto& [key, value] : call.request.query) wait |= key == "wait" && value == "true";
  call.reply->Ok(Json::object({{"operation_id", 0}, {"status", wait ? "completed" : "acknowledged"}}));
}

void GetCollectionCluster(Call& call) {
  call.reply->Answer(call.node.CollectionCluster(call.collection()), CollectionClusterInfoToJson);
}

void UpdateCollectionCluster(Call& call) {
  if (!call.RequireCluster()) return;
  std::optional<std::optional<world::Duration>> timeout = Timeout(call);
  if (!timeout) return;
  std::optional<Json> body = call.Body(false);
  if (!body) return;
  std::optional<api::CollectionClusterUpdate> update =
      call.Take(CollectionClusterUpdateFromJson(call.collection(), *body));
  if (!update) return;
  update->timeout = *timeout;
  call.node.UpdateCollectionCluster(*update, AnswerTrue(call.reply));
}

void GetCluster(Call& call) {
  if (!call.options->cluster_enabled) return call.reply->Ok(ClusterDisabledJson());
  const ClusterExtras extras =
      call.options->cluster_extras ? call.options->cluster_extras() : DefaultExtras(*call.options);
  call.reply->Ok(ClusterStatusToJson(call.node.ClusterStatus(), extras));
}

void RemovePeer(Call& call) {
  if (!call.RequireCluster()) return;
  api::RemovePeer remove;
  if (!absl::SimpleAtoi(call.params[0], &remove.peer_id)) {
    return call.reply->Fail(absl::InvalidArgumentError(absl::StrCat(
        "Deserialize error in path parameters: can not parse \"", call.params[0], "\" to a u64")));
  }
  std::optional<bool> force = call.Take(BoolParam(call.request.query, "force", false));
  if (!force) return;
  remove.force = *force;
  std::optional<std::optional<world::Duration>> timeout = Timeout(call);
  if (!timeout) return;
  remove.timeout = *timeout;
  call.node.RemovePeer(remove, AnswerTrue(call.reply));
}

void RecoverCluster(Call& call) {
  if (!call.RequireCluster()) return;
  std::optional<std::optional<world::Duration>> timeout = Timeout(call);
  if (!timeout) return;
  call.node.RecoverConsensus(*timeout, AnswerTrue(call.reply));
}

}  // namespace qdsim::rest::internal
