#include "node/consensus/cluster_state.h"

#include <algorithm>
#include <map>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "node/world/status_macros.h"
#include "node/world/strings.h"

namespace qdsim::consensus {
namespace {

using consensuspb::ReplicaState;
using world::Sv;

// Inserts `item` into a repeated field kept sorted by `key`.
template <typename Repeated, typename T, typename Key>
void InsertSorted(Repeated* field, T item, Key key) {
  auto* added = field->Add();
  *added = std::move(item);
  for (int i = field->size() - 1; i > 0 && key(field->Get(i)) < key(field->Get(i - 1)); --i) {
    field->SwapElements(i, i - 1);
  }
}

consensuspb::Replica* FindReplica(consensuspb::ShardInfo* shard, uint64_t peer) {
  for (auto& r : *shard->mutable_replicas()) {
    if (r.peer_id() == peer) return &r;
  }
  return nullptr;
}

int CountActive(const consensuspb::ShardInfo& shard) {
  return static_cast<int>(std::count_if(shard.replicas().begin(), shard.replicas().end(), [](const auto& r) {
    return r.state() == consensuspb::ACTIVE;
  }));
}

void RemoveReplica(consensuspb::ShardInfo* shard, uint64_t peer) {
  auto* rs = shard->mutable_replicas();
  for (int i = 0; i < rs->size(); ++i) {
    if (rs->Get(i).peer_id() == peer) {
      rs->DeleteSubrange(i, 1);
      return;
    }
  }
}

// Ends a transfer already taken out of the state the way an abort does: a target that had no
// replica before loses the one the transfer created; an existing one is Dead (it still needs a
// transfer).
void UndoTarget(consensuspb::ShardInfo* shard, const consensuspb::ShardTransfer& t) {
  if (t.new_replica()) {
    RemoveReplica(shard, t.to());
  } else if (consensuspb::Replica* target = FindReplica(shard, t.to())) {
    target->set_state(consensuspb::DEAD);
  }
}

// Aborts every transfer of `shard` whose source or target is `peer` (its replica is going away).
void AbortTransfersInvolving(consensuspb::CollectionState* c, consensuspb::ShardInfo* shard, uint64_t peer) {
  auto* ts = c->mutable_transfers();
  for (int i = ts->size() - 1; i >= 0; --i) {
    const consensuspb::ShardTransfer& t = ts->Get(i);
    if (t.shard_id() != shard->shard_id() || (t.from() != peer && t.to() != peer)) continue;
    const consensuspb::ShardTransfer ended = t;
    ts->DeleteSubrange(i, 1);
    UndoTarget(shard, ended);
  }
}

absl::Status ValidateParams(const consensuspb::CollectionParams& p) {
  if (p.vectors().empty() && p.sparse_vectors().empty()) {
    return absl::InvalidArgumentError("Validation error: a collection needs at least one vector");
  }
  for (const auto& v : p.vectors()) {
    if (v.size() == 0) {
      return absl::InvalidArgumentError(absl::StrCat("Validation error: vectors", v.name().empty() ? "" : ".",
                                                     v.name(), ".size: value 0 invalid, must be 1 or larger"));
    }
    if (v.size() > 65536) {
      return absl::InvalidArgumentError("Validation error: vector size must be at most 65536");
    }
    if (v.distance() == consensuspb::DISTANCE_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat("Validation error: vector '", v.name(), "' needs a distance"));
    }
  }
  if (p.replication_factor() == 0) {
    return absl::InvalidArgumentError("Validation error: replication_factor: value 0 invalid, must be 1 or larger");
  }
  if (p.write_consistency_factor() == 0) {
    return absl::InvalidArgumentError(
        "Validation error: write_consistency_factor: value 0 invalid, must be 1 or larger");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CollectionNotFound(std::string_view name) {
  return absl::NotFoundError(absl::StrCat("Not found: Collection `", Sv(name), "` doesn't exist!"));
}

absl::Status ClusterStateMachine::Apply(const consensuspb::Operation& op) {
  using O = consensuspb::Operation;
  switch (op.op_case()) {
    case O::kNoop: return absl::OkStatus();
    case O::kAddPeer: return AddPeer(op.add_peer());
    case O::kRemovePeer: return RemovePeer(op.remove_peer());
    case O::kUpdatePeerUri: return UpdatePeerUri(op.update_peer_uri());
    case O::kCreateCollection: return CreateCollection(op.create_collection());
    case O::kUpdateCollection: return UpdateCollection(op.update_collection());
    case O::kDeleteCollection: return DeleteCollection(op.delete_collection());
    case O::kSetReplicaState: return SetReplicaState(op.set_replica_state());
    case O::kStartTransfer: return StartTransfer(op.start_transfer());
    case O::kFinishTransfer: return FinishTransfer(op.finish_transfer());
    case O::kAbortTransfer: return AbortTransfer(op.abort_transfer());
    case O::kDropReplica: return DropReplica(op.drop_replica());
    case O::kCreateAlias: return CreateAlias(op.create_alias());
    case O::kDeleteAlias: return DeleteAlias(op.delete_alias());
    case O::OP_NOT_SET: break;
  }
  return absl::InvalidArgumentError("empty consensus operation");
}

std::string ClusterStateMachine::Snapshot() const {
  std::string out;
  // Repeated fields only (no maps), kept sorted: the serialization is deterministic.
  state_.SerializeToString(&out);
  return out;
}

absl::Status ClusterStateMachine::Restore(std::string_view image) {
  consensuspb::ClusterState s;
  if (!s.ParseFromArray(image.data(), static_cast<int>(image.size()))) {
    return absl::DataLossError("cluster state snapshot does not parse");
  }
  state_ = std::move(s);
  return absl::OkStatus();
}

const consensuspb::CollectionState* ClusterStateMachine::FindCollection(std::string_view name) const {
  std::string_view target = name;
  for (const auto& a : state_.aliases()) {
    if (a.alias() == name) target = a.collection();
  }
  for (const auto& c : state_.collections()) {
    if (c.name() == target) return &c;
  }
  return nullptr;
}

consensuspb::CollectionState* ClusterStateMachine::MutableCollection(std::string_view name) {
  return const_cast<consensuspb::CollectionState*>(FindCollection(name));
}

const consensuspb::Peer* ClusterStateMachine::FindPeer(uint64_t id) const {
  for (const auto& p : state_.peers()) {
    if (p.id() == id) return &p;
  }
  return nullptr;
}

uint32_t ClusterStateMachine::ReplicaCount(uint64_t peer_id) const {
  uint32_t n = 0;
  for (const auto& c : state_.collections()) {
    for (const auto& s : c.shards()) {
      for (const auto& r : s.replicas()) n += r.peer_id() == peer_id;
    }
  }
  return n;
}

absl::StatusOr<consensuspb::ShardInfo*> ClusterStateMachine::MutableShard(std::string_view collection,
                                                                          uint32_t shard_id) {
  consensuspb::CollectionState* c = MutableCollection(collection);
  if (c == nullptr) return CollectionNotFound(collection);
  for (auto& s : *c->mutable_shards()) {
    if (s.shard_id() == shard_id) return &s;
  }
  return absl::NotFoundError(absl::StrCat("Not found: Shard ", shard_id, " of collection `", Sv(collection),
                                          "` doesn't exist!"));
}

std::vector<consensuspb::ShardInfo> ClusterStateMachine::Place(const consensuspb::ClusterState& state,
                                                               uint32_t shard_number,
                                                               uint32_t replication_factor) {
  std::map<uint64_t, uint32_t> load;  // peer -> replicas held (ordered: deterministic)
  for (const auto& p : state.peers()) load[p.id()] = 0;
  for (const auto& c : state.collections()) {
    for (const auto& s : c.shards()) {
      for (const auto& r : s.replicas()) {
        if (load.contains(r.peer_id())) ++load[r.peer_id()];
      }
    }
  }
  const uint32_t copies = std::min<uint32_t>(replication_factor, static_cast<uint32_t>(load.size()));
  std::vector<consensuspb::ShardInfo> shards;
  for (uint32_t id = 0; id < shard_number; ++id) {
    std::vector<std::pair<uint32_t, uint64_t>> order;  // (load, peer): least loaded, then lowest id
    for (const auto& [peer, n] : load) order.emplace_back(n, peer);
    std::sort(order.begin(), order.end());
    consensuspb::ShardInfo shard;
    shard.set_shard_id(id);
    std::vector<uint64_t> chosen;
    for (uint32_t k = 0; k < copies; ++k) chosen.push_back(order[k].second);
    std::sort(chosen.begin(), chosen.end());
    for (uint64_t peer : chosen) {
      auto* r = shard.add_replicas();
      r->set_peer_id(peer);
      r->set_state(consensuspb::INITIALIZING);
      ++load[peer];
    }
    shards.push_back(std::move(shard));
  }
  return shards;
}

uint64_t ClusterStateMachine::NextGeneration() {
  const uint64_t g = state_.next_generation() + 1;
  state_.set_next_generation(g);
  return g;
}

absl::Status ClusterStateMachine::AddPeer(const consensuspb::AddPeer& op) {
  if (op.peer_id() == 0) return absl::InvalidArgumentError("peer id 0 is reserved");
  for (auto& p : *state_.mutable_peers()) {
    if (p.id() == op.peer_id()) {
      p.set_uri(op.uri());  // a known peer re-announcing itself
      return absl::OkStatus();
    }
  }
  // A URI already owned by another peer: refuse if that peer holds shards, else replace it.
  for (const auto& p : state_.peers()) {
    if (p.uri() != op.uri() || op.uri().empty()) continue;
    if (ReplicaCount(p.id()) > 0) {
      return absl::AlreadyExistsError(absl::StrCat("Peer with URI ", op.uri(), " already exists as peer ",
                                                   p.id(), ", which holds shards"));
    }
    consensuspb::RemovePeer remove;
    remove.set_peer_id(p.id());
    RETURN_IF_ERROR(RemovePeer(remove));
    break;
  }
  consensuspb::Peer peer;
  peer.set_id(op.peer_id());
  peer.set_uri(op.uri());
  InsertSorted(state_.mutable_peers(), std::move(peer), [](const consensuspb::Peer& p) { return p.id(); });
  if (state_.first_peer_id() == 0) state_.set_first_peer_id(op.peer_id());
  return absl::OkStatus();
}

absl::Status ClusterStateMachine::RemovePeer(const consensuspb::RemovePeer& op) {
  if (FindPeer(op.peer_id()) == nullptr) {
    return absl::NotFoundError(absl::StrCat("Not found: Peer ", op.peer_id(), " doesn't exist"));
  }
  if (!op.force() && ReplicaCount(op.peer_id()) > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("Cannot remove peer ", op.peer_id(), " as there are shards on it"));
  }
  for (auto& c : *state_.mutable_collections()) {
    for (auto& s : *c.mutable_shards()) {
      AbortTransfersInvolving(&c, &s, op.peer_id());  // a target it was feeding is undone
      RemoveReplica(&s, op.peer_id());
    }
  }
  auto* peers = state_.mutable_peers();
  for (int i = 0; i < peers->size(); ++i) {
    if (peers->Get(i).id() == op.peer_id()) peers->DeleteSubrange(i, 1);
  }
  return absl::OkStatus();
}

absl::Status ClusterStateMachine::UpdatePeerUri(const consensuspb::UpdatePeerUri& op) {
  for (auto& p : *state_.mutable_peers()) {
    if (p.id() == op.peer_id()) {
      p.set_uri(op.uri());
      return absl::OkStatus();
    }
  }
  return absl::NotFoundError(absl::StrCat("Not found: Peer ", op.peer_id(), " doesn't exist"));
}

absl::Status ClusterStateMachine::CreateCollection(const consensuspb::CreateCollection& op) {
  if (op.name().empty() || op.name().size() > 255 || op.name().find_first_of(std::string("/\\\0", 3)) != std::string::npos) {
    return absl::InvalidArgumentError(
        "Validation error: collection name must be 1-255 characters without '/', '\\' or NUL");
  }
  if (FindCollection(op.name()) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("Collection `", op.name(), "` already exists!"));
  }
  RETURN_IF_ERROR(ValidateParams(op.params()));
  if (state_.peers().empty()) return absl::FailedPreconditionError("no peers to place shards on");
  consensuspb::CollectionState c;
  c.set_name(op.name());
  *c.mutable_params() = op.params();
  if (c.params().shard_number() == 0) c.mutable_params()->set_shard_number(state_.peers_size());
  for (auto& shard : Place(state_, c.params().shard_number(), c.params().replication_factor())) {
    for (auto& r : *shard.mutable_replicas()) r.set_generation(NextGeneration());
    *c.add_shards() = std::move(shard);
  }
  InsertSorted(state_.mutable_collections(), std::move(c),
               [](const consensuspb::CollectionState& x) { return x.name(); });
  return absl::OkStatus();
}

absl::Status ClusterStateMachine::UpdateCollection(const consensuspb::UpdateCollection& op) {
  consensuspb::CollectionState* c = MutableCollection(op.name());
  if (c == nullptr) return CollectionNotFound(op.name());
  consensuspb::CollectionParams p = c->params();
  if (op.has_replication_factor()) p.set_replication_factor(op.replication_factor());
  if (op.has_write_consistency_factor()) p.set_write_consistency_factor(op.write_consistency_factor());
  RETURN_IF_ERROR(ValidateParams(p));
  *c->mutable_params() = std::move(p);
  return absl::OkStatus();
}

absl::Status ClusterStateMachine::DeleteCollection(const consensuspb::DeleteCollection& op) {
  auto* cs = state_.mutable_collections();
  for (int i = 0; i < cs->size(); ++i) {
    if (cs->Get(i).name() != op.name()) continue;
    cs->DeleteSubrange(i, 1);
    auto* aliases = state_.mutable_aliases();
    for (int j = aliases->size() - 1; j >= 0; --j) {
      if (aliases->Get(j).collection() == op.name()) aliases->DeleteSubrange(j, 1);
    }
    return absl::OkStatus();
  }
  return CollectionNotFound(op.name());
}

absl::Status ClusterStateMachine::SetReplicaState(const consensuspb::SetReplicaState& op) {
  ASSIGN_OR_RETURN(consensuspb::ShardInfo * shard, MutableShard(op.collection(), op.shard_id()));
  consensuspb::Replica* r = FindReplica(shard, op.peer_id());
  if (r == nullptr) {
    return absl::NotFoundError(absl::StrCat("Not found: peer ", op.peer_id(), " holds no replica of shard ",
                                            op.shard_id()));
  }
  if (op.has_from_state() && r->state() != op.from_state()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "replica of shard ", op.shard_id(), " on peer ", op.peer_id(), " is ",
        consensuspb::ReplicaState_Name(r->state()), ", not ", consensuspb::ReplicaState_Name(op.from_state())));
  }
  if (op.has_from_generation() && r->generation() != op.from_generation()) {
    return absl::FailedPreconditionError(absl::StrCat("replica of shard ", op.shard_id(), " on peer ",
                                                      op.peer_id(), " is generation ", r->generation(), ", not ",
                                                      op.from_generation()));
  }
  if (!op.witnesses().empty()) {
    bool witnessed = false;
    for (const auto& w : op.witnesses()) {
      const consensuspb::Replica* now = FindReplica(shard, w.peer_id());
      witnessed |= now != nullptr && now->state() == consensuspb::ACTIVE && now->generation() == w.generation();
    }
    if (!witnessed) {
      return absl::FailedPreconditionError(absl::StrCat("no replica that took the write is still Active in shard ",
                                                        op.shard_id()));
    }
  }
  if (!op.also_dead().empty()) return MarkDeadTogether(shard, op);
  if (op.state() == consensuspb::DEAD && r->state() == consensuspb::ACTIVE && CountActive(*shard) == 1) {
    return absl::FailedPreconditionError(absl::StrCat("refusing to mark the last Active replica of shard ",
                                                      op.shard_id(), " dead"));
  }
  if (op.state() == consensuspb::DEAD && CountActive(*shard) == 0) {
    return absl::FailedPreconditionError(absl::StrCat("refusing to mark a replica of shard ", op.shard_id(),
                                                      " dead: the shard has no Active replica to recover it from"));
  }
  r->set_state(op.state());
  EndTransfersBrokenBy(op);
  return absl::OkStatus();
}

