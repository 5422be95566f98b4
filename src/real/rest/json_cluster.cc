#include "real/rest/json_cluster.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace qdsim::rest {
namespace {

Json RaftInfoToJson(const api::ClusterStatus& s) {
  Json raft = Json::object();
  raft["term"] = s.term;
  raft["commit"] = s.commit;
  raft["pending_operations"] = s.pending_operations;
  raft["leader"] = s.leader ? Json(*s.leader) : Json(nullptr);
  raft["role"] = s.role.empty() ? Json(nullptr) : Json(s.role);
  raft["is_voter"] = s.is_voter;
  return raft;
}

Json ConsensusThreadToJson(const ClusterExtras& extras) {
  Json out = Json::object();
  out["consensus_thread_status"] = extras.consensus_thread_status;
  if (extras.consensus_thread_status == "stopped_with_err") out["err"] = extras.consensus_error;
  out["last_update"] = extras.last_update;
  return out;
}

Json SendFailuresToJson(const ClusterExtras& extras) {
  Json out = Json::object();
  for (const auto& [uri, f] : extras.message_send_failures) {
    out[uri] = Json::object({{"count", f.count},
                             {"latest_error", f.latest_error},
                             {"latest_error_timestamp", f.latest_error_timestamp}});
  }
  return out;
}

Json TransferToJson(const consensuspb::ShardTransfer& t) {
  Json out = Json::object();
  out["shard_id"] = t.shard_id();
  out["from"] = t.from();
  out["to"] = t.to();
  out["sync"] = t.sync();
  if (!t.method().empty()) out["method"] = t.method();
  if (!t.comment().empty()) out["comment"] = t.comment();
  return out;
}

absl::StatusOr<uint64_t> RequiredU64(const Json& obj, const char* key, const std::string& where) {
  absl::StatusOr<const Json*> v = Require(obj, key);
  if (!v.ok()) return FormatError(absl::StrCat(where, ": missing field `", key, "`"));
  return ToU64(**v, absl::StrCat(where, ".", key));
}

absl::StatusOr<uint32_t> RequiredShardId(const Json& obj, const std::string& where) {
  absl::StatusOr<const Json*> v = Require(obj, "shard_id");
  if (!v.ok()) return FormatError(absl::StrCat(where, ": missing field `shard_id`"));
  return ToU32(**v, absl::StrCat(where, ".shard_id"));
}

// {shard_id, from_peer_id, to_peer_id, method?} of move_shard and replicate_shard.
absl::StatusOr<api::MoveShard> MoveFromJson(const Json& body, const std::string& where) {
  api::MoveShard m;
  absl::StatusOr<uint32_t> shard = RequiredShardId(body, where);
  if (!shard.ok()) return shard.status();
  m.shard_id = *shard;
  absl::StatusOr<uint64_t> from = RequiredU64(body, "from_peer_id", where);
  if (!from.ok()) return from.status();
  m.from_peer_id = *from;
  absl::StatusOr<uint64_t> to = RequiredU64(body, "to_peer_id", where);
  if (!to.ok()) return to.status();
  m.to_peer_id = *to;
  if (const Json* method = Find(body, "method")) {
    absl::StatusOr<std::string> text = ToString(*method, absl::StrCat(where, ".method"));
    if (!text.ok()) return text.status();
    m.method = *text;  // the node refuses methods it does not implement
  }
  if (Find(body, "to_shard_id") != nullptr)
    return BadRequest(absl::StrCat(where, ": to_shard_id is not supported"));
  return m;
}

absl::StatusOr<api::AbortTransfer> AbortFromJson(const Json& body, const std::string& where) {
  api::AbortTransfer a;
  absl::StatusOr<uint32_t> shard = RequiredShardId(body, where);
  if (!shard.ok()) return shard.status();
  a.shard_id = *shard;
  absl::StatusOr<uint64_t> from = RequiredU64(body, "from_peer_id", where);
  if (!from.ok()) return from.status();
  a.from_peer_id = *from;
  absl::StatusOr<uint64_t> to = RequiredU64(body, "to_peer_id", where);
  if (!to.ok()) return to.status();
  a.to_peer_id = *to;
  return a;
}

absl::StatusOr<api::DropReplica> DropFromJson(const Json& body, const std::string& where) {
  api::DropReplica d;
  absl::StatusOr<uint32_t> shard = RequiredShardId(body, where);
  if (!shard.ok()) return shard.status();
  d.shard_id = *shard;
  absl::StatusOr<uint64_t> peer = RequiredU64(body, "peer_id", where);
  if (!peer.ok()) return peer.status();
  d.peer_id = *peer;
  return d;
}

}  // namespace

