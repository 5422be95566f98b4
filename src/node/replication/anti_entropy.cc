#include "node/replication/anti_entropy.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "node/world/log.h"
#include "proto/replication.pb.h"

namespace qdsim::replication {
namespace {

constexpr world::Duration kDigestTimeout = world::Seconds(1);
constexpr world::Duration kMarkTimeout = world::Seconds(5);

using consensus::FindReplica;

}  // namespace

AntiEntropy::AntiEntropy(world::Env& env, world::PeerId self, rpc::RpcEndpoint& rpc,
                         consensus::ConsensusManager& consensus, collection::LocalShards& shards, DeadMarks& marks)
    : env_(env), self_(self), rpc_(rpc), consensus_(consensus), shards_(shards), marks_(marks) {
  rpc_.Handle(kDigestMethod, [this, alive = alive_](world::PeerId from, std::string body,
                                                    rpc::RpcEndpoint::Reply reply) {
    if (*alive) HandleDigest(from, std::move(body), std::move(reply));
  });
  timer_ = env_.clock().After(kPeriod, [this] { Tick(); });
}

AntiEntropy::~AntiEntropy() {
  *alive_ = false;
  if (timer_ != 0) env_.clock().Cancel(timer_);
}

bool AntiEntropy::Quiet(const Life& life, uint64_t last_seq) {
  const world::Instant now = env_.clock().Now();
  auto [it, fresh] = activity_.try_emplace(life, Activity{last_seq, now});
  if (!fresh && it->second.last_seq != last_seq) it->second = Activity{last_seq, now};
  return now - it->second.since >= kQuiet;
}

void AntiEntropy::Tick() {
  timer_ = env_.clock().After(kPeriod, [this] { Tick(); });
  std::map<Life, Activity> seen;
  for (const auto& c : consensus_.metadata().state().collections()) {
    for (const auto& shard : c.shards()) {
      const consensuspb::Replica* mine = FindReplica(shard, self_);
      if (mine == nullptr || mine->state() != consensuspb::ACTIVE) continue;
      shard::ShardStore* store = shards_.Find(c.name(), shard.shard_id(), mine->generation());
      if (store == nullptr) continue;
      const Life life{c.name(), shard.shard_id(), mine->generation()};
      const bool quiet = Quiet(life, store->last_seq());
      seen[life] = activity_[life];
      if (!quiet || asking_.contains(life)) continue;
      std::optional<uint64_t> digest;  // computed once, only if some pair needs comparing
      for (const auto& other : shard.replicas()) {
        if (other.peer_id() <= self_ || other.state() != consensuspb::ACTIVE) continue;
        const auto pair = std::make_tuple(c.name(), shard.shard_id(), mine->generation(), other.peer_id(),
                                          other.generation());
        auto matched = matched_.find(pair);
        if (matched != matched_.end() && matched->second == store->last_seq()) continue;
        if (!digest) digest = store->ContentDigest();
        replicationpb::ShardDigest request;
        request.set_collection(c.name());
        request.set_shard_id(shard.shard_id());
        request.set_from_generation(mine->generation());
        request.set_to_generation(other.generation());
        request.set_digest(*digest);
        asking_[life] = true;
        const uint64_t asked_at = store->last_seq();
        rpc_.Call(other.peer_id(), kDigestMethod, request.SerializeAsString(), kDigestTimeout,
                  [this, alive = alive_, life, pair, asked_at](absl::StatusOr<std::string> answer) {
                    if (!*alive) return;
                    asking_.erase(life);
                    replicationpb::ShardDigestResult result;
                    if (!answer.ok() || !result.ParseFromString(*answer)) return;
                    if (result.verdict() == replicationpb::ShardDigestResult::EQUAL) matched_[pair] = asked_at;
                  },
                  rpc::RpcEndpoint::kResendEvery);
      }
    }
  }
  activity_ = std::move(seen);  // forget replicas that are gone or no longer Active
  for (auto it = matched_.begin(); it != matched_.end();) {
    const auto& [collection, shard, generation, peer, peer_generation] = it->first;
    it = activity_.contains(Life{collection, shard, generation}) ? std::next(it) : matched_.erase(it);
  }
}

void AntiEntropy::HandleDigest(world::PeerId from, std::string body, rpc::RpcEndpoint::Reply reply) {
  replicationpb::ShardDigest request;
  if (!request.ParseFromString(body)) return reply(absl::InvalidArgumentError("malformed shard digest"), "");
  replicationpb::ShardDigestResult result;
  auto answer = [&] { reply(absl::OkStatus(), result.SerializeAsString()); };
  const consensuspb::CollectionState* c = consensus_.metadata().FindCollection(request.collection());
  if (c == nullptr || request.shard_id() >= static_cast<uint32_t>(c->shards_size())) return answer();
  const consensuspb::ShardInfo& shard = c->shards(request.shard_id());
  const consensuspb::Replica* mine = FindReplica(shard, self_);
  const consensuspb::Replica* theirs = FindReplica(shard, from);
  if (mine == nullptr || theirs == nullptr || mine->state() != consensuspb::ACTIVE ||
      theirs->state() != consensuspb::ACTIVE || mine->generation() != request.to_generation() ||
      theirs->generation() != request.from_generation() || from >= self_) {
    return answer();
  }
  shard::ShardStore* store = shards_.Find(c->name(), request.shard_id(), mine->generation());
  if (store == nullptr || !Quiet(Life{c->name(), request.shard_id(), mine->generation()}, store->last_seq())) {
    return answer();
  }
  if (store->ContentDigest() == request.digest()) {
    result.set_verdict(replicationpb::ShardDigestResult::EQUAL);
    return answer();
  }
  ++divergences_found_;
  QDSIM_LOG(env_.logger(), kWarning) << "replicas of shard " << request.shard_id() << " of " << c->name()
                                     << " diverged: peer " << from << " (generation " << theirs->generation()
                                     << ") holds different points from this peer's; marking it Dead for recovery";
  marks_.Propose(DeadMarks::Mark(c->name(), request.shard_id(), *theirs, {*mine}), kMarkTimeout,
                 [](DeadMarks::Outcome) {});
  result.set_verdict(replicationpb::ShardDigestResult::DIFFERENT);
  answer();
}

}  // namespace qdsim::replication