absl::Status ClusterStateMachine::MarkDeadTogether(consensuspb::ShardInfo* shard,
                                                   const consensuspb::SetReplicaState& op) {
  std::vector<std::pair<uint64_t, uint64_t>> targets = {{op.peer_id(), op.from_generation()}};
  for (const auto& r : op.also_dead()) targets.emplace_back(r.peer_id(), r.generation());
  bool any = false;
  for (const auto& [peer, generation] : targets) {
    consensuspb::Replica* r = FindReplica(shard, peer);
    if (r == nullptr || r->generation() != generation || r->state() == consensuspb::DEAD) continue;
    if (r->state() == consensuspb::ACTIVE && CountActive(*shard) == 1) continue;  // never the last Active
    if (CountActive(*shard) == 0) continue;  // nothing could recover it (and no write succeeded without one)
    r->set_state(consensuspb::DEAD);
    consensuspb::SetReplicaState one;
    one.set_collection(op.collection());
    one.set_shard_id(op.shard_id());
    one.set_peer_id(peer);
    one.set_state(consensuspb::DEAD);
    EndTransfersBrokenBy(one);
    any = true;
  }
  if (!any) {
    return absl::FailedPreconditionError(absl::StrCat("none of the replicas of shard ", op.shard_id(),
                                                      " could be marked dead: each is another life now, already Dead, the last Active replica, or "
                                                      "of a shard with no Active replica"));
  }
  return absl::OkStatus();
}

