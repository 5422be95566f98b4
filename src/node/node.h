// Node: one peer of the cluster — Raft for the metadata, the consensus state machine, the local
// shard replicas, point replication, shard transfers and recovery — composed behind the typed API
// of node/api/types.h. It is the single object both runtimes drive: the simulator (src/sim) and
// the real runtime (src/real) hand it a world::Env and call its methods; it never does I/O itself.
//
//   Node::Options options;
//   options.uri = "http://10.0.0.1:6335/";
//   options.raft.initial_voters = {self};              // the first peer; empty for a joiner
//   ASSIGN_OR_RETURN(std::unique_ptr<Node> node, Node::Open(env, options));
//   node->CreateCollection({.name = "docs", .params = params}, [](absl::StatusOr<bool> r) { ... });
//
// Peer messages: the node installs itself as the transport's receiver (one Envelope per message:
// Raft, snapshot chunks, rpc). Every callback runs on the node's logical thread, exactly once.
//
// Joining (SPEC.md §2): a new peer opens with no initial voters and calls Join(bootstrap peer); the
// bootstrap peer adds it to Raft as a learner and to the metadata with its URI, and answers with
// the known peers. The leader promotes caught-up learners to voters. A peer whose URI in the
// metadata differs from Options::uri (a restart with a new address) announces the new one.
//
// Thread-safety: none; every call happens on the node's logical thread.
#ifndef QDSIM_NODE_NODE_H_
#define QDSIM_NODE_NODE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/api/types.h"
#include "node/collection/local_shards.h"
#include "node/consensus/consensus_manager.h"
#include "node/raft/raft_node.h"
#include "node/replication/anti_entropy.h"
#include "node/replication/dead_marks.h"
#include "node/replication/point_reader.h"
#include "node/replication/point_writer.h"
#include "node/replication/replica_service.h"
#include "node/replication/transfers.h"
#include "node/rpc/rpc_endpoint.h"
#include "node/shard/cluster_bugs.h"
#include "node/world/env.h"
#include "proto/cluster.pb.h"

namespace qdsim {

class Node {
 public:
  struct Options {
    std::string uri;                          // this peer's p2p URI, recorded in the metadata ("": a
                                              // joiner lets its bootstrap peer derive it, see below)
    uint32_t p2p_port = 0;                    // sent with a join, to derive the URI when it is ""
    // The network address a peer's messages come from, if the runtime knows it: a bootstrap peer
    // derives a joiner's URI from it and the joiner's p2p_port when the joiner gives none (SPEC §2).
    std::function<std::optional<std::string>(world::PeerId)> peer_host;
    raft::RaftNode::Options raft;             // initial_voters: {self} for a first peer, {} to join
    replication::PointWriter::Config writer;  // qdrant_dead_marking reproduces Qdrant's behaviour
    replication::TransferLimits transfer_limits;
    world::Duration default_timeout = world::Seconds(10);  // metadata and point operations
    shard::ClusterBugs cluster_bugs;          // planted bugs (shard/cluster_bugs.h; tests only)
  };

  // Opens the node from its disk (recovering Raft, the metadata and every local replica).
  static absl::StatusOr<std::unique_ptr<Node>> Open(world::Env& env, Options options);
  ~Node();

  world::PeerId id() const { return self_; }

  // ---- Cluster membership ----
  // Asks `bootstrap` to add this peer (a learner until promoted). Retries until `timeout`.
  void Join(world::PeerId bootstrap, world::Duration timeout, api::Callback<clusterpb::JoinResponse> done);
  void RemovePeer(const api::RemovePeer& request, api::Callback<bool> done);
  api::ClusterStatus ClusterStatus() const;
  // POST /cluster/recover: asks the leader to send this peer a fresh consensus snapshot. true once
  // the leader has sent one, or has none to send (its log brings this peer up to date); on the
  // leader itself there is nothing to recover from.
  void RecoverConsensus(std::optional<world::Duration> timeout, api::Callback<bool> done);
  // Ready to serve: a leader is known, this peer is in the metadata, and every local replica the
  // metadata places here is open.
  bool Ready() const;

  // ---- Collections ----
  void CreateCollection(const api::CreateCollection& request, api::Callback<bool> done);
  void UpdateCollection(const api::UpdateCollection& request, api::Callback<bool> done);
  void DeleteCollection(const api::DeleteCollection& request, api::Callback<bool> done);
  std::vector<std::string> ListCollections() const;
  bool CollectionExists(const std::string& name) const;
  void GetCollection(const std::string& name, api::Callback<api::CollectionInfo> done);
  void UpdateAliases(const std::vector<api::AliasAction>& actions, std::optional<world::Duration> timeout,
                     api::Callback<bool> done);
  std::vector<consensuspb::Alias> ListAliases() const;
  absl::StatusOr<api::CollectionClusterInfo> CollectionCluster(const std::string& name) const;
  void UpdateCollectionCluster(const api::CollectionClusterUpdate& request, api::Callback<bool> done);

