// LocalShards: the replicas this peer holds, kept in step with the cluster metadata.
//
// After every operation the metadata applies (and after a metadata snapshot is restored) it
// reconciles: every (collection, shard) the metadata places on this peer gets an open ShardStore under
// `collections/<name>/<shard>/` (recovered from disk if it was there before), and every store the
// metadata no longer places here is closed and its files removed. Replicas that are Initializing and
// whose store is open are then marked Active through consensus (compare-and-set from Initializing),
// once at a time per replica. Because it reconciles from the state rather than reacting to each kind
// of operation, it converges from any starting point: a restart, a snapshot, a missed operation.
//
//   LocalShards shards(env, consensus);   // registers itself as a consensus listener
//   shard::ShardStore* store = shards.Find("docs", 2);
//
// Thread-safety: none; every call happens on the node's logical thread.
#ifndef QDSIM_NODE_COLLECTION_LOCAL_SHARDS_H_
#define QDSIM_NODE_COLLECTION_LOCAL_SHARDS_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "node/consensus/consensus_manager.h"
#include "node/shard/shard_store.h"
#include "node/world/env.h"

namespace qdsim::collection {

// The shard store layout of a collection.
shard::ShardConfig ShardConfigOf(const consensuspb::CollectionParams& params);

class LocalShards {
 public:
  LocalShards(world::Env& env, consensus::ConsensusManager& consensus);

  // The open store of a local replica, or null.
  shard::ShardStore* Find(const std::string& collection, uint32_t shard);
  size_t size() const { return stores_.size(); }

  // Brings the open stores in line with the metadata (called automatically; public for tests).
  void Reconcile();

 private:
  using Key = std::pair<std::string, uint32_t>;  // (collection, shard)
  static std::string Dir(const Key& key);
  void Close(const Key& key);
  void SweepRetired();
  void Activate(const Key& key);

  world::Env& env_;
  consensus::ConsensusManager& consensus_;
  std::map<Key, std::unique_ptr<shard::ShardStore>> stores_;  // open local replicas
  // Closed stores still waiting for a sync (a store must outlive its sync callbacks); destroyed,
  // and their files removed, once idle.
  std::vector<std::pair<Key, std::unique_ptr<shard::ShardStore>>> retired_;
  std::set<Key> activating_;                                 // Initializing -> Active proposals in flight
};

}  // namespace qdsim::collection

#endif  // QDSIM_NODE_COLLECTION_LOCAL_SHARDS_H_