void ClusterStateMachine::EndTransfersBrokenBy(const consensuspb::SetReplicaState& op) {
  consensuspb::CollectionState* c = MutableCollection(op.collection());
  consensuspb::ShardInfo* shard = *MutableShard(op.collection(), op.shard_id());
  auto* ts = c->mutable_transfers();
  for (int i = ts->size() - 1; i >= 0; --i) {
    const consensuspb::ShardTransfer& t = ts->Get(i);
    if (t.shard_id() != op.shard_id()) continue;
    const bool source_left = t.from() == op.peer_id() && op.state() != consensuspb::ACTIVE;
    const bool target_left = t.to() == op.peer_id() && op.state() != consensuspb::PARTIAL;
    if (!source_left && !target_left) continue;
    const consensuspb::ShardTransfer ended = t;
    ts->DeleteSubrange(i, 1);
    // A target that existed before keeps the state just asked for; otherwise as an abort.
    if (target_left && !ended.new_replica()) continue;
    UndoTarget(shard, ended);
  }
}

absl::Status ClusterStateMachine::StartTransfer(const consensuspb::StartTransfer& op) {
  const consensuspb::ShardTransfer& t = op.transfer();
  ASSIGN_OR_RETURN(consensuspb::ShardInfo * shard, MutableShard(op.collection(), t.shard_id()));
  consensuspb::CollectionState* c = MutableCollection(op.collection());
  if (FindPeer(t.to()) == nullptr) {
    return absl::NotFoundError(absl::StrCat("Not found: Peer ", t.to(), " doesn't exist"));
  }
  consensuspb::Replica* source = FindReplica(shard, t.from());
  if (source == nullptr || source->state() != consensuspb::ACTIVE) {
    return absl::FailedPreconditionError(absl::StrCat("peer ", t.from(), " holds no Active replica of shard ",
                                                      t.shard_id()));
  }
  for (const auto& existing : c->transfers()) {
    if (existing.shard_id() == t.shard_id() && (existing.to() == t.to() || existing.from() == t.to())) {
      return absl::AlreadyExistsError(absl::StrCat("shard ", t.shard_id(), " already has a transfer involving peer ",
                                                   t.to()));
    }
  }
  consensuspb::ShardTransfer transfer = t;
  consensuspb::Replica* target = FindReplica(shard, t.to());
  if (target != nullptr && target->state() == consensuspb::ACTIVE) {
    return absl::AlreadyExistsError(absl::StrCat("peer ", t.to(), " already holds an Active replica of shard ",
                                                 t.shard_id()));
  }
  transfer.set_new_replica(target == nullptr);
  if (target == nullptr) {
    consensuspb::Replica r;
    r.set_peer_id(t.to());
    InsertSorted(shard->mutable_replicas(), std::move(r), [](const consensuspb::Replica& x) { return x.peer_id(); });
    target = FindReplica(shard, t.to());
  }
  target->set_state(consensuspb::PARTIAL);
  target->set_generation(NextGeneration());  // the target starts from empty files
  transfer.set_target_generation(target->generation());
  InsertSorted(c->mutable_transfers(), std::move(transfer), [](const consensuspb::ShardTransfer& x) {
    return std::make_tuple(x.shard_id(), x.from(), x.to());
  });
  return absl::OkStatus();
}

