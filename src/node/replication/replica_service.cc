#include "node/replication/replica_service.h"

#include "absl/strings/str_cat.h"
#include "proto/replication.pb.h"

namespace qdsim::replication {

ReplicaService::ReplicaService(world::PeerId self, rpc::RpcEndpoint& rpc, collection::LocalShards& shards)
    : self_(self), rpc_(rpc), shards_(shards) {
  rpc_.Handle(kUpdateMethod, [this](world::PeerId from, std::string body, rpc::RpcEndpoint::Reply reply) {
    replicationpb::ShardUpdate update;
    if (!update.ParseFromString(body)) {
      reply(absl::InvalidArgumentError("malformed shard update"), "");
      return;
    }
    ApplyLocal(update.collection(), update.shard_id(), std::move(*update.mutable_op()),
               [reply](absl::StatusOr<uint64_t> seq) {
                 if (!seq.ok()) return reply(seq.status(), "");
                 replicationpb::ShardUpdateResult result;
                 result.set_seq(*seq);
                 reply(absl::OkStatus(), result.SerializeAsString());
               });
  });
}

void ReplicaService::ApplyLocal(const std::string& collection, uint32_t shard, shardpb::ShardOperation op,
                                Done done) {
  shard::ShardStore* store = shards_.Find(collection, shard);
  if (store == nullptr) {
    done(absl::UnavailableError(absl::StrCat("peer ", self_, " holds no replica of shard ", shard,
                                             " of collection `", collection, "`")));
    return;
  }
  const uint64_t seq = store->AssignSeq();
  op.set_seq(seq);
  store->Apply(std::move(op), [seq, done = std::move(done)](absl::Status s) {
    if (!s.ok()) return done(s);
    done(seq);
  });
}

void ReplicaService::Apply(world::PeerId peer, const std::string& collection, uint32_t shard,
                           shardpb::ShardOperation op, world::Duration timeout, Done done) {
  if (peer == self_) return ApplyLocal(collection, shard, std::move(op), std::move(done));
  replicationpb::ShardUpdate update;
  update.set_collection(collection);
  update.set_shard_id(shard);
  *update.mutable_op() = std::move(op);
  rpc_.Call(peer, kUpdateMethod, update.SerializeAsString(), timeout,
            [done = std::move(done)](absl::StatusOr<std::string> response) {
              if (!response.ok()) return done(response.status());
              replicationpb::ShardUpdateResult result;
              if (!result.ParseFromString(*response)) return done(absl::DataLossError("malformed shard update result"));
              done(result.seq());
            });
}

}  // namespace qdsim::replication