  // ---- Points ----
  void WritePoints(const api::PointWrite& request, api::Callback<api::UpdateResult> done);
  void Retrieve(const api::Retrieve& request, api::Callback<std::vector<shard::PointRecord>> done);
  void Scroll(const api::Scroll& request, api::Callback<shard::ScrollPage> done);
  void Count(const api::Count& request, api::Callback<uint64_t> done);
  void Search(const api::Search& request, api::Callback<std::vector<shard::ScoredPoint>> done);

  // Calls `listener` after every metadata change this peer applies (an operation, or a snapshot
  // restored) — the real runtime keeps its transport's address book in line with the peers' URIs.
  void OnMetadataChange(std::function<void()> listener);
  // Calls `listener` when a peer says it now has a new p2p URI (it restarted with a new --uri and
  // the metadata does not record it yet): the runtime points its transport there meanwhile.
  void OnAddressHint(std::function<void(world::PeerId, const std::string& uri)> listener);
  // WhoIs (SPEC.md §2): the p2p URI of `peer`, for a runtime that heard from, or must send to, a
  // peer whose address it does not know (say this peer was down while that one joined, and it now
  // leads). Answered from what this peer knows if it can (KnownUri); else the other peers of the
  // metadata are asked one at a time, the leader first, each for up to one second, until one
  // knows. NotFound when none does (FailedPrecondition when the metadata names no peer to ask: a
  // joiner, or a peer still replaying its log). Inquiries about one peer made while one is under
  // way share its answer. `done` never runs inside this call.
  void WhoIs(world::PeerId peer, api::Callback<std::string> done);

  // ---- Parts, for the simulator's checkers and tests ----
  const consensus::ConsensusManager& consensus() const { return consensus_; }
  raft::RaftNode& raft() { return *raft_; }
  collection::LocalShards& local_shards() { return *shards_; }
  const replication::DeadMarks& dead_marks() const { return *marks_; }

 private:
  Node(world::Env& env, Options options);
  void Receive(world::PeerId from, const std::string& bytes);
  void HandleJoin(world::PeerId from, std::string body, rpc::RpcEndpoint::Reply reply);
  void AddLearnerThenPeer(uint64_t peer, std::string uri, world::Instant deadline, consensus::ConsensusManager::Done done);
  void AnnounceSelf();
  // The URI of `peer` as this peer knows it, best source first: the peer's own announcement (it
  // restarted with a new --uri the metadata does not record yet), the metadata, an answer to this
  // peer's WhoIs (relayed by a third peer, so below the metadata). nullopt if none has one.
  std::optional<std::string> KnownUri(world::PeerId peer) const;
  // Forgets what the metadata has caught up with: announcements it records, relayed answers for
  // peers it knows, both for peers it removed (`removed`, 0 for none).
  void PruneLearnedUris(world::PeerId removed);
  void HandleWhoIs(std::string body, rpc::RpcEndpoint::Reply reply);
  // Asks `ask[next]`, then the ones after it, about `peer` until one knows; answers the inquiry.
  void AskWhoIs(world::PeerId peer, std::vector<world::PeerId> ask, size_t next);
  void AnswerWhoIs(world::PeerId peer, absl::StatusOr<std::string> uri);
  void ProposeMeta(consensuspb::Operation op, std::optional<world::Duration> timeout, api::Callback<bool> done);
  // Answers `done` once every shard of `collection` has an Active replica and this peer's replicas
  // are Active, or at `deadline`.
  void WaitForActiveReplicas(const std::string& collection, world::Instant deadline, api::Callback<bool> done);
  world::Duration TimeoutOr(std::optional<world::Duration> t) const { return t.value_or(options_.default_timeout); }
  // The reader's timeout is per replica and a read may try two in turn: half the request's.
  world::Duration ReadTimeout(std::optional<world::Duration> t) const { return TimeoutOr(t) / 2; }

  world::Env& env_;
  Options options_;
  world::PeerId self_;
  consensus::ConsensusManager consensus_;          // the metadata state machine (Raft applies to it)
  std::unique_ptr<raft::RaftNode> raft_;
  std::unique_ptr<rpc::RpcEndpoint> rpc_;
  std::unique_ptr<collection::LocalShards> shards_;
  std::unique_ptr<replication::ReplicaService> replicas_;
  std::unique_ptr<replication::DeadMarks> marks_;
  std::unique_ptr<replication::PointWriter> writer_;
  std::unique_ptr<replication::PointReader> reader_;
  std::unique_ptr<replication::ShardTransfers> transfers_;
  std::unique_ptr<replication::AntiEntropy> anti_entropy_;  // null with Qdrant's dead-marking
  std::vector<std::function<void(world::PeerId, const std::string&)>> address_listeners_;  // OnAddressHint
  std::map<world::PeerId, std::string> announced_uris_;  // peers' own word (cluster.address), by peer
  std::map<world::PeerId, std::string> relayed_uris_;    // WhoIs answers for peers the metadata lacks
  std::map<world::PeerId, std::vector<api::Callback<std::string>>> who_is_waiting_;  // inquiries under way
  uint64_t next_operation_id_ = 0;                 // UpdateResult.operation_id
  world::TimerId announce_timer_ = 0;              // AnnounceSelf retry
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once destroyed
};

}  // namespace qdsim

#endif  // QDSIM_NODE_NODE_H_