namespace {

// Removes and returns the transfer (shard, from, to) — of that target generation unless it is 0 —
// or NotFound.
absl::StatusOr<consensuspb::ShardTransfer> TakeTransfer(consensuspb::CollectionState* c, uint32_t shard,
                                                        uint64_t from, uint64_t to, uint64_t target_generation) {
  auto* ts = c->mutable_transfers();
  for (int i = 0; i < ts->size(); ++i) {
    const auto& t = ts->Get(i);
    if (t.shard_id() == shard && t.from() == from && t.to() == to &&
        (target_generation == 0 || t.target_generation() == target_generation)) {
      consensuspb::ShardTransfer out = t;
      ts->DeleteSubrange(i, 1);
      return out;
    }
  }
  return absl::NotFoundError(absl::StrCat("Not found: no transfer of shard ", shard, " from peer ", from,
                                          " to peer ", to));
}

}  // namespace

absl::Status ClusterStateMachine::FinishTransfer(const consensuspb::FinishTransfer& op) {
  ASSIGN_OR_RETURN(consensuspb::ShardInfo * shard, MutableShard(op.collection(), op.shard_id()));
  ASSIGN_OR_RETURN(consensuspb::ShardTransfer t, TakeTransfer(MutableCollection(op.collection()), op.shard_id(),
                                                             op.from(), op.to(), op.target_generation()));
  consensuspb::Replica* target = FindReplica(shard, t.to());
  if (target == nullptr || target->state() != consensuspb::PARTIAL ||
      (t.target_generation() != 0 && target->generation() != t.target_generation())) {
    // The state kept the transfer's invariant, so this is only a defence: a transfer that can no
    // longer finish must not stay either.
    UndoTarget(shard, t);
    return absl::FailedPreconditionError(absl::StrCat("transfer of shard ", op.shard_id(), " from peer ", op.from(),
                                                      " to peer ", op.to(),
                                                      " cannot finish: its target is no longer the replica it filled"));
  }
  target->set_state(consensuspb::ACTIVE);
  if (!t.sync()) {  // a move: the source gives its replica up, and its other transfers end
    AbortTransfersInvolving(MutableCollection(op.collection()), shard, t.from());
    RemoveReplica(shard, t.from());
  }
  return absl::OkStatus();
}

