// LocalShards: the replicas this peer holds, kept in step with the cluster metadata.
//
// After every operation the metadata applies (and after a metadata snapshot is restored) it
// reconciles: every replica the metadata places on this peer gets an open ShardStore under
// `collections/<name>/<shard>-<generation>/` (recovered from disk if it was there before), and every
// store the metadata no longer places here is closed and its files removed. The generation is new at
// every placement and transfer, so an earlier life of a replica (a deleted collection whose file
// removals a crash undid, a dropped or dead replica) never shares files with the current one, and
// files of no current replica are swept away. Replicas that are Initializing and
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
#include "node/shard/cluster_bugs.h"
#include "node/shard/shard_store.h"
#include "node/world/env.h"

namespace qdsim::collection {

// The shard store layout of a collection.
shard::ShardConfig ShardConfigOf(const consensuspb::CollectionParams& params);

class LocalShards {
 public:
  // `bugs`: planted bugs switched on in every store it opens (shard/cluster_bugs.h; tests only).
  LocalShards(world::Env& env, consensus::ConsensusManager& consensus, shard::ClusterBugs bugs = {});
  ~LocalShards();

  // The open store of a local replica, or null.
  shard::ShardStore* Find(const std::string& collection, uint32_t shard);
  // The same, only if the open store is that life (Replica.generation) of the replica.
  shard::ShardStore* Find(const std::string& collection, uint32_t shard, uint64_t generation);
  size_t size() const { return stores_.size(); }

  // Brings the open stores in line with the metadata (called automatically; public for tests).
  void Reconcile();

 private:
  using Key = std::pair<std::string, uint32_t>;  // (collection, shard)
  struct Open {
    uint64_t generation;                     // Replica.generation this store belongs to
    std::unique_ptr<shard::ShardStore> store;
  };
  static std::string Dir(const Key& key, uint64_t generation);
  void Close(const Key& key);
  void SweepRetired();
  void SweepStrayFiles();
  void Activate(const Key& key);
  void RetryLater();

  world::Env& env_;
  consensus::ConsensusManager& consensus_;
  shard::ClusterBugs bugs_;  // planted bugs for the stores it opens
  std::map<Key, Open> stores_;    // open local replicas
  // Closed stores still waiting for a sync (a store must outlive its sync callbacks); destroyed,
  // and their files removed, once idle. Keyed by their directory.
  std::map<std::string, std::unique_ptr<shard::ShardStore>> retired_;
  std::set<Key> activating_;      // Initializing -> Active proposals in flight
  world::TimerId retry_timer_ = 0;  // a Reconcile to retry what could not be done yet
};

}  // namespace qdsim::collection

#endif  // QDSIM_NODE_COLLECTION_LOCAL_SHARDS_H_