std::string Rfc3339(int64_t wall_micros) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(wall_micros), absl::UTCTimeZone());
}

Json ClusterStatusToJson(const api::ClusterStatus& status, const ClusterExtras& extras) {
  Json peers = Json::object();
  for (const auto& [id, uri] : status.peers) peers[absl::StrCat(id)] = Json::object({{"uri", uri}});
  Json out = Json::object();
  out["status"] = "enabled";
  out["peer_id"] = status.peer_id;
  out["peers"] = std::move(peers);
  out["raft_info"] = RaftInfoToJson(status);
  out["consensus_thread_status"] = ConsensusThreadToJson(extras);
  out["message_send_failures"] = SendFailuresToJson(extras);
  return out;
}

Json ClusterDisabledJson() { return Json::object({{"status", "disabled"}}); }

Json CollectionClusterInfoToJson(const api::CollectionClusterInfo& info) {
  Json local = Json::array();
  for (const auto& s : info.local_shards) {
    local.push_back(
        Json::object({{"shard_id", s.shard_id}, {"points_count", s.points_count}, {"state", s.state}}));
  }
  Json remote = Json::array();
  for (const auto& s : info.remote_shards) {
    remote.push_back(Json::object({{"shard_id", s.shard_id}, {"peer_id", s.peer_id}, {"state", s.state}}));
  }
  Json transfers = Json::array();
  for (const auto& t : info.shard_transfers) transfers.push_back(TransferToJson(t));
  Json out = Json::object();
  out["peer_id"] = info.peer_id;
  out["shard_count"] = info.shard_count;
  out["local_shards"] = std::move(local);
  out["remote_shards"] = std::move(remote);
  out["shard_transfers"] = std::move(transfers);
  return out;
}

absl::StatusOr<api::CollectionClusterUpdate> CollectionClusterUpdateFromJson(const std::string& collection,
                                                                             const Json& body) {
  if (absl::Status s = RequireObject(body, "ClusterOperations"); !s.ok()) return s;
  const char* kinds[] = {"move_shard", "replicate_shard", "abort_transfer", "drop_replica"};
  const char* given = nullptr;
  for (const char* kind : kinds) {
    if (Find(body, kind) == nullptr) continue;
    if (given != nullptr)
      return FormatError(absl::StrCat("only one operation is allowed, got `", given, "` and `", kind, "`"));
    given = kind;
  }
  for (const char* unsupported : {"create_sharding_key", "drop_sharding_key", "restart_transfer",
                                  "start_resharding", "abort_resharding", "replicate_points"}) {
    if (given == nullptr && Find(body, unsupported) != nullptr) {
      return BadRequest(absl::StrCat("`", unsupported, "` is not supported"));
    }
  }
  if (given == nullptr)
    return FormatError("data did not match any variant of untagged enum ClusterOperations");
  const Json& op = body[given];
  const std::string where = given;
  if (!op.is_object()) return InvalidType(where, op, "an operation");
  api::CollectionClusterUpdate update;
  update.collection = collection;
  if (where == "move_shard" || where == "replicate_shard") {
    absl::StatusOr<api::MoveShard> m = MoveFromJson(op, where);
    if (!m.ok()) return m.status();
    if (where == "move_shard") {
      update.operation = *m;
    } else {
      update.operation = api::ReplicateShard{*m};
    }
  } else if (where == "abort_transfer") {
    absl::StatusOr<api::AbortTransfer> a = AbortFromJson(op, where);
    if (!a.ok()) return a.status();
    update.operation = *a;
  } else {
    absl::StatusOr<api::DropReplica> d = DropFromJson(op, where);
    if (!d.ok()) return d.status();
    update.operation = *d;
  }
  return update;
}

Json TelemetryToJson(uint64_t peer_id, size_t collections, bool cluster_enabled, const std::string& version) {
  Json out = Json::object();
  out["id"] = absl::StrCat(peer_id);
  out["app"] = Json::object({{"name", "qdrant"}, {"version", version}});
  out["collections"] = Json::object({{"number_of_collections", collections}});
  out["cluster"] = Json::object({{"enabled", cluster_enabled}});
  return out;
}

}  // namespace qdsim::rest