absl::Status ClusterStateMachine::AbortTransfer(const consensuspb::AbortTransfer& op) {
  ASSIGN_OR_RETURN(consensuspb::ShardInfo * shard, MutableShard(op.collection(), op.shard_id()));
  ASSIGN_OR_RETURN(consensuspb::ShardTransfer t, TakeTransfer(MutableCollection(op.collection()), op.shard_id(),
                                                             op.from(), op.to(), op.target_generation()));
  UndoTarget(shard, t);  // a recovery that failed is Dead again: it still needs one
  return absl::OkStatus();
}

absl::Status ClusterStateMachine::DropReplica(const consensuspb::DropReplica& op) {
  ASSIGN_OR_RETURN(consensuspb::ShardInfo * shard, MutableShard(op.collection(), op.shard_id()));
  consensuspb::Replica* r = FindReplica(shard, op.peer_id());
  if (r == nullptr) {
    return absl::NotFoundError(absl::StrCat("Not found: peer ", op.peer_id(), " holds no replica of shard ",
                                            op.shard_id()));
  }
  if (shard->replicas_size() == 1) {
    return absl::FailedPreconditionError(absl::StrCat("cannot drop the last replica of shard ", op.shard_id()));
  }
  if (r->state() == consensuspb::ACTIVE && CountActive(*shard) == 1) {
    return absl::FailedPreconditionError(absl::StrCat("cannot drop the last Active replica of shard ", op.shard_id()));
  }
  AbortTransfersInvolving(MutableCollection(op.collection()), shard, op.peer_id());
  RemoveReplica(shard, op.peer_id());
  return absl::OkStatus();
}

