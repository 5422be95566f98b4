// PointReader: a client's point read, from the peer that received it (the coordinator) to the
// replicas of every shard it concerns, and back merged (SPEC.md §5-§6).
//
// Per shard. The replicas come from this peer's metadata; only Active ones are readable. They are
// asked in ReadOrder (this peer's own replica first, then ascending peer id), `RequiredReads` of
// them at a time, until that many answered; a replica that fails (no answer within `timeout`, no
// open replica, not Active in its own metadata) is replaced by the next one. Reads never mark
// replicas Dead. Too few answers: Unavailable naming the collection and shard, e.g.
//   "Service unavailable: shard 2 of collection `docs`: 1 of 2 required replicas answered; last
//    error: no answer from peer 3 to shard.read within 1000 ms".
// A validation error of the store (InvalidArgument: a bad id, filter, vector or limit) is the
// request's fault, not the replica's: it is answered unchanged, no other replica is tried.
// The local replica is read directly, without rpc.
//
// Resolving several answers of one shard (consistency > 1), as Qdrant does: a record or hit is kept
// if it appears with identical content — id, payload and vectors; not version or score — in more
// than half of the answers (consistency "all": in every answer), reported with the highest version
// among those copies. A count is the lower median of the answers. So a point that only some
// replicas hold (a write that reached one replica) is left out, and one whose replicas disagree is
// left out too.
//
// Merging shards. Retrieve answers in the order of the requested ids, each once, missing ids left
// out. Scroll asks every shard for the same page (offset, limit), merges by id, cuts at `limit`;
// the next page starts at the smallest of the first id beyond the cut and each shard's own next
// page offset, so pages visit every point once. Count sums the shards. Search asks every shard for
// its best (offset + limit) with offset 0, merges best first — higher scores first for Cosine, Dot
// and sparse vectors, lower first for Euclid and Manhattan, equal scores by point id — then skips
// `offset` and takes `limit`.
//
//   PointReader reader(self, rpc, consensus, local_shards);   // also serves peers' "shard.read"
//   reader.Search("docs", {.query = q, .limit = 5}, ReadConsistency{}, world::Seconds(1),
//                 [](absl::StatusOr<std::vector<shard::ScoredPoint>> hits) { ... });
//
// Callbacks. Each coordinator method calls back exactly once — before returning when it can answer
// at once (an unknown collection, a validation error found here, or a read served wholly by local
// replicas), else later from an rpc callback. `timeout` bounds each request to a remote replica, not
// the read as a whole: a shard whose replicas time out one after another answers within
// timeout × (readable replicas − required + 1). Callbacks still pending when the reader is destroyed
// never run.
//
// Errors: NotFound for an unknown collection (Qdrant's message); InvalidArgument from validation;
// Unavailable as above. With several failing shards, a validation error wins, then the lowest shard.
//
// Thread-safety: none; every call happens on the node's logical thread.
#ifndef QDSIM_NODE_REPLICATION_POINT_READER_H_
#define QDSIM_NODE_REPLICATION_POINT_READER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/collection/local_shards.h"
#include "node/consensus/consensus_manager.h"
#include "node/replication/consistency.h"
#include "node/rpc/rpc_endpoint.h"
#include "node/shard/cluster_bugs.h"
#include "node/shard/point_table.h"
#include "proto/read.pb.h"
#include "proto/shard.pb.h"

namespace qdsim::replication {

class PointReader {
 public:
  using RetrieveDone = std::function<void(absl::StatusOr<std::vector<shard::PointRecord>> records)>;
  using ScrollDone = std::function<void(absl::StatusOr<shard::ScrollPage> page)>;
  using CountDone = std::function<void(absl::StatusOr<uint64_t> count)>;
  using SearchDone = std::function<void(absl::StatusOr<std::vector<shard::ScoredPoint>> hits)>;

  // The rpc method remote peers call to read this peer's replicas.
  static constexpr char kReadMethod[] = "shard.read";

  // Registers the read handler on `rpc`. Everything passed must outlive the reader.
  PointReader(world::PeerId self, rpc::RpcEndpoint& rpc, consensus::ConsensusManager& consensus,
              collection::LocalShards& shards);
  // The same, running searches of local replicas through env.Offload (off the node's thread in
  // the real runtime).
  PointReader(world::Env& env, world::PeerId self, rpc::RpcEndpoint& rpc, consensus::ConsensusManager& consensus,
              collection::LocalShards& shards)
      : PointReader(self, rpc, consensus, shards) {
    env_ = &env;
  }
  ~PointReader();

