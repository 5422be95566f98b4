#include "node/node.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/world/log.h"
#include "node/world/status_macros.h"
#include "proto/peer.pb.h"

namespace qdsim {
namespace {

constexpr char kJoinMethod[] = "cluster.join";
constexpr char kAddressMethod[] = "cluster.address";
constexpr char kRecoverMethod[] = "cluster.recover";
constexpr char kWhoIsMethod[] = "cluster.who_is";
constexpr world::Duration kWhoIsAskTimeout = world::Seconds(1);
constexpr world::Duration kRetryEvery = world::Millis(500);

bool Contains(const google::protobuf::RepeatedField<uint64_t>& ids, uint64_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

bool IsMember(const raftpb::ConfState& conf, uint64_t id) {
  return Contains(conf.voters(), id) || Contains(conf.learners(), id);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Node>> Node::Open(world::Env& env, Options options) {
  std::unique_ptr<Node> node(new Node(env, std::move(options)));
  ASSIGN_OR_RETURN(node->raft_, raft::RaftNode::Open(env, node->consensus_, node->options_.raft));
  node->consensus_.Attach(node->raft_.get());
  Node* n = node.get();
  n->rpc_ = std::make_unique<rpc::RpcEndpoint>(env);
  n->shards_ = std::make_unique<collection::LocalShards>(env, n->consensus_, n->options_.cluster_bugs);
  n->replicas_ = std::make_unique<replication::ReplicaService>(n->self_, *n->rpc_, *n->shards_, n->consensus_);
  n->marks_ = std::make_unique<replication::DeadMarks>(env, n->consensus_);
  replication::PointWriter::Config writer = n->options_.writer;
  writer.may_defer_marks = [n] { return n->raft_->conf_state().voters_size() <= 2; };
  n->writer_ = std::make_unique<replication::PointWriter>(env, n->self_, *n->rpc_, n->consensus_, *n->replicas_,
                                                          *n->marks_, writer);
  n->reader_ = std::make_unique<replication::PointReader>(env, n->self_, *n->rpc_, n->consensus_, *n->shards_);
  n->reader_->set_planted_bugs(n->options_.cluster_bugs);
  n->transfers_ = std::make_unique<replication::ShardTransfers>(env, n->self_, *n->rpc_, n->consensus_, *n->shards_,
                                                                *n->replicas_, n->options_.transfer_limits);
  n->transfers_->set_planted_bugs(n->options_.cluster_bugs);
  // Qdrant lets replicas diverge (#4626); the simulator reproduces that with its dead-marking.
  if (!n->options_.writer.qdrant_dead_marking) {
    n->anti_entropy_ =
        std::make_unique<replication::AntiEntropy>(env, n->self_, *n->rpc_, n->consensus_, *n->shards_, *n->marks_);
  }
  n->rpc_->Handle(kAddressMethod, [n](world::PeerId from, std::string body, rpc::RpcEndpoint::Reply reply) {
    clusterpb::AddressHint hint;
    if (!hint.ParseFromString(body) || hint.peer_id() != from || hint.uri().empty()) {
      return reply(absl::InvalidArgumentError("malformed address hint"), "");
    }
    n->announced_uris_[hint.peer_id()] = hint.uri();
    for (const auto& listener : n->address_listeners_) listener(hint.peer_id(), hint.uri());
    reply(absl::OkStatus(), "");
  });
  n->rpc_->Handle(kRecoverMethod, [n](world::PeerId from, std::string, rpc::RpcEndpoint::Reply reply) {
    if (n->raft_->raft().role() != raft::StateRole::kLeader) {
      return reply(absl::UnavailableError("this peer is not the leader"), "");
    }
    n->raft_->SendSnapshotTo(from);  // nothing compacted yet: the log brings `from` up to date
    reply(absl::OkStatus(), "");
  });
  n->consensus_.AddListener([n](const consensuspb::Operation& op, const absl::Status& s) {
    if (s.ok()) n->PruneLearnedUris(op.has_remove_peer() ? op.remove_peer().peer_id() : 0);
  });
  n->consensus_.AddRestoreListener([n] { n->PruneLearnedUris(0); });
  n->rpc_->Handle(kWhoIsMethod, [n](world::PeerId, std::string body, rpc::RpcEndpoint::Reply reply) {
    n->HandleWhoIs(std::move(body), std::move(reply));
  });
  n->rpc_->Handle(kJoinMethod, [n](world::PeerId from, std::string body, rpc::RpcEndpoint::Reply reply) {
    n->HandleJoin(from, std::move(body), std::move(reply));
  });
  env.transport().SetReceiver([n, alive = n->alive_](world::PeerId from, std::string bytes) {
    if (*alive) n->Receive(from, bytes);
  });
  n->AnnounceSelf();
  return node;
}

Node::Node(world::Env& env, Options options)
    : env_(env), options_(std::move(options)), self_(env.transport().Self()), consensus_(env) {}

Node::~Node() {
  *alive_ = false;
  if (announce_timer_ != 0) env_.clock().Cancel(announce_timer_);
  // Parts built on others go first.
  anti_entropy_.reset();
  transfers_.reset();
  reader_.reset();
  writer_.reset();
  marks_.reset();
  replicas_.reset();
  shards_.reset();
  rpc_.reset();
  raft_.reset();
}

void Node::RecoverConsensus(std::optional<world::Duration> timeout, api::Callback<bool> done) {
  const uint64_t leader = raft_->raft().lead();
  if (leader == 0) {
    return done(absl::UnavailableError("Failed to recover: no leader is known to this peer"));
  }
  if (leader == self_) return done(true);  // the leader holds the state everyone recovers from
  rpc_->Call(leader, kRecoverMethod, "", TimeoutOr(timeout), [done = std::move(done)](absl::StatusOr<std::string> r) {
    if (!r.ok()) return done(absl::Status(r.status().code(), absl::StrCat("Failed to recover: ", r.status().message())));
    done(true);
  });
}

void Node::OnAddressHint(std::function<void(world::PeerId, const std::string&)> listener) {
  address_listeners_.push_back(std::move(listener));
}

void Node::OnMetadataChange(std::function<void()> listener) {
  consensus_.AddListener([listener, alive = alive_](const consensuspb::Operation&, const absl::Status&) {
    if (*alive) listener();
  });
  consensus_.AddRestoreListener([listener, alive = alive_] {
    if (*alive) listener();
  });
}

void Node::Receive(world::PeerId from, const std::string& bytes) {
  peerpb::Envelope envelope;
  if (!envelope.ParseFromString(bytes)) return;  // garbage from a peer is dropped
  if (envelope.has_rpc()) {
    rpc_->Receive(from, envelope.rpc());
  } else {
    raft_->ReceiveEnvelope(from, envelope);
  }
}

// ---- Membership -------------------------------------------------------------------------------

void Node::AnnounceSelf() {
  announce_timer_ = 0;
  const consensuspb::Peer* me = consensus_.metadata().FindPeer(self_);
  if (options_.uri.empty()) return;  // the bootstrap peer derived this peer's URI: nothing to announce
  if (me != nullptr && me->uri() == options_.uri) return;  // known, with this address
  auto retry = [this] {
    if (announce_timer_ == 0) announce_timer_ = env_.clock().After(world::Seconds(1), [this] { AnnounceSelf(); });
  };
  if (me != nullptr && !options_.uri.empty()) {
    // Known under an old address: the others cannot reach this peer (not even to let it learn who
    // leads) until they hear the new one, so tell each of them directly too.
    clusterpb::AddressHint hint;
    hint.set_peer_id(self_);
    hint.set_uri(options_.uri);
    for (const auto& p : consensus_.metadata().state().peers()) {
      if (p.id() == self_) continue;
      rpc_->Call(p.id(), kAddressMethod, hint.SerializeAsString(), world::Seconds(1), [](absl::StatusOr<std::string>) {});
    }
  }
  // Only a member announces itself (a joiner is added by its bootstrap peer).
  if (!IsMember(raft_->conf_state(), self_) || raft_->raft().lead() == 0) return retry();
  consensuspb::Operation op;
  op.mutable_add_peer()->set_peer_id(self_);
  op.mutable_add_peer()->set_uri(options_.uri);
  consensus_.Propose(std::move(op), options_.default_timeout, [this, alive = alive_, retry](absl::Status s) {
    if (!*alive) return;
    if (!s.ok()) {
      QDSIM_LOG(env_.logger(), kWarning) << "announcing this peer's URI failed: " << s;
      retry();
    }
  });
}

std::optional<std::string> Node::KnownUri(world::PeerId peer) const {
  if (peer == self_ && !options_.uri.empty()) return options_.uri;
  if (auto it = announced_uris_.find(peer); it != announced_uris_.end()) return it->second;
  const consensuspb::Peer* p = consensus_.metadata().FindPeer(peer);
  if (p != nullptr && !p->uri().empty()) return p->uri();
  if (auto it = relayed_uris_.find(peer); it != relayed_uris_.end()) return it->second;
  return std::nullopt;
}

void Node::PruneLearnedUris(world::PeerId removed) {
  announced_uris_.erase(removed);
  relayed_uris_.erase(removed);
  const consensus::ClusterStateMachine& metadata = consensus_.metadata();
  std::erase_if(announced_uris_, [&](const auto& entry) {
    const consensuspb::Peer* p = metadata.FindPeer(entry.first);
    return p != nullptr && p->uri() == entry.second;
  });
  std::erase_if(relayed_uris_, [&](const auto& entry) {
    const consensuspb::Peer* p = metadata.FindPeer(entry.first);
    return p != nullptr && !p->uri().empty();
  });
}

void Node::HandleWhoIs(std::string body, rpc::RpcEndpoint::Reply reply) {
  clusterpb::WhoIsRequest request;
  if (!request.ParseFromString(body) || request.peer_id() == 0) {
    return reply(absl::InvalidArgumentError("malformed who-is request"), "");
  }
  const std::optional<std::string> uri = KnownUri(request.peer_id());
  if (!uri) return reply(absl::NotFoundError(absl::StrCat("peer ", request.peer_id(), " is not known here")), "");
  clusterpb::WhoIsResponse response;
  response.set_uri(*uri);
  reply(absl::OkStatus(), response.SerializeAsString());
}

void Node::WhoIs(world::PeerId peer, api::Callback<std::string> done) {
  if (std::optional<std::string> uri = KnownUri(peer)) {
    env_.clock().After(world::Duration::zero(), [alive = alive_, uri = *uri, done = std::move(done)] {
      if (*alive) done(uri);
    });
    return;
  }
  std::vector<api::Callback<std::string>>& waiting = who_is_waiting_[peer];
  waiting.push_back(std::move(done));
  if (waiting.size() > 1) return;  // an inquiry is under way: this one shares its answer
  std::vector<world::PeerId> ask;
  for (const auto& p : consensus_.metadata().state().peers()) {
    if (p.id() != self_ && p.id() != peer) ask.push_back(p.id());
  }
  if (ask.empty()) {
    env_.clock().After(world::Duration::zero(), [this, alive = alive_, peer] {
      if (*alive) AnswerWhoIs(peer, absl::FailedPreconditionError("WhoIs: this peer's metadata names no peer to ask"));
    });
    return;
  }
  // The leader first: its metadata is the most recent.
  const world::PeerId leader = raft_->raft().lead();
  std::stable_partition(ask.begin(), ask.end(), [leader](world::PeerId p) { return p == leader; });
  QDSIM_LOG(env_.logger(), kInfo) << "asking " << ask.size() << " peers for the address of peer " << peer;
  env_.clock().After(world::Duration::zero(), [this, alive = alive_, peer, ask = std::move(ask)]() mutable {
    if (*alive) AskWhoIs(peer, std::move(ask), 0);
  });
}

void Node::AskWhoIs(world::PeerId peer, std::vector<world::PeerId> ask, size_t next) {
  if (next >= ask.size()) {
    return AnswerWhoIs(peer, absl::NotFoundError(absl::StrCat("WhoIs: no peer this one can reach knows the address of peer ", peer)));
  }
  clusterpb::WhoIsRequest request;
  request.set_peer_id(peer);
  const world::PeerId asked = ask[next];
  rpc_->Call(
      asked, kWhoIsMethod, request.SerializeAsString(), kWhoIsAskTimeout,
      [this, alive = alive_, peer, asked, ask = std::move(ask), next](absl::StatusOr<std::string> r) mutable {
        if (!*alive) return;
        clusterpb::WhoIsResponse response;
        if (r.ok() && response.ParseFromString(*r) && !response.uri().empty()) {
          QDSIM_LOG(env_.logger(), kInfo) << "peer " << asked << " says peer " << peer << " is at " << response.uri();
          // Kept to answer others only while the metadata does not know the peer (it may have
          // caught up during the asking; then its word is the better one).
          const consensuspb::Peer* p = consensus_.metadata().FindPeer(peer);
          if (p != nullptr && !p->uri().empty()) return AnswerWhoIs(peer, p->uri());
          relayed_uris_[peer] = response.uri();
          return AnswerWhoIs(peer, response.uri());
        }
        AskWhoIs(peer, std::move(ask), next + 1);
      },
      rpc::RpcEndpoint::kResendEvery);
}

void Node::AnswerWhoIs(world::PeerId peer, absl::StatusOr<std::string> uri) {
  auto it = who_is_waiting_.find(peer);
  if (it == who_is_waiting_.end()) return;
  std::vector<api::Callback<std::string>> waiting = std::move(it->second);
  who_is_waiting_.erase(it);
  for (auto& done : waiting) done(uri);
}

void Node::Join(world::PeerId bootstrap, world::Duration timeout, api::Callback<clusterpb::JoinResponse> done) {
  const world::Instant deadline = env_.clock().Now() + timeout;
  clusterpb::JoinRequest request;
  request.set_peer_id(self_);
  request.set_uri(options_.uri);
  request.set_p2p_port(options_.p2p_port);
  auto attempt = std::make_shared<std::function<void()>>();
  *attempt = [this, alive = alive_, bootstrap, deadline, request, done, attempt] {
    if (!*alive) return;
    const world::Duration left = deadline - env_.clock().Now();
    rpc_->Call(bootstrap, kJoinMethod, request.SerializeAsString(), std::min(left, world::Seconds(5)),
               [this, alive, deadline, done, attempt](absl::StatusOr<std::string> r) {
                 if (!*alive) return;
                 clusterpb::JoinResponse response;
                 if (r.ok() && response.ParseFromString(*r)) {
                   *attempt = nullptr;  // break the cycle
                   return done(response);
                 }
                 const bool refused = !r.ok() && (absl::IsAlreadyExists(r.status()) || absl::IsInvalidArgument(r.status()));
                 if (refused || env_.clock().Now() + kRetryEvery >= deadline) {
                   *attempt = nullptr;  // break the cycle
                   return done(absl::DeadlineExceededError(absl::StrCat(
                       "Failed to join the cluster: ", r.ok() ? "malformed answer" : std::string(r.status().message()))));
                 }
                 env_.clock().After(kRetryEvery, [attempt] {
                   if (*attempt) (*attempt)();
                 });
               });
  };
  (*attempt)();
}

void Node::HandleJoin(world::PeerId from, std::string body, rpc::RpcEndpoint::Reply reply) {
  clusterpb::JoinRequest request;
  if (!request.ParseFromString(body) || request.peer_id() == 0 || request.peer_id() != from) {
    return reply(absl::InvalidArgumentError("malformed join request"), "");
  }
  if (request.uri().empty()) {
    // Derived from where its messages come from and the port it listens on (SPEC.md §2).
    const std::optional<std::string> host = options_.peer_host ? options_.peer_host(from) : std::nullopt;
    if (!host || request.p2p_port() == 0 || request.p2p_port() > 65535) {
      return reply(absl::InvalidArgumentError("a joining peer must give its uri (or its p2p port, from a known address)"),
                   "");
    }
    const bool ipv6 = host->find(':') != std::string::npos;
    request.set_uri(absl::StrCat("http://", ipv6 ? "[" : "", *host, ipv6 ? "]" : "", ":", request.p2p_port(), "/"));
  }
  for (const auto& p : consensus_.metadata().state().peers()) {
    if (p.uri() == request.uri() && p.id() != request.peer_id() && consensus_.metadata().ReplicaCount(p.id()) > 0) {
      return reply(absl::AlreadyExistsError(absl::StrCat("Peer with URI ", request.uri(), " already exists as peer ",
                                                         p.id(), ", which holds shards")),
                   "");
    }
  }
  const world::Instant deadline = env_.clock().Now() + options_.default_timeout;
  AddLearnerThenPeer(request.peer_id(), request.uri(), deadline, [this, alive = alive_, reply](absl::Status s) {
    if (!*alive) return;
    if (!s.ok()) return reply(s, "");
    clusterpb::JoinResponse response;
    for (const auto& p : consensus_.metadata().state().peers()) *response.add_peers() = p;
    response.set_first_peer_id(consensus_.metadata().state().first_peer_id());
    reply(absl::OkStatus(), response.SerializeAsString());
  });
}

void Node::AddLearnerThenPeer(uint64_t peer, std::string uri, world::Instant deadline,
                              consensus::ConsensusManager::Done done) {
  if (IsMember(raft_->conf_state(), peer)) {
    consensuspb::Operation op;
    op.mutable_add_peer()->set_peer_id(peer);
    op.mutable_add_peer()->set_uri(uri);
    const world::Duration left = std::max(deadline - env_.clock().Now(), world::Millis(1));
    return consensus_.Propose(std::move(op), left, std::move(done));
  }
  if (env_.clock().Now() >= deadline) {
    return done(absl::DeadlineExceededError(
        absl::StrCat("Waiting for consensus operation commit failed. Timeout set at: ",
                     world::ToSeconds(options_.default_timeout), " seconds")));
  }
  raftpb::ConfChange cc;
  cc.set_type(raftpb::CONF_CHANGE_ADD_LEARNER_NODE);
  cc.set_node_id(peer);
  cc.set_context(uri);
  (void)raft_->ProposeConfChange(cc);  // dropped without a leader or with a change pending: retried
  env_.clock().After(world::Millis(200), [this, alive = alive_, peer, uri = std::move(uri), deadline,
                                          done = std::move(done)]() mutable {
    if (*alive) AddLearnerThenPeer(peer, std::move(uri), deadline, std::move(done));
  });
}

void Node::RemovePeer(const api::RemovePeer& request, api::Callback<bool> done) {
  consensuspb::Operation op;
  op.mutable_remove_peer()->set_peer_id(request.peer_id);
  op.mutable_remove_peer()->set_force(request.force);
  const uint64_t peer = request.peer_id;
  ProposeMeta(std::move(op), request.timeout, [this, alive = alive_, peer, done](absl::StatusOr<bool> r) {
    if (*alive && r.ok()) {
      // Then out of Raft (best effort; a later removal retries it).
      raftpb::ConfChange cc;
      cc.set_type(raftpb::CONF_CHANGE_REMOVE_NODE);
      cc.set_node_id(peer);
      (void)raft_->ProposeConfChange(cc);
    }
    done(r);
  });
}

api::ClusterStatus Node::ClusterStatus() const {
  api::ClusterStatus s;
  s.peer_id = self_;
  for (const auto& p : consensus_.metadata().state().peers()) s.peers[p.id()] = p.uri();
  const raft::Raft& r = raft_->raft();
  s.term = r.term();
  s.commit = r.hard_state().commit();
  s.pending_operations = consensus_.pending_operations();
  if (r.lead() != 0) s.leader = r.lead();
  switch (r.role()) {
    case raft::StateRole::kLeader: s.role = "Leader"; break;
    case raft::StateRole::kCandidate: s.role = "Candidate"; break;
    case raft::StateRole::kPreCandidate: s.role = "PreCandidate"; break;
    default: s.role = "Follower"; break;
  }
  s.is_voter = Contains(raft_->conf_state().voters(), self_);
  return s;
}

bool Node::Ready() const {
  if (raft_->raft().lead() == 0) return false;
  // This peer is in the metadata (a first peer records itself once it leads; a joiner is added by
  // its bootstrap peer): until then nothing can be placed on it.
  const auto& peers = consensus_.metadata().state().peers();
  if (std::none_of(peers.begin(), peers.end(), [&](const auto& p) { return p.id() == self_; })) return false;
  for (const auto& c : consensus_.metadata().state().collections()) {
    for (const auto& shard : c.shards()) {
      for (const auto& r : shard.replicas()) {
        if (r.peer_id() == self_ && shards_->Find(c.name(), shard.shard_id(), r.generation()) == nullptr) return false;
      }
    }
  }
  return true;
}

// ---- Collections ------------------------------------------------------------------------------

void Node::ProposeMeta(consensuspb::Operation op, std::optional<world::Duration> timeout, api::Callback<bool> done) {
  consensus_.Propose(std::move(op), TimeoutOr(timeout), [done = std::move(done)](absl::Status s) {
    if (!s.ok()) return done(s);
    done(true);
  });
}

void Node::CreateCollection(const api::CreateCollection& request, api::Callback<bool> done) {
  consensuspb::Operation op;
  auto* create = op.mutable_create_collection();
  create->set_name(request.name);
  *create->mutable_params() = request.params;
  auto* p = create->mutable_params();
  if (p->replication_factor() == 0) p->set_replication_factor(1);
  if (p->write_consistency_factor() == 0) p->set_write_consistency_factor(1);
  // As in Qdrant, the answer waits (within the timeout) for the new replicas to become Active, so
  // that a client's first write right after it finds them ready.
  // The wait ends well within the request's timeout: the collection exists either way.
  const world::Instant deadline = env_.clock().Now() + TimeoutOr(request.timeout) * 3 / 4;
  ProposeMeta(std::move(op), request.timeout,
              [this, alive = alive_, name = request.name, deadline, done = std::move(done)](absl::StatusOr<bool> r) {
                if (!*alive) return;
                if (!r.ok()) return done(r);
                WaitForActiveReplicas(name, deadline, std::move(done));
              });
}

void Node::WaitForActiveReplicas(const std::string& collection, world::Instant deadline, api::Callback<bool> done) {
  // Ready: every shard has an Active replica (a write has somewhere to land) and this peer's own
  // replicas are Active. A replica on a peer that is down stays Initializing and is not waited for.
  bool ready = true;
  if (const consensuspb::CollectionState* c = consensus_.metadata().FindCollection(collection)) {
    for (const auto& shard : c->shards()) {
      bool any_active = false;
      for (const auto& r : shard.replicas()) {
        any_active |= r.state() == consensuspb::ACTIVE;
        if (r.peer_id() == self_) ready &= r.state() == consensuspb::ACTIVE;
      }
      ready &= any_active;
    }
  }
  if (ready || env_.clock().Now() >= deadline) return done(true);
  env_.clock().After(world::Millis(20), [this, alive = alive_, collection, deadline, done = std::move(done)] {
    if (*alive) WaitForActiveReplicas(collection, deadline, std::move(done));
  });
}

void Node::UpdateCollection(const api::UpdateCollection& request, api::Callback<bool> done) {
  consensuspb::Operation op;
  auto* update = op.mutable_update_collection();
  update->set_name(request.name);
  if (request.replication_factor) update->set_replication_factor(*request.replication_factor);
  if (request.write_consistency_factor) update->set_write_consistency_factor(*request.write_consistency_factor);
  ProposeMeta(std::move(op), request.timeout, std::move(done));
}

void Node::DeleteCollection(const api::DeleteCollection& request, api::Callback<bool> done) {
  consensuspb::Operation op;
  op.mutable_delete_collection()->set_name(request.name);
  ProposeMeta(std::move(op), request.timeout, std::move(done));
}

std::vector<std::string> Node::ListCollections() const {
  std::vector<std::string> names;
  for (const auto& c : consensus_.metadata().state().collections()) names.push_back(c.name());
  return names;
}

bool Node::CollectionExists(const std::string& name) const {
  return consensus_.metadata().FindCollection(name) != nullptr;
}

void Node::GetCollection(const std::string& name, api::Callback<api::CollectionInfo> done) {
  const consensuspb::CollectionState* c = consensus_.metadata().FindCollection(name);
  if (c == nullptr) return done(consensus::CollectionNotFound(name));
  api::CollectionInfo info;
  info.params = c->params();
  for (const auto& shard : c->shards()) {
    for (const auto& r : shard.replicas()) {
      if (r.state() != consensuspb::ACTIVE) info.status = "yellow";
      if (r.peer_id() == self_) ++info.segments_count;
    }
  }
  reader_->Count(c->name(), std::nullopt, replication::ReadConsistency{}, options_.default_timeout,
                 [info, done = std::move(done)](absl::StatusOr<uint64_t> count) mutable {
                   if (count.ok()) info.points_count = *count;  // unknown while shards are unavailable
                   done(info);
                 });
}

void Node::UpdateAliases(const std::vector<api::AliasAction>& actions, std::optional<world::Duration> timeout,
                         api::Callback<bool> done) {
  if (actions.empty()) return done(true);
  consensuspb::Operation op;
  const api::AliasAction& a = actions.front();
  if (a.kind == api::AliasAction::Kind::kCreate) {
    op.mutable_create_alias()->set_alias(a.alias);
    op.mutable_create_alias()->set_collection(a.collection);
  } else {
    op.mutable_delete_alias()->set_alias(a.alias);
  }
  std::vector<api::AliasAction> rest(actions.begin() + 1, actions.end());
  ProposeMeta(std::move(op), timeout, [this, alive = alive_, rest, timeout, done](absl::StatusOr<bool> r) {
    if (!*alive) return;
    if (!r.ok()) return done(r);
    UpdateAliases(rest, timeout, done);
  });
}

std::vector<consensuspb::Alias> Node::ListAliases() const {
  const auto& aliases = consensus_.metadata().state().aliases();
  return {aliases.begin(), aliases.end()};
}

absl::StatusOr<api::CollectionClusterInfo> Node::CollectionCluster(const std::string& name) const {
  const consensuspb::CollectionState* c = consensus_.metadata().FindCollection(name);
  if (c == nullptr) return consensus::CollectionNotFound(name);
  api::CollectionClusterInfo info;
  info.peer_id = self_;
  info.shard_count = static_cast<uint32_t>(c->shards_size());
  for (const auto& shard : c->shards()) {
    for (const auto& r : shard.replicas()) {
      const std::string state = api::ReplicaStateName(r.state());
      if (r.peer_id() == self_) {
        const shard::ShardStore* store = shards_->Find(c->name(), shard.shard_id(), r.generation());
        info.local_shards.push_back({shard.shard_id(), store ? store->points_count() : 0, state});
      } else {
        info.remote_shards.push_back({shard.shard_id(), r.peer_id(), state});
      }
    }
  }
  info.shard_transfers.assign(c->transfers().begin(), c->transfers().end());
  return info;
}

void Node::UpdateCollectionCluster(const api::CollectionClusterUpdate& request, api::Callback<bool> done) {
  const consensuspb::CollectionState* c = consensus_.metadata().FindCollection(request.collection);
  if (c == nullptr) return done(consensus::CollectionNotFound(request.collection));
  consensuspb::Operation op;
  absl::Status invalid;
  auto transfer = [&](const api::MoveShard& m, bool sync) {
    if (m.from_peer_id == m.to_peer_id) {
      invalid = absl::InvalidArgumentError("Bad request: from_peer_id and to_peer_id must differ");
    } else if (m.method != "stream_records") {
      invalid = absl::InvalidArgumentError(
          absl::StrCat("Bad request: shard transfer method `", m.method, "` is not supported; use stream_records"));
    }
    auto* t = op.mutable_start_transfer();
    t->set_collection(c->name());
    t->mutable_transfer()->set_shard_id(m.shard_id);
    t->mutable_transfer()->set_from(m.from_peer_id);
    t->mutable_transfer()->set_to(m.to_peer_id);
    t->mutable_transfer()->set_sync(sync);
    t->mutable_transfer()->set_method(m.method);
  };
  if (const auto* m = std::get_if<api::MoveShard>(&request.operation)) transfer(*m, false);
  if (const auto* m = std::get_if<api::ReplicateShard>(&request.operation)) transfer(*m, true);
  if (const auto* a = std::get_if<api::AbortTransfer>(&request.operation)) {
    auto* abort = op.mutable_abort_transfer();
    abort->set_collection(c->name());
    abort->set_shard_id(a->shard_id);
    abort->set_from(a->from_peer_id);
    abort->set_to(a->to_peer_id);
    abort->set_reason("aborted by the user");
  }
  if (const auto* d = std::get_if<api::DropReplica>(&request.operation)) {
    auto* drop = op.mutable_drop_replica();
    drop->set_collection(c->name());
    drop->set_shard_id(d->shard_id);
    drop->set_peer_id(d->peer_id);
  }
  if (!invalid.ok()) return done(invalid);
  ProposeMeta(std::move(op), request.timeout, std::move(done));
}

// ---- Points -----------------------------------------------------------------------------------

void Node::WritePoints(const api::PointWrite& request, api::Callback<api::UpdateResult> done) {
  replication::WriteOptions options;
  options.wait = request.wait;
  options.ordering = request.ordering;
  options.timeout = TimeoutOr(request.timeout);
  const uint64_t operation_id = next_operation_id_++;
  const bool wait = request.wait;
  writer_->Write(request.collection, request.op, options, [operation_id, wait, done = std::move(done)](absl::Status s) {
    if (!s.ok()) return done(s);
    api::UpdateResult result;
    result.operation_id = operation_id;
    result.status = wait ? api::UpdateResult::Status::kCompleted : api::UpdateResult::Status::kAcknowledged;
    done(result);
  });
}

void Node::Retrieve(const api::Retrieve& request, api::Callback<std::vector<shard::PointRecord>> done) {
  reader_->Retrieve(request.collection, request.ids, request.with_payload, request.with_vector,
                    request.read.consistency, ReadTimeout(request.read.timeout), std::move(done));
}

void Node::Scroll(const api::Scroll& request, api::Callback<shard::ScrollPage> done) {
  reader_->Scroll(request.collection, request.request, request.read.consistency, ReadTimeout(request.read.timeout),
                  std::move(done));
}

void Node::Count(const api::Count& request, api::Callback<uint64_t> done) {
  reader_->Count(request.collection, request.filter, request.read.consistency, ReadTimeout(request.read.timeout),
                 std::move(done));
}

void Node::Search(const api::Search& request, api::Callback<std::vector<shard::ScoredPoint>> done) {
  reader_->Search(request.collection, request.request, request.read.consistency, ReadTimeout(request.read.timeout),
                  std::move(done));
}

}  // namespace qdsim