absl::Status ClusterStateMachine::CreateAlias(const consensuspb::CreateAlias& op) {
  const consensuspb::CollectionState* c = FindCollection(op.collection());
  if (c == nullptr || c->name() != op.collection()) return CollectionNotFound(op.collection());
  for (const auto& c2 : state_.collections()) {
    if (c2.name() == op.alias()) {
      return absl::AlreadyExistsError(absl::StrCat("Collection `", op.alias(), "` already exists!"));
    }
  }
  for (auto& a : *state_.mutable_aliases()) {
    if (a.alias() == op.alias()) {
      a.set_collection(op.collection());  // Qdrant lets an alias be re-pointed
      return absl::OkStatus();
    }
  }
  consensuspb::Alias a;
  a.set_alias(op.alias());
  a.set_collection(op.collection());
  InsertSorted(state_.mutable_aliases(), std::move(a), [](const consensuspb::Alias& x) { return x.alias(); });
  return absl::OkStatus();
}

absl::Status ClusterStateMachine::DeleteAlias(const consensuspb::DeleteAlias& op) {
  auto* aliases = state_.mutable_aliases();
  for (int i = 0; i < aliases->size(); ++i) {
    if (aliases->Get(i).alias() == op.alias()) {
      aliases->DeleteSubrange(i, 1);
      return absl::OkStatus();
    }
  }
  return absl::NotFoundError(absl::StrCat("Not found: Alias `", op.alias(), "` doesn't exist!"));
}

}  // namespace qdsim::consensus
