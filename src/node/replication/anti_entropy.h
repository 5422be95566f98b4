// AntiEntropy: finds Active replicas of a shard that hold different points, and has one of them
// rebuilt (beyond Qdrant, which lets them diverge: #4626).
//
// Why: the write path keeps replicas equal in every case it sees — a replica that misses a write
// is marked Dead and rebuilt — but some cases it cannot see. A writer that crashes between
// fanning out a write and marking the replicas that missed it leaves the replicas that took it
// ahead of the others, and nothing on any peer remembers it. So replicas compare what they hold.
//
// How: once a second this peer looks at its Active replicas. One that has applied nothing for 2 s
// (a quiet one) sends a digest of its points (ShardStore::ContentDigest) to every other Active
// replica of its shard with a higher peer id, over rpc "shard.digest". The receiver compares it
// with its own digest if its replica is quiet too. Equal: nothing to do, and the pair is not
// compared again until either replica applies something. Different: the receiver proposes the
// sender's replica Dead (compare-and-set on its life, with the receiver's replica as the Active
// witness: DeadMarks), and recovery rebuilds it from an Active replica. Which of the two is kept
// does not matter for acknowledged writes — the write path acknowledges a write only once every
// Active replica holds it — and the lower id is chosen so that both sides agree.
//
// A replica that is not quiet is not compared: a write in flight would make equal replicas look
// different. A write delayed for longer than that (a partitioned link) can still make them look
// different for a moment; that costs a needless rebuild, never a write.
//
//   AntiEntropy anti_entropy(env, self, rpc, consensus, local_shards, marks);
//
// Thread-safety: none; every call happens on the node's logical thread.
#ifndef QDSIM_NODE_REPLICATION_ANTI_ENTROPY_H_
#define QDSIM_NODE_REPLICATION_ANTI_ENTROPY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "node/collection/local_shards.h"
#include "node/consensus/consensus_manager.h"
#include "node/replication/dead_marks.h"
#include "node/rpc/rpc_endpoint.h"
#include "node/world/env.h"

namespace qdsim::replication {

class AntiEntropy {
 public:
  static constexpr char kDigestMethod[] = "shard.digest";
  static constexpr world::Duration kPeriod = world::Seconds(1);  // how often replicas are looked at
  static constexpr world::Duration kQuiet = world::Seconds(2);   // nothing applied for this long

  // Installs the rpc handler and starts the periodic comparison. Everything passed must outlive
  // this object.
  AntiEntropy(world::Env& env, world::PeerId self, rpc::RpcEndpoint& rpc, consensus::ConsensusManager& consensus,
              collection::LocalShards& shards, DeadMarks& marks);
  ~AntiEntropy();

  AntiEntropy(const AntiEntropy&) = delete;
  AntiEntropy& operator=(const AntiEntropy&) = delete;

  // Divergences this peer found (its replica and a lower peer's differed), for tests and status.
  uint64_t divergences_found() const { return divergences_found_; }

 private:
  // A life of a local replica: (collection, shard, generation).
  using Life = std::tuple<std::string, uint32_t, uint64_t>;
  struct Activity {
    uint64_t last_seq = 0;      // the store's last_seq() when last looked at
    world::Instant since;       // when it last changed
  };

  void Tick();
  // Whether the local replica `life` has applied nothing for kQuiet; updates its activity.
  bool Quiet(const Life& life, uint64_t last_seq);
  void HandleDigest(world::PeerId from, std::string body, rpc::RpcEndpoint::Reply reply);

  world::Env& env_;
  world::PeerId self_;
  rpc::RpcEndpoint& rpc_;
  consensus::ConsensusManager& consensus_;
  collection::LocalShards& shards_;
  DeadMarks& marks_;

  std::map<Life, Activity> activity_;  // local replicas seen by the last tick
  // Comparisons that matched: (local life, peer, peer's generation) -> the local last_seq then.
  std::map<std::tuple<std::string, uint32_t, uint64_t, world::PeerId, uint64_t>, uint64_t> matched_;
  std::map<Life, bool> asking_;        // a digest of this life is in flight
  uint64_t divergences_found_ = 0;
  world::TimerId timer_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once destroyed
};

}  // namespace qdsim::replication

#endif  // QDSIM_NODE_REPLICATION_ANTI_ENTROPY_H_
