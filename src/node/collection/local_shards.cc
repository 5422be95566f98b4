#include "node/collection/local_shards.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "node/world/log.h"

namespace qdsim::collection {
namespace {

shard::Distance DistanceOf(consensuspb::Distance d) {
  switch (d) {
    case consensuspb::DOT: return shard::Distance::kDot;
    case consensuspb::EUCLID: return shard::Distance::kEuclid;
    case consensuspb::MANHATTAN: return shard::Distance::kManhattan;
    default: return shard::Distance::kCosine;
  }
}

constexpr world::Duration kActivateTimeout = world::Seconds(10);

}  // namespace

shard::ShardConfig ShardConfigOf(const consensuspb::CollectionParams& params) {
  shard::ShardConfig config;
  for (const auto& v : params.vectors()) {
    config.dense[v.name()] = shard::DenseVectorParams{static_cast<uint32_t>(v.size()), DistanceOf(v.distance())};
  }
  for (const auto& s : params.sparse_vectors()) config.sparse.insert(s.name());
  return config;
}

LocalShards::LocalShards(world::Env& env, consensus::ConsensusManager& consensus)
    : env_(env), consensus_(consensus) {
  consensus_.AddListener([this](const consensuspb::Operation&, const absl::Status&) { Reconcile(); });
  consensus_.AddRestoreListener([this] { Reconcile(); });
  Reconcile();
}

std::string LocalShards::Dir(const Key& key) { return absl::StrCat("collections/", key.first, "/", key.second); }

shard::ShardStore* LocalShards::Find(const std::string& collection, uint32_t shard) {
  auto it = stores_.find(Key{collection, shard});
  return it == stores_.end() ? nullptr : it->second.get();
}

void LocalShards::Reconcile() {
  const uint64_t self = env_.transport().Self();
  std::map<Key, const consensuspb::CollectionState*> wanted;
  std::set<Key> initializing;
  for (const auto& c : consensus_.metadata().state().collections()) {
    for (const auto& s : c.shards()) {
      for (const auto& r : s.replicas()) {
        if (r.peer_id() != self) continue;
        wanted.emplace(Key{c.name(), s.shard_id()}, &c);
        if (r.state() == consensuspb::INITIALIZING) initializing.insert(Key{c.name(), s.shard_id()});
      }
    }
  }
  for (auto it = stores_.begin(); it != stores_.end();) {
    const Key key = (it++)->first;
    if (!wanted.contains(key)) Close(key);
  }
  for (const auto& [key, collection] : wanted) {
    if (stores_.contains(key)) continue;
    const bool predecessor_busy = std::any_of(retired_.begin(), retired_.end(), [&](const auto& r) {
      return r.first == key && !r.second->idle();
    });
    if (predecessor_busy) continue;  // reopened at a later reconcile, once its files are quiet
    auto store = shard::ShardStore::Open(env_.disk(), Dir(key), ShardConfigOf(collection->params()));
    if (!store.ok()) {
      QDSIM_LOG(env_.logger(), kError) << "cannot open shard " << key.second << " of " << key.first << ": "
                                       << store.status().message();
      continue;
    }
    stores_.emplace(key, *std::move(store));
    QDSIM_LOG(env_.logger(), kInfo) << "opened local replica of shard " << key.second << " of " << key.first;
  }
  for (const Key& key : initializing) {
    if (stores_.contains(key)) Activate(key);
  }
  SweepRetired();
}

void LocalShards::Activate(const Key& key) {
  if (!activating_.insert(key).second) return;
  consensuspb::Operation op;
  auto* set = op.mutable_set_replica_state();
  set->set_collection(key.first);
  set->set_shard_id(key.second);
  set->set_peer_id(env_.transport().Self());
  set->set_state(consensuspb::ACTIVE);
  set->set_from_state(consensuspb::INITIALIZING);
  consensus_.Propose(op, kActivateTimeout, [this, key](absl::Status verdict) {
    activating_.erase(key);
    if (!verdict.ok() && !absl::IsFailedPrecondition(verdict)) {
      QDSIM_LOG(env_.logger(), kWarning) << "activating shard " << key.second << " of " << key.first << ": "
                                         << verdict.message();
    }
  });
}

void LocalShards::Close(const Key& key) {
  auto it = stores_.find(key);
  retired_.emplace_back(key, std::move(it->second));
  stores_.erase(it);
  QDSIM_LOG(env_.logger(), kInfo) << "dropping local replica of shard " << key.second << " of " << key.first;
}

void LocalShards::SweepRetired() {
  for (auto it = retired_.begin(); it != retired_.end();) {
    if (!it->second->idle()) {
      ++it;
      continue;
    }
    const Key key = it->first;
    it = retired_.erase(it);
    // A replica placed here again meanwhile reuses the directory: keep its files.
    if (stores_.contains(key)) continue;
    for (const std::string& file : env_.disk().List(Dir(key) + "/")) (void)env_.disk().Remove(file);
  }
}

}  // namespace qdsim::collection
