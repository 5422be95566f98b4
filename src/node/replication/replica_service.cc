#include "node/replication/replica_service.h"

#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "node/replication/consistency.h"

namespace qdsim::replication {

ReplicaService::ReplicaService(world::PeerId self, rpc::RpcEndpoint& rpc, collection::LocalShards& shards)
    : self_(self), rpc_(rpc), shards_(shards) {
  rpc_.Handle(kUpdateMethod, [this](world::PeerId from, std::string body, rpc::RpcEndpoint::Reply reply) {
    replicationpb::ShardUpdate update;
    if (!update.ParseFromString(body)) {
      reply(absl::InvalidArgumentError("malformed shard update"), "");
      return;
    }
    std::vector<replicationpb::ReplicaRef> view(update.view().begin(), update.view().end());
    ApplyChecked(
        update.collection(), update.shard_id(), std::move(*update.mutable_op()), view,
        [reply](absl::StatusOr<uint64_t> seq) {
          if (!seq.ok()) return reply(seq.status(), "");
          replicationpb::ShardUpdateResult result;
          result.set_seq(*seq);
          reply(absl::OkStatus(), result.SerializeAsString());
        },
        update.source_seq());
  });
}

void ReplicaService::ApplyLocal(const std::string& collection, uint32_t shard, shardpb::ShardOperation op,
                                Done done) {
  ApplyChecked(collection, shard, std::move(op), {}, std::move(done));
}

void ReplicaService::ApplyChecked(const std::string& collection, uint32_t shard, shardpb::ShardOperation op,
                                  const std::vector<replicationpb::ReplicaRef>& view, Done done,
                                  uint64_t source_seq) {
  // A sender writes to one life of this peer's replica (the one in its view): a peer whose
  // metadata is behind (e.g. just restarted) may still hold an older life, which is dropped once
  // it catches up, so a write applied there would be lost.
  std::optional<uint64_t> addressed;
  for (const auto& v : view) {
    if (v.peer_id() == self_) addressed = v.generation();
  }
  shard::ShardStore* store = addressed ? shards_.Find(collection, shard, *addressed) : shards_.Find(collection, shard);
  if (store == nullptr) {
    done(absl::UnavailableError(absl::StrCat("peer ", self_, " holds no replica of shard ", shard, " of collection `",
                                             collection, "`",
                                             addressed ? absl::StrCat(" at generation ", *addressed) : "")));
    return;
  }
  if (!view.empty() && consensus_ != nullptr) {
    const consensuspb::CollectionState* c = consensus_->metadata().FindCollection(collection);
    if (c != nullptr && shard < static_cast<uint32_t>(c->shards_size())) {
      for (const consensuspb::Replica& r : c->shards(shard).replicas()) {
        if (!IsUpdatable(r.state())) continue;
        bool known = false;
        for (const auto& v : view) known |= v.peer_id() == r.peer_id() && v.generation() == r.generation();
        if (!known) {
          done(absl::AbortedError(absl::StrCat("stale replica set: the sender does not write to replica ",
                                                   r.peer_id(), " (generation ", r.generation(), ") of shard ",
                                                   shard, " of collection `", collection, "`")));
          return;
        }
      }
    }
  }
  if (source_seq != 0 && gate_ && gate_(collection, shard, source_seq, op, done)) return;
  const uint64_t seq = store->AssignSeq();
  op.set_seq(seq);
  std::shared_ptr<const shardpb::ShardOperation> logged;
  if (observer_) logged = std::make_shared<const shardpb::ShardOperation>(op);
  store->Apply(std::move(op), [this, collection, shard, logged, seq, done = std::move(done)](absl::Status s) {
    if (!s.ok()) return done(s);
    if (logged && observer_) observer_(collection, shard, *logged);
    done(seq);
  });
}

void ReplicaService::Apply(world::PeerId peer, const std::string& collection, uint32_t shard,
                           shardpb::ShardOperation op, world::Duration timeout, Done done) {
  Apply(peer, collection, shard, std::move(op), {}, timeout, std::move(done));
}

void ReplicaService::Apply(world::PeerId peer, const std::string& collection, uint32_t shard,
                           shardpb::ShardOperation op, const std::vector<replicationpb::ReplicaRef>& view,
                           world::Duration timeout, Done done, uint64_t source_seq) {
  if (peer == self_) return ApplyChecked(collection, shard, std::move(op), view, std::move(done), source_seq);
  replicationpb::ShardUpdate update;
  update.set_collection(collection);
  update.set_shard_id(shard);
  *update.mutable_op() = std::move(op);
  for (const auto& v : view) *update.add_view() = v;
  update.set_source_seq(source_seq);
  rpc_.Call(peer, kUpdateMethod, update.SerializeAsString(), timeout,
            [done = std::move(done)](absl::StatusOr<std::string> response) {
              if (!response.ok()) return done(response.status());
              replicationpb::ShardUpdateResult result;
              if (!result.ParseFromString(*response)) return done(absl::DataLossError("malformed shard update result"));
              done(result.seq());
            },
            rpc::RpcEndpoint::kResendEvery);
}

}  // namespace qdsim::replication
