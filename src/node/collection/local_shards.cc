#include "node/collection/local_shards.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "node/world/strings.h"
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

// The generation in "collections/<name>/<shard>-<generation>/<file>", if the path has that shape.
std::optional<uint64_t> GenerationOf(std::string_view file) {
  const std::vector<absl::string_view> parts = absl::StrSplit(world::Sv(file), '/');
  if (parts.size() < 4) return std::nullopt;
  const size_t dash = parts[2].rfind('-');
  uint64_t generation;
  if (dash == absl::string_view::npos || !absl::SimpleAtoi(parts[2].substr(dash + 1), &generation)) {
    return std::nullopt;
  }
  return generation;
}



}  // namespace

shard::ShardConfig ShardConfigOf(const consensuspb::CollectionParams& params) {
  shard::ShardConfig config;
  for (const auto& v : params.vectors()) {
    config.dense[v.name()] = shard::DenseVectorParams{static_cast<uint32_t>(v.size()), DistanceOf(v.distance())};
  }
  for (const auto& s : params.sparse_vectors()) config.sparse.insert(s.name());
  return config;
}

LocalShards::LocalShards(world::Env& env, consensus::ConsensusManager& consensus, shard::ClusterBugs bugs)
    : env_(env), consensus_(consensus), bugs_(bugs) {
  consensus_.AddListener([this](const consensuspb::Operation&, const absl::Status&) { Reconcile(); });
  consensus_.AddRestoreListener([this] { Reconcile(); });
  Reconcile();
}

LocalShards::~LocalShards() {
  if (retry_timer_ != 0) env_.clock().Cancel(retry_timer_);
}

std::string LocalShards::Dir(const Key& key, uint64_t generation) {
  return absl::StrCat("collections/", key.first, "/", key.second, "-", generation);
}

shard::ShardStore* LocalShards::Find(const std::string& collection, uint32_t shard) {
  auto it = stores_.find(Key{collection, shard});
  return it == stores_.end() ? nullptr : it->second.store.get();
}

shard::ShardStore* LocalShards::Find(const std::string& collection, uint32_t shard, uint64_t generation) {
  auto it = stores_.find(Key{collection, shard});
  return it == stores_.end() || it->second.generation != generation ? nullptr : it->second.store.get();
}

void LocalShards::RetryLater() {
  if (retry_timer_ != 0) return;
  retry_timer_ = env_.clock().After(world::Millis(500), [this] {
    retry_timer_ = 0;
    Reconcile();
  });
}

void LocalShards::Reconcile() {
  const uint64_t self = env_.transport().Self();
  struct Wanted {
    const consensuspb::CollectionState* collection;
    uint64_t generation;
    bool initializing;
  };
  std::map<Key, Wanted> wanted;
  for (const auto& c : consensus_.metadata().state().collections()) {
    for (const auto& s : c.shards()) {
      for (const auto& r : s.replicas()) {
        if (r.peer_id() != self) continue;
        wanted.emplace(Key{c.name(), s.shard_id()},
                       Wanted{&c, r.generation(), r.state() == consensuspb::INITIALIZING});
      }
    }
  }
  for (auto it = stores_.begin(); it != stores_.end();) {
    const Key key = it->first;
    auto w = wanted.find(key);
    ++it;
    if (w == wanted.end() || w->second.generation != stores_.at(key).generation) Close(key);
  }
  for (const auto& [key, w] : wanted) {
    if (stores_.contains(key)) continue;
    const std::string dir = Dir(key, w.generation);
    if (retired_.contains(dir)) {  // the same life closed earlier is still syncing: wait for it
      RetryLater();
      continue;
    }
    auto store = shard::ShardStore::Open(env_.disk(), dir, ShardConfigOf(w.collection->params()));
    if (!store.ok()) {
      QDSIM_LOG(env_.logger(), kError) << "cannot open shard " << key.second << " of " << key.first << ": "
                                       << store.status().message();
      RetryLater();
      continue;
    }
    (*store)->set_planted_bugs(bugs_);
    stores_.emplace(key, Open{w.generation, *std::move(store)});
    QDSIM_LOG(env_.logger(), kInfo) << "opened local replica of shard " << key.second << " of " << key.first
                                    << " (generation " << w.generation << ")";
  }
  for (const auto& [key, w] : wanted) {
    if (w.initializing && stores_.contains(key)) Activate(key);
  }
  SweepRetired();
  SweepStrayFiles();
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
      RetryLater();  // nothing else may come along to trigger a reconcile
    }
  });
}

void LocalShards::Close(const Key& key) {
  auto it = stores_.find(key);
  retired_[Dir(key, it->second.generation)] = std::move(it->second.store);
  stores_.erase(it);
  QDSIM_LOG(env_.logger(), kInfo) << "dropping local replica of shard " << key.second << " of " << key.first;
}

void LocalShards::SweepRetired() {
  for (auto it = retired_.begin(); it != retired_.end();) {
    if (!it->second->idle()) {
      RetryLater();
      ++it;
      continue;
    }
    for (const std::string& file : env_.disk().List(it->first + "/")) (void)env_.disk().Remove(file);
    it = retired_.erase(it);
  }
}

void LocalShards::SweepStrayFiles() {
  // Files under collections/ that belong to no open or retired store: leftovers of replicas whose
  // removal a crash undid, or of lives of a replica that are over. Only generations the metadata
  // has already handed out are judged: while Raft is still re-applying the log after a restart, a
  // newer generation may belong to a replica whose placement is yet to be applied again.
  const uint64_t handed_out = consensus_.metadata().state().next_generation();
  std::set<std::string> live;
  for (const auto& [key, open] : stores_) live.insert(Dir(key, open.generation) + "/");
  for (const auto& [dir, store] : retired_) live.insert(dir + "/");
  for (const std::string& file : env_.disk().List("collections/")) {
    const std::optional<uint64_t> generation = GenerationOf(file);
    if (!generation || *generation > handed_out) continue;
    const bool belongs = std::any_of(live.begin(), live.end(), [&](const std::string& dir) {
      return file.compare(0, dir.size(), dir) == 0;
    });
    if (!belongs) (void)env_.disk().Remove(file);
  }
}

}  // namespace qdsim::collection
