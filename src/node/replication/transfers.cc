#include "node/replication/transfers.h"

#include <algorithm>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "node/world/log.h"
#include "node/world/records.h"

namespace qdsim::replication {
namespace {

constexpr world::Duration kItemTimeout = world::Seconds(2);      // one item's rpc
constexpr world::Duration kFirstBackoff = world::Millis(200);    // before the first retry of an item
constexpr world::Duration kMaxBackoff = world::Seconds(2);
constexpr world::Duration kGiveUpAfter = world::Seconds(30);     // source: nothing acknowledged
constexpr world::Duration kQuietLimit = world::Seconds(30);      // target: nothing received
constexpr world::Duration kForgetAfter = world::Seconds(60);     // target: the place of an ended stream
constexpr world::Duration kProposeTimeout = world::Seconds(10);
constexpr world::Duration kTick = world::Seconds(1);             // periodic reconcile while busy

// transfers/streamed: two slots, each one record holding a generation; writes alternate between
// them, so a torn write never takes the previous mark with it.
constexpr char kStreamedFile[] = "transfers/streamed";
constexpr uint8_t kStreamedRecord = 1;
constexpr int kStreamedReads = 3;  // a read may flip bits: the best of a few

std::string StreamedSlot(uint64_t generation) {
  std::string payload(8, '\0');
  for (int i = 0; i < 8; ++i) payload[i] = static_cast<char>(generation >> (8 * i));
  return world::EncodeRecord(kStreamedRecord, payload);
}

size_t SlotBytes() { return StreamedSlot(0).size(); }

std::optional<uint64_t> ParseSlot(std::string_view bytes) {
  world::RecordReader reader(bytes);
  const std::optional<world::Record> record = reader.Next();
  if (!record || record->type != kStreamedRecord || record->payload.size() != 8) return std::nullopt;
  uint64_t generation = 0;
  for (int i = 0; i < 8; ++i) generation |= uint64_t{static_cast<uint8_t>(record->payload[i])} << (8 * i);
  return generation;
}

const consensuspb::ShardInfo* FindShard(const consensuspb::ClusterState& state, const std::string& collection,
                                        uint32_t shard) {
  for (const auto& c : state.collections()) {
    if (c.name() != collection) continue;
    for (const auto& s : c.shards()) {
      if (s.shard_id() == shard) return &s;
    }
  }
  return nullptr;
}

using consensus::FindReplica;

bool PeerKnown(const consensuspb::ClusterState& state, uint64_t peer) {
  return std::any_of(state.peers().begin(), state.peers().end(), [&](const auto& p) { return p.id() == peer; });
}

}  // namespace

// ---- Construction ---------------------------------------------------------------------------

ShardTransfers::ShardTransfers(world::Env& env, world::PeerId self, rpc::RpcEndpoint& rpc,
                               consensus::ConsensusManager& consensus, collection::LocalShards& shards,
                               ReplicaService& replicas, TransferLimits limits)
    : env_(env), self_(self), rpc_(rpc), consensus_(consensus), shards_(shards), replicas_(replicas), limits_(limits) {
  LoadStreamedMark();
  rpc_.Handle(kItemMethod, [this, alive = alive_](world::PeerId from, std::string body, rpc::RpcEndpoint::Reply reply) {
    if (*alive) HandleItem(from, std::move(body), std::move(reply));
  });
  replicas_.SetApplyObserver([this](const std::string& collection, uint32_t shard, const shardpb::ShardOperation& op) {
    OnApplied(collection, shard, op);
  });
  replicas_.SetTransferGate([this](const std::string& collection, uint32_t shard, uint64_t source_seq,
                                   shardpb::ShardOperation& op, ReplicaService::Done& done) {
    return TakeFromWriter(collection, shard, source_seq, op, done);
  });
  consensus_.AddListener([this, alive = alive_](const consensuspb::Operation&, const absl::Status&) {
    if (*alive) Reconcile();
  });
  consensus_.AddRestoreListener([this, alive = alive_] {
    if (*alive) Reconcile();
  });
  Reconcile();
}

ShardTransfers::~ShardTransfers() {
  *alive_ = false;
  replicas_.SetApplyObserver(nullptr);
  replicas_.SetTransferGate(nullptr);
  if (tick_timer_ != 0) env_.clock().Cancel(tick_timer_);
  for (auto& [key, stream] : outgoing_) {
    if (stream.retry_timer != 0) env_.clock().Cancel(stream.retry_timer);
  }
}

ShardTransfers::Key ShardTransfers::KeyOf(const std::string& collection, const consensuspb::ShardTransfer& t) {
  return Key{collection, t.shard_id(), t.from(), t.to(), t.target_generation()};
}

ShardTransfers::Key ShardTransfers::KeyOf(const transferpb::TransferItem& item) {
  return Key{item.collection(), item.shard_id(), item.from(), item.to(), item.target_generation()};
}

transferpb::TransferItem ShardTransfers::ItemOf(const Key& key, uint64_t index) {
  transferpb::TransferItem item;
  item.set_collection(key.collection);
  item.set_shard_id(key.shard);
  item.set_from(key.from);
  item.set_to(key.to);
  item.set_target_generation(key.target_generation);
  item.set_index(index);
  return item;
}

bool ShardTransfers::InState(const consensuspb::ClusterState& state, const Key& key) {
  for (const auto& c : state.collections()) {
    if (c.name() != key.collection) continue;
    for (const auto& t : c.transfers()) {
      if (KeyOf(c.name(), t) == key) return true;
    }
  }
  return false;
}

bool ShardTransfers::IsActiveLife(const consensuspb::ClusterState& state, const Key& key, world::PeerId peer,
                                  uint64_t generation) {
  const consensuspb::ShardInfo* shard = FindShard(state, key.collection, key.shard);
  const consensuspb::Replica* replica = shard ? FindReplica(*shard, peer) : nullptr;
  return replica != nullptr && replica->state() == consensuspb::ACTIVE && replica->generation() == generation;
}

void ShardTransfers::Reconcile() {
  const consensuspb::ClusterState& state = consensus_.metadata().state();
  const bool sending = ReconcileOutgoing(state);
  const bool receiving = ReconcileIncoming(state);
  const bool recovering = ReconcileRecovery(state);
  if (sending || receiving || recovering) ArmTick();
}

void ShardTransfers::ArmTick() {
  if (tick_timer_ != 0) return;
  tick_timer_ = env_.clock().After(kTick, [this] {
    tick_timer_ = 0;
    Reconcile();
  });
}

void ShardTransfers::ProposeAbort(const Key& key, const std::string& reason) {
  if (!aborting_.insert(key).second) return;  // one proposal at a time; the next tick retries
  QDSIM_LOG(env_.logger(), kWarning) << "aborting transfer of shard " << key.shard << " of " << key.collection
                                     << " from peer " << key.from << " to peer " << key.to << ": " << reason;
  consensuspb::Operation op;
  auto* abort = op.mutable_abort_transfer();
  abort->set_collection(key.collection);
  abort->set_shard_id(key.shard);
  abort->set_from(key.from);
  abort->set_to(key.to);
  abort->set_target_generation(key.target_generation);
  abort->set_reason(reason);
  consensus_.Propose(op, kProposeTimeout, [this, alive = alive_, key](absl::Status) {
    if (*alive) aborting_.erase(key);
  });
}

// ---- Source side ------------------------------------------------------------------------------

bool ShardTransfers::ReconcileOutgoing(const consensuspb::ClusterState& state) {
  std::set<Key> wanted;  // transfers out of this peer
  for (const auto& c : state.collections()) {
    for (const auto& t : c.transfers()) {
      if (t.from() == self_) wanted.insert(KeyOf(c.name(), t));
    }
  }
  for (auto it = outgoing_.begin(); it != outgoing_.end();) {
    const Key& key = it->first;
    Outgoing& stream = it->second;
    // A stream ends with its transfer: every write the source accepts while the target is Partial
    // or Active is also sent to the target directly (the source refuses writers that do not know
    // the target), and a target that fails a write is marked Dead. Forwarding after the finish
    // would only let an older operation land after a newer direct one.
    if (wanted.contains(key)) {
      ++it;
      continue;
    }
    if (stream.retry_timer != 0) env_.clock().Cancel(stream.retry_timer);
    it = outgoing_.erase(it);
  }
  for (const Key& key : wanted) {
    auto it = outgoing_.find(key);
    if (it != outgoing_.end()) {
      if (!it->second.failure.empty()) ProposeAbort(key, it->second.failure);
    } else if (key.target_generation <= streamed_at_start_) {
      ProposeAbort(key, "its source restarted mid-transfer and cannot resume the stream");
    } else {
      StartStream(state, key);
    }
  }
  MarkStreams();
  std::vector<Key> keys;
  for (const auto& [key, stream] : outgoing_) keys.push_back(key);
  for (const Key& key : keys) SendNext(key);  // continues streams a refused finish or a hiccup left idle
  return !wanted.empty() || !outgoing_.empty();
}

void ShardTransfers::StartStream(const consensuspb::ClusterState& state, const Key& key) {
  const consensuspb::ShardInfo* shard = FindShard(state, key.collection, key.shard);
  const consensuspb::Replica* source = shard ? FindReplica(*shard, self_) : nullptr;
  shard::ShardStore* store = source ? shards_.Find(key.collection, key.shard, source->generation()) : nullptr;
  if (store == nullptr) return;  // not open (yet): the next reconcile tries again
  Outgoing& stream = outgoing_[key];
  stream.id = ++last_stream_id_;
  stream.source_generation = source->generation();
  stream.backoff = kFirstBackoff;
  // Everything applied so far; from this instant on, OnApplied queues what the replica applies.
  // An empty replica still sends one (empty) batch: it carries the export's seq to the target.
  stream.export_seq = store->last_seq();
  for (shardpb::PointBatch& batch : store->ExportBatches(kBatchSize)) stream.pending.emplace_back(std::move(batch));
  if (stream.pending.empty()) stream.pending.emplace_back(shardpb::PointBatch{});
  stream.batches_left = stream.pending.size();
  QDSIM_LOG(env_.logger(), kInfo) << "streaming shard " << key.shard << " of " << key.collection << " to peer "
                                  << key.to << ": " << store->points_count() << " points in "
                                  << stream.pending.size() << " batches";
}

ShardTransfers::Outgoing* ShardTransfers::FindStream(const Key& key, uint64_t id) {
  auto it = outgoing_.find(key);
  return it == outgoing_.end() || it->second.id != id ? nullptr : &it->second;
}

void ShardTransfers::OnApplied(const std::string& collection, uint32_t shard, const shardpb::ShardOperation& op) {
  if (bugs_.Has(shard::ClusterBug::kTransferNoForward)) return;
  std::vector<Key> fed;
  for (auto it = outgoing_.lower_bound(Key{collection, shard});
       it != outgoing_.end() && it->first.collection == collection && it->first.shard == shard; ++it) {
    Outgoing& stream = it->second;
    if (!stream.failure.empty()) continue;
    stream.pending.emplace_back(op);
    fed.push_back(it->first);
  }
  for (const Key& key : fed) SendNext(key);
}

void ShardTransfers::SendNext(const Key& key) {
  auto it = outgoing_.find(key);
  if (it == outgoing_.end()) return;
  Outgoing& stream = it->second;
  if (!stream.failure.empty() || !stream.marked || stream.in_flight) return;
  if (!stream.item) {
    if (stream.pending.empty()) {
      if (!stream.finished) ProposeFinish(key, stream);  // a finished one is forgotten by the reconcile
      return;
    }
    MakeItem(key, stream);
  }
  stream.in_flight = true;
  rpc_.Call(key.to, kItemMethod, stream.item->SerializeAsString(), kItemTimeout,
            [this, alive = alive_, key, id = stream.id, index = stream.item->index()](
                absl::StatusOr<std::string> answer) {
              if (*alive) OnItemAnswer(key, id, index, answer.status());
            },
            rpc::RpcEndpoint::kResendEvery);
}

void ShardTransfers::MakeItem(const Key& key, Outgoing& stream) {
  stream.item = ItemOf(key, stream.next_index++);
  if (auto* batch = std::get_if<shardpb::PointBatch>(&stream.pending.front())) {
    *stream.item->mutable_batch() = *batch;
    stream.item_units = 1;
    const bool last_batch = stream.pending.size() == 1 || !std::holds_alternative<shardpb::PointBatch>(stream.pending[1]);
    if (last_batch) stream.item->set_source_seq(stream.export_seq);
    return;
  }
  stream.item_units = 0;
  for (const Unit& unit : stream.pending) {
    const auto* op = std::get_if<shardpb::ShardOperation>(&unit);
    if (op == nullptr || stream.item->ops_size() == kOpsPerItem) break;
    *stream.item->add_ops() = *op;
    stream.item->set_source_seq(op->seq());
    ++stream.item_units;
  }
}

void ShardTransfers::OnItemAnswer(const Key& key, uint64_t id, uint64_t index, const absl::Status& status) {
  Outgoing* stream = FindStream(key, id);
  if (stream == nullptr || !stream->item || stream->item->index() != index) return;
  if (status.ok()) {
    stream->in_flight = false;
    if (stream->item->has_batch()) --stream->batches_left;
    stream->pending.erase(stream->pending.begin(), stream->pending.begin() + stream->item_units);
    stream->item.reset();
    stream->failing_since.reset();
    stream->backoff = kFirstBackoff;
    return SendNext(key);
  }
  if (absl::IsFailedPrecondition(status)) {
    return GiveUp(key, absl::StrCat("peer ", key.to, " refused the stream: ", status.message()));
  }
  const world::Instant now = env_.clock().Now();
  if (!stream->failing_since) stream->failing_since = now;
  if (now - *stream->failing_since >= kGiveUpAfter) {
    return GiveUp(key, absl::StrCat("nothing acknowledged by peer ", key.to, " for ", world::ToSeconds(kGiveUpAfter),
                                    " s: ", status.message()));
  }
  // in_flight stays set until the retry sends the same item again.
  stream->retry_timer = env_.clock().After(stream->backoff, [this, key, id] {
    Outgoing* s = FindStream(key, id);
    if (s == nullptr) return;
    s->retry_timer = 0;
    s->in_flight = false;
    SendNext(key);
  });
  stream->backoff = std::min(stream->backoff * 2, kMaxBackoff);
}

void ShardTransfers::GiveUp(const Key& key, std::string reason) {
  auto it = outgoing_.find(key);
  if (it == outgoing_.end()) return;
  Outgoing& stream = it->second;
  if (stream.retry_timer != 0) env_.clock().Cancel(stream.retry_timer);
  if (stream.finished) {  // over already: there is nothing left to abort
    QDSIM_LOG(env_.logger(), kWarning) << "dropping the forward queue of a finished transfer of shard " << key.shard
                                       << " of " << key.collection << " to peer " << key.to << ": " << reason;
    outgoing_.erase(it);
    return;
  }
  stream.failure = std::move(reason);
  stream.pending.clear();
  stream.item.reset();
  stream.in_flight = false;
  stream.retry_timer = 0;
  ProposeAbort(key, stream.failure);
}

void ShardTransfers::ProposeFinish(const Key& key, Outgoing& stream) {
  if (stream.finish_proposed) return;
  stream.finish_proposed = true;
  consensuspb::Operation op;
  auto* finish = op.mutable_finish_transfer();
  finish->set_collection(key.collection);
  finish->set_shard_id(key.shard);
  finish->set_from(key.from);
  finish->set_to(key.to);
  finish->set_target_generation(key.target_generation);
  consensus_.Propose(op, kProposeTimeout, [this, alive = alive_, key, id = stream.id](absl::Status verdict) {
    if (!*alive) return;
    if (!verdict.ok()) {
      QDSIM_LOG(env_.logger(), kInfo) << "finishing the transfer of shard " << key.shard << " of " << key.collection
                                      << " to peer " << key.to << ": " << verdict.message();
    }
    // Applied: the listener has seen it already. Otherwise the next reconcile proposes it again
    // if the transfer is still there.
    if (Outgoing* s = FindStream(key, id)) s->finish_proposed = false;
  });
}

// ---- The durable mark ---------------------------------------------------------------------------

void ShardTransfers::LoadStreamedMark() {
  std::optional<uint64_t> best[2];  // per slot, over a few reads
  for (int attempt = 0; attempt < kStreamedReads; ++attempt) {
    absl::StatusOr<std::string> bytes = env_.disk().ReadAll(kStreamedFile);
    if (absl::IsNotFound(bytes.status())) return;  // this peer never streamed
    if (!bytes.ok()) {
      QDSIM_LOG(env_.logger(), kError) << "cannot read " << kStreamedFile << ": " << bytes.status();
      continue;
    }
    for (size_t slot = 0; slot < 2; ++slot) {
      if (bytes->size() < (slot + 1) * SlotBytes()) continue;
      const std::optional<uint64_t> g = ParseSlot(std::string_view(*bytes).substr(slot * SlotBytes(), SlotBytes()));
      if (g && (!best[slot] || *g > *best[slot])) best[slot] = g;
    }
  }
  for (int slot = 0; slot < 2; ++slot) {
    if (best[slot] && *best[slot] >= streamed_at_start_) {
      streamed_at_start_ = *best[slot];
      streamed_slot_ = slot;
    }
  }
  streamed_durable_ = streamed_at_start_;
}

void ShardTransfers::MarkStreams() {
  uint64_t highest = 0;  // the highest generation still to make durable
  std::vector<Key> ready;
  for (auto& [key, stream] : outgoing_) {
    if (stream.marked) continue;
    if (key.target_generation <= streamed_durable_) {
      stream.marked = true;
      ready.push_back(key);
    } else {
      highest = std::max(highest, key.target_generation);
    }
  }
  if (highest != 0 && streamed_writing_ == 0) WriteStreamedMark(highest);
  for (const Key& key : ready) SendNext(key);
}

void ShardTransfers::WriteStreamedMark(uint64_t generation) {
  const int slot = 1 - streamed_slot_;  // never over the slot holding the durable mark
  if (absl::Status s = env_.disk().WriteAt(kStreamedFile, slot * SlotBytes(), StreamedSlot(generation)); !s.ok()) {
    QDSIM_LOG(env_.logger(), kWarning) << "cannot write " << kStreamedFile << ": " << s;
    return;  // the next reconcile tries again
  }
  streamed_writing_ = generation;
  env_.disk().Sync(kStreamedFile, [this, alive = alive_, generation, slot](absl::Status synced) {
    if (!*alive) return;
    streamed_writing_ = 0;
    if (synced.ok()) {
      streamed_durable_ = std::max(streamed_durable_, generation);
      streamed_slot_ = slot;
    } else {
      QDSIM_LOG(env_.logger(), kWarning) << "cannot sync " << kStreamedFile << ": " << synced;
    }
    MarkStreams();
  });
}

// ---- Target side ------------------------------------------------------------------------------

void ShardTransfers::HandleItem(world::PeerId from, std::string body, rpc::RpcEndpoint::Reply reply) {
  transferpb::TransferItem item;
  if (!item.ParseFromString(body)) return reply(absl::InvalidArgumentError("malformed transfer item"), "");
  if (item.to() != self_ || item.from() != from) {
    return reply(absl::InvalidArgumentError(absl::StrCat("transfer item from peer ", item.from(), " to peer ",
                                                         item.to(), " came from peer ", from, " to peer ", self_)),
                 "");
  }
  const Key key = KeyOf(item);
  shard::ShardStore* store = shards_.Find(key.collection, key.shard, key.target_generation);
  if (store == nullptr) {
    const consensuspb::ClusterState& state = consensus_.metadata().state();
    const consensuspb::ShardInfo* shard = FindShard(state, key.collection, key.shard);
    const consensuspb::Replica* mine = shard ? FindReplica(*shard, self_) : nullptr;
    if (state.next_generation() >= key.target_generation &&
        (mine == nullptr || mine->generation() != key.target_generation)) {
      return reply(absl::FailedPreconditionError(absl::StrCat("the replica of generation ", key.target_generation,
                                                              " is gone from peer ", self_)),
                   "");
    }
    // StartTransfer is not applied here yet (or the store is not open yet): the source retries.
    return reply(absl::UnavailableError(absl::StrCat("peer ", self_, " holds no replica of shard ", key.shard,
                                                     " of `", key.collection, "` at generation ",
                                                     key.target_generation, " (yet)")),
                 "");
  }
  auto it = incoming_.find(key);
  if (it == incoming_.end()) {
    // The store of that life is open, so its StartTransfer was applied here: if the transfer is
    // gone, it is over.
    if (!InState(consensus_.metadata().state(), key)) {
      return reply(absl::FailedPreconditionError("the transfer is over"), "");
    }
    it = incoming_.emplace(key, Incoming{}).first;
  }
  if (!IsPartialTarget(key)) return reply(absl::FailedPreconditionError("the transfer is over"), "");
  Incoming& in = it->second;
  in.last_heard = env_.clock().Now();
  if (item.index() < in.next_index) return reply(absl::OkStatus(), "");  // applied already
  if (item.index() > in.next_index) {
    return reply(absl::FailedPreconditionError(absl::StrCat("transfer stream out of order: expected item ",
                                                            in.next_index, ", got ", item.index())),
                 "");
  }
  in.waiting.push_back(std::move(reply));
  if (in.item) return;  // a retry of the item being applied: answered with it
  if (item.has_batch() == (item.ops_size() > 0)) {
    return CompleteItem(key, absl::FailedPreconditionError("a transfer item needs a batch or operations, not both"));
  }
  in.item = std::move(item);
  ApplyItem(key);
}

bool ShardTransfers::IsPartialTarget(const Key& key) const {
  const consensuspb::ShardInfo* shard = FindShard(consensus_.metadata().state(), key.collection, key.shard);
  const consensuspb::Replica* mine = shard ? FindReplica(*shard, self_) : nullptr;
  return mine != nullptr && mine->generation() == key.target_generation && mine->state() == consensuspb::PARTIAL;
}

void ShardTransfers::ApplyItem(const Key& key) {
  Incoming& in = incoming_.at(key);
  shard::ShardStore* store = shards_.Find(key.collection, key.shard, key.target_generation);
  if (store == nullptr) return CompleteItem(key, absl::UnavailableError("the replica was closed"));
  // Items apply only while this replica is the transfer's Partial target — checked again before
  // each operation of an item: once it is Active (or Dead), live writes reach it directly, and a
  // late operation could undo a newer one (and be copied on by a transfer out of it).
  if (!IsPartialTarget(key)) return CompleteItem(key, absl::FailedPreconditionError("the transfer is over"));
  if (in.item->has_batch()) {
    return store->ImportBatch(in.item->batch(), store->AssignSeq(), [this, alive = alive_, key](absl::Status s) {
      if (!*alive) return;
      if (absl::IsInvalidArgument(s) || absl::IsNotFound(s)) {
        s = absl::FailedPreconditionError(absl::StrCat("transfer batch refused: ", s.message()));
      }
      CompleteItem(key, s);
    });
  }
  if (in.ops_done == in.item->ops_size()) return CompleteItem(key, absl::OkStatus());
  shardpb::ShardOperation op = in.item->ops(in.ops_done);
  op.set_seq(store->AssignSeq());
  store->Apply(std::move(op), [this, alive = alive_, key](absl::Status s) {
    if (*alive) OnOpApplied(key, std::move(s));
  });
}

void ShardTransfers::OnOpApplied(const Key& key, absl::Status status) {
  Incoming& in = incoming_.at(key);  // kept while an item is being applied
  if (absl::IsInvalidArgument(status) || absl::IsNotFound(status)) {
    QDSIM_LOG(env_.logger(), kInfo) << "forwarded operation for shard " << key.shard << " of " << key.collection
                                    << " refused by the replica, skipped: " << status.message();
    status = absl::OkStatus();
  }
  if (!status.ok()) return CompleteItem(key, status);  // a retry applies the rest
  ++in.ops_done;
  ApplyItem(key);
}

void ShardTransfers::CompleteItem(const Key& key, absl::Status status) {
  Incoming& in = incoming_.at(key);
  const uint64_t source_seq = in.item ? in.item->source_seq() : 0;
  in.item.reset();
  if (status.ok()) {
    ++in.next_index;
    in.ops_done = 0;
    in.source_seq = std::max(in.source_seq, source_seq);
  }
  std::vector<rpc::RpcEndpoint::Reply> waiting = std::move(in.waiting);
  in.waiting.clear();
  for (auto& reply : waiting) reply(status, "");
  if (status.ok()) ReleaseWriters(key);
}

bool ShardTransfers::TakeFromWriter(const std::string& collection, uint32_t shard, uint64_t source_seq,
                                    shardpb::ShardOperation& op, ReplicaService::Done& done) {
  const consensuspb::ClusterState& state = consensus_.metadata().state();
  const consensuspb::ShardInfo* info = FindShard(state, collection, shard);
  const consensuspb::Replica* mine = info ? FindReplica(*info, self_) : nullptr;
  if (mine == nullptr || mine->state() != consensuspb::PARTIAL) return false;  // applied as usual
  for (const auto& c : state.collections()) {
    if (c.name() != collection) continue;
    for (const auto& t : c.transfers()) {
      if (t.shard_id() != shard || t.to() != self_ || t.target_generation() != mine->generation()) continue;
      const Key key = KeyOf(collection, t);
      auto [it, fresh] = incoming_.try_emplace(key);
      if (fresh) it->second.last_heard = env_.clock().Now();
      it->second.writers.emplace(source_seq, WaitingWrite{std::move(op), std::move(done)});
      ReleaseWriters(key);
      return true;
    }
  }
  return false;
}

void ShardTransfers::ReleaseWriters(const Key& key) {
  Incoming& in = incoming_.at(key);
  std::vector<ReplicaService::Done> released;
  for (auto it = in.writers.begin(); it != in.writers.end() && it->first <= in.source_seq;) {
    released.push_back(std::move(it->second.done));
    it = in.writers.erase(it);
  }
  shard::ShardStore* store = shards_.Find(key.collection, key.shard, key.target_generation);
  const uint64_t seq = store != nullptr ? store->last_seq() : 0;
  for (auto& done : released) done(seq);
}

void ShardTransfers::SettleWriters(const consensuspb::ClusterState& state, const Key& key, Incoming& in) {
  if (in.writers.empty() || IsPartialTarget(key)) return;
  // The stream is over. Writes its source took after it stopped forwarding (it saw the finish
  // first) are applied here now, in the source's order, if the replica went on as Active;
  // anything else fails (the replica is Dead or gone, and will be rebuilt).
  const consensuspb::ShardInfo* info = FindShard(state, key.collection, key.shard);
  const consensuspb::Replica* mine = info ? FindReplica(*info, self_) : nullptr;
  const bool active = mine != nullptr && mine->generation() == key.target_generation &&
                      mine->state() == consensuspb::ACTIVE;
  std::multimap<uint64_t, WaitingWrite> writers = std::move(in.writers);
  in.writers.clear();
  // Not inside the metadata's apply: a writer's callback may propose.
  env_.clock().After(world::Duration(0), [this, alive = alive_, key, active, writers = std::move(writers)]() mutable {
    if (!*alive) return;
    for (auto& [source_seq, write] : writers) {
      if (active) {
        replicas_.ApplyLocal(key.collection, key.shard, std::move(write.op), std::move(write.done));
      } else {
        write.done(absl::UnavailableError(absl::StrCat("the transfer of shard ", key.shard, " of `", key.collection,
                                                       "` to peer ", self_, " ended before its stream brought the write")));
      }
    }
  });
}

bool ShardTransfers::ReconcileIncoming(const consensuspb::ClusterState& state) {
  const world::Instant now = env_.clock().Now();
  std::set<Key> wanted;  // transfers into this peer
  for (const auto& c : state.collections()) {
    for (const auto& t : c.transfers()) {
      if (t.to() == self_) wanted.insert(KeyOf(c.name(), t));
    }
  }
  for (const Key& key : wanted) {
    auto [it, fresh] = incoming_.try_emplace(key);
    if (fresh) {
      it->second.last_heard = now;  // the watchdog starts when this incarnation first sees it
    } else if (now - it->second.last_heard >= kQuietLimit) {
      ProposeAbort(key, absl::StrCat("nothing received from peer ", key.from, " for ", world::ToSeconds(kQuietLimit),
                                     " s"));
    }
  }
  for (auto& [key, in] : incoming_) SettleWriters(state, key, in);
  // Forget ended streams once their replica is gone or they have been quiet for a while (a source
  // drains its queue after a finish).
  for (auto it = incoming_.begin(); it != incoming_.end();) {
    const Key& key = it->first;
    const bool ended = !wanted.contains(key) && !it->second.item &&
                       (shards_.Find(key.collection, key.shard, key.target_generation) == nullptr ||
                        now - it->second.last_heard >= kForgetAfter);
    it = ended ? incoming_.erase(it) : std::next(it);
  }
  return !incoming_.empty();
}

// ---- Recovery ---------------------------------------------------------------------------------

bool ShardTransfers::ReconcileRecovery(const consensuspb::ClusterState& state) {
  uint32_t incoming = static_cast<uint32_t>(recovering_.size());
  std::map<world::PeerId, uint32_t> outgoing;  // transfers out of each peer, proposals included
  std::set<ShardRef> filling;                  // shards with a transfer into this peer
  for (const auto& c : state.collections()) {
    for (const auto& t : c.transfers()) {
      ++outgoing[t.from()];
      if (t.to() != self_) continue;
      ++incoming;
      filling.insert({c.name(), t.shard_id()});
    }
  }
  for (const auto& [shard, source] : recovering_) ++outgoing[source];

  bool needed = false;
  std::vector<std::tuple<std::string, uint32_t, world::PeerId>> proposals;  // (collection, shard, source)
  std::set<ShardRef> not_active;  // local replicas that are not Active (attempt counts are kept for them)
  for (const auto& c : state.collections()) {
    for (const auto& s : c.shards()) {
      const consensuspb::Replica* mine = FindReplica(s, self_);
      const ShardRef ref{c.name(), s.shard_id()};
      if (mine == nullptr || mine->state() == consensuspb::ACTIVE) continue;
      not_active.insert(ref);
      const bool lost = mine->state() == consensuspb::DEAD || mine->state() == consensuspb::PARTIAL;
      if (!lost || filling.contains(ref)) continue;
      needed = true;
      if (recovering_.contains(ref) || incoming >= limits_.incoming) continue;
      const std::optional<world::PeerId> source = PickSource(state, c.name(), s, outgoing);
      if (!source) continue;
      proposals.push_back({c.name(), s.shard_id(), *source});
      ++incoming;
      ++outgoing[*source];
    }
  }
  std::erase_if(recovery_attempts_, [&](const auto& entry) { return !not_active.contains(entry.first); });
  // Proposed only now: a proposal may apply committed entries at once, which changes `state`.
  for (const auto& [collection, shard, source] : proposals) ProposeRecovery(collection, shard, source);
  return needed;
}

std::optional<world::PeerId> ShardTransfers::PickSource(const consensuspb::ClusterState& state,
                                                        const std::string& collection,
                                                        const consensuspb::ShardInfo& shard,
                                                        const std::map<world::PeerId, uint32_t>& outgoing) const {
  const auto attempts = recovery_attempts_.find(ShardRef{collection, shard.shard_id()});
  std::optional<std::tuple<uint32_t, uint32_t, world::PeerId>> best;  // (outgoing, attempts, peer)
  for (const auto& r : shard.replicas()) {
    if (r.peer_id() == self_ || r.state() != consensuspb::ACTIVE || !PeerKnown(state, r.peer_id())) continue;
    const auto out = outgoing.find(r.peer_id());
    const uint32_t busy = out == outgoing.end() ? 0 : out->second;
    if (busy >= limits_.outgoing) continue;
    uint32_t tried = 0;
    if (attempts != recovery_attempts_.end()) {
      if (auto a = attempts->second.find(r.peer_id()); a != attempts->second.end()) tried = a->second;
    }
    const auto candidate = std::make_tuple(busy, tried, r.peer_id());
    if (!best || candidate < *best) best = candidate;
  }
  if (!best) return std::nullopt;
  return std::get<2>(*best);
}

void ShardTransfers::ProposeRecovery(const std::string& collection, uint32_t shard, world::PeerId source) {
  const ShardRef ref{collection, shard};
  recovering_[ref] = source;
  ++recovery_attempts_[ref][source];
  consensuspb::Operation op;
  op.mutable_start_transfer()->set_collection(collection);
  consensuspb::ShardTransfer* t = op.mutable_start_transfer()->mutable_transfer();
  t->set_shard_id(shard);
  t->set_from(source);
  t->set_to(self_);
  t->set_sync(true);
  t->set_method("stream_records");
  t->set_comment("recovery");
  QDSIM_LOG(env_.logger(), kInfo) << "recovering shard " << shard << " of " << collection << " from peer " << source;
  consensus_.Propose(op, kProposeTimeout, [this, alive = alive_, ref](absl::Status verdict) {
    if (!*alive) return;
    recovering_.erase(ref);
    if (!verdict.ok()) {  // the next tick tries again
      QDSIM_LOG(env_.logger(), kInfo) << "recovery of shard " << ref.second << " of " << ref.first
                                      << " not started: " << verdict.message();
    }
  });
}

}  // namespace qdsim::replication