  PointReader(const PointReader&) = delete;
  PointReader& operator=(const PointReader&) = delete;

  // Switches on planted bugs (shard/cluster_bugs.h; tests of the checkers only).
  void set_planted_bugs(const shard::ClusterBugs& bugs) { bugs_ = bugs; }

  // The points among `ids` that exist, in the order asked, each once; each id is routed to its
  // shard by the collection's hash ring and only those shards are asked.
  void Retrieve(const std::string& collection, std::vector<shardpb::PointId> ids, bool with_payload,
                shard::WithVector with_vector, ReadConsistency consistency, world::Duration timeout,
                RetrieveDone done);

  // One page of the points matching request.filter, in id order, from request.offset on.
  void Scroll(const std::string& collection, shard::ScrollRequest request, ReadConsistency consistency,
              world::Duration timeout, ScrollDone done);

  // The number of points matching `filter` (every point if none).
  void Count(const std::string& collection, std::optional<shardpb::Filter> filter, ReadConsistency consistency,
             world::Duration timeout, CountDone done);

  // The exact best hits for request.query over every shard, after request.offset.
  // InvalidArgument ("Wrong input: limit must be at least 1") for limit 0.
  void Search(const std::string& collection, shard::SearchRequest request, ReadConsistency consistency,
              world::Duration timeout, SearchDone done);

 private:
  struct ShardFanout;
  // Called once with every asked shard's replicas' answers, by shard id, or with why the read failed.
  using JoinDone = std::function<void(absl::StatusOr<std::map<uint32_t, std::vector<readpb::ShardReadResult>>>)>;

  // Sends each shard of `collection` its read (by shard id; collection and shard_id are filled in
  // here), then calls `done` with every shard's answers, or with the error that decides the read.
  void ReadShards(const consensuspb::CollectionState& collection, std::map<uint32_t, readpb::ShardRead> reads,
                  const ReadConsistency& consistency, world::Duration timeout, JoinDone done);
  // The same read for every shard of `collection`.
  void ReadAllShards(const consensuspb::CollectionState& collection, const readpb::ShardRead& read,
                     const ReadConsistency& consistency, world::Duration timeout, JoinDone done);
  // Asks the replicas of one shard until enough answered (see the overview).
  void Pump(const std::shared_ptr<ShardFanout>& f);
  // Takes one replica's answer: counts a success, ends the shard on a validation error, else asks
  // another replica.
  void OnAnswer(const std::shared_ptr<ShardFanout>& f, absl::StatusOr<readpb::ShardReadResult> answer);
  // Reads one replica: this peer's store directly, another's through rpc; `done` runs once.
  void AskReplica(const consensuspb::Replica& replica, readpb::ShardRead read, world::Duration timeout,
                  std::function<void(absl::StatusOr<readpb::ShardReadResult>)> done);
  // The replica side: reads this peer's replica of (read.collection, read.shard_id).
  absl::StatusOr<readpb::ShardReadResult> ReadLocal(const readpb::ShardRead& read) const;
  // The same, with a search offloaded (Env::Offload) when an Env was given; `done` runs once.
  void ReadLocalAsync(const readpb::ShardRead& read,
                      std::function<void(absl::StatusOr<readpb::ShardReadResult>)> done) const;
  // This peer's replica that may answer `read`: open, of the life asked for, and readable here.
  absl::StatusOr<shard::ShardStore*> ReadableStore(const readpb::ShardRead& read) const;

  world::PeerId self_;                       // this peer
  shard::ClusterBugs bugs_;                  // planted bugs switched on (tests of the checkers only)
  rpc::RpcEndpoint& rpc_;                    // requests to and from replicas on other peers
  consensus::ConsensusManager& consensus_;   // the metadata: collections, shards, replica states
  collection::LocalShards& shards_;          // this peer's replicas
  world::Env* env_ = nullptr;                // for Offload; null: every read runs inline
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once destroyed
};

}  // namespace qdsim::replication

#endif  // QDSIM_NODE_REPLICATION_POINT_READER_H_
