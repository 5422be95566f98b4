#include <utility>
#include "node/raft/raft_node.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "node/world/log.h"
#include "node/world/status_macros.h"

namespace qdsim::raft {

absl::StatusOr<std::unique_ptr<RaftNode>> RaftNode::Open(world::Env& env, StateMachine& sm,
                                                         Options options) {
  std::unique_ptr<RaftNode> node(new RaftNode(env, sm, std::move(options)));
  RETURN_IF_ERROR(node->Start());
  return node;
}

RaftNode::RaftNode(world::Env& env, StateMachine& sm, Options options)
    : env_(env),
      sm_(sm),
      options_(std::move(options)),
      id_(env.transport().Self()),
      raft_random_(env.random().Fork("raft")),
      log_(env.disk(), options_.dir) {}

RaftNode::~RaftNode() {
  if (tick_timer_ != 0) env_.clock().Cancel(tick_timer_);
  if (retry_timer_ != 0) env_.clock().Cancel(retry_timer_);
}

absl::Status RaftNode::Start() {
  ASSIGN_OR_RETURN(DurableLog::Recovered state, log_.Recover());
  if (state.dropped_tail_bytes > 0) {
    QDSIM_LOG(env_.logger(), kWarning) << "raft log: dropped " << state.dropped_tail_bytes
                                       << " torn or corrupt bytes at the tail";
  }
  if (options_.raft.planted_bugs.Has(PlantedBug::kForgetVoteOnRestart)) state.hard_state.set_vote(0);
  const bool reinit = options_.reinit && !state.empty();
  if (reinit) Reinit(state);
  const bool bootstrap = (state.empty() && !options_.initial_voters.empty()) || reinit;
  if (bootstrap && !reinit) {
    // A new cluster: every initial voter starts from the same snapshot at index 1, term 1. It is
    // made durable before anything else happens (busy_ holds Ready processing until then); a crash
    // before that simply bootstraps again.
    raftpb::Snapshot boot;
    boot.mutable_metadata()->set_index(1);
    boot.mutable_metadata()->set_term(1);
    for (uint64_t v : options_.initial_voters) boot.mutable_metadata()->mutable_conf_state()->add_voters(v);
    boot.set_data(sm_.Snapshot());
    state.snapshot = boot;
    state.hard_state.set_term(1);
    state.hard_state.set_commit(1);
  }
  if (options_.observer) options_.observer->OnRecovered(id_, state);
  if (state.snapshot) {
    RETURN_IF_ERROR(storage_.ApplySnapshot(*state.snapshot));
    RETURN_IF_ERROR(sm_.Restore(state.snapshot->data()));
    conf_ = state.snapshot->metadata().conf_state();
    applied_ = state.snapshot->metadata().index();
  }
  RETURN_IF_ERROR(storage_.Append(state.entries));
  storage_.SetHardState(state.hard_state);
  // Entries after the snapshot are re-applied from the log: the state machine is volatile.
  Config config = options_.raft;
  config.id = id_;
  config.storage = &storage_;
  config.random = &raft_random_;
  config.logger = &env_.logger();
  config.applied = applied_;
  ASSIGN_OR_RETURN(raw_, RawNode::Create(config));
  QDSIM_LOG(env_.logger(), kInfo) << "raft: started at term " << state.hard_state.term() << ", "
                                  << state.entries.size() << " log entries after index " << applied_;
  if (bootstrap) {
    busy_ = true;
    SaveBootstrap(*state.snapshot, state.hard_state);
  }
  // Nodes do not tick in step with each other: the first tick comes at a random phase.
  ScheduleTick(world::Micros(static_cast<int64_t>(raft_random_.Uniform(options_.tick.count()) + 1)));
  Process();
  return absl::OkStatus();
}

void RaftNode::Reinit(DurableLog::Recovered& state) {
  // Everything committed, applied to the state machine; what was not committed is dropped (no
  // majority will ever decide it now).
  uint64_t index = 0;
  uint64_t term = state.hard_state.term();
  if (state.snapshot) {
    if (absl::Status s = sm_.Restore(state.snapshot->data()); !s.ok()) {
      QDSIM_LOG(env_.logger(), kError) << "raft reinit: the snapshot does not restore: " << s.message();
    }
    index = state.snapshot->metadata().index();
    term = std::max(term, state.snapshot->metadata().term());
  }
  for (const raftpb::Entry& e : state.entries) {
    if (e.index() > state.hard_state.commit()) break;
    if (e.index() <= index) continue;
    if (e.type() == raftpb::ENTRY_NORMAL) sm_.Apply(e);
    index = e.index();
    term = std::max(term, e.term());
  }
  raftpb::Snapshot snapshot;
  snapshot.mutable_metadata()->set_index(std::max<uint64_t>(index, 1));
  snapshot.mutable_metadata()->set_term(std::max<uint64_t>(term, 1));
  snapshot.mutable_metadata()->mutable_conf_state()->add_voters(id_);
  snapshot.set_data(sm_.Snapshot());
  QDSIM_LOG(env_.logger(), kWarning) << "raft: reinitialised as the only voter at index "
                                     << snapshot.metadata().index() << ", term " << term + 1 << " ("
                                     << (state.entries.empty() ? 0 : state.entries.back().index() - index)
                                     << " uncommitted entries dropped)";
  state.snapshot = std::move(snapshot);
  state.entries.clear();
  state.hard_state.set_term(std::max<uint64_t>(term, 1) + 1);
  state.hard_state.set_vote(0);
  state.hard_state.set_commit(state.snapshot->metadata().index());
}

void RaftNode::SaveBootstrap(raftpb::Snapshot snapshot, raftpb::HardState hs) {
  log_.SaveSnapshot(snapshot, hs, {}, [this, snapshot, hs](absl::Status s) {
    if (!s.ok()) {
      // Same rule as every other write (OnWriteError): nothing goes on top of a state that is not
      // durable; a full disk is retried, any other failure stops the node.
      if (!absl::IsResourceExhausted(s)) {
        failure_ = s;
        QDSIM_LOG(env_.logger(), kError) << "raft: bootstrap snapshot failed, this node stops: " << s.message();
        return;
      }
      retry_timer_ = env_.clock().After(world::Seconds(1), [this, snapshot, hs] {
        retry_timer_ = 0;
        SaveBootstrap(snapshot, hs);
      });
      return;
    }
    busy_ = false;
    Process();
  });
}

void RaftNode::ScheduleTick(world::Duration delay) {
  tick_timer_ = env_.clock().After(delay, [this] {
    tick_timer_ = 0;
    OnTick();
  });
}

void RaftNode::OnTick() {
  // A candidate whose election failed (a split vote, or no majority reachable) campaigns again when
  // this tick ends its timeout. Two candidates that split because they tick within a message delay
  // of each other would stay that close for ever, and split again whenever they draw the same
  // timeout. So the re-campaign moves to a random point within the tick, and this node's ticks go on
  // from there: elections after a split are randomised below the tick's granularity. Ticks stay
  // evenly spaced from the campaign on, so a leader it elects keeps the usual timing (check-quorum).
  const Raft& r = raw_->raft();
  if (!recampaign_deferred_ &&
      (r.role() == StateRole::kCandidate || r.role() == StateRole::kPreCandidate) && r.Promotable() &&
      r.election_elapsed() + 1 >= r.randomized_election_timeout()) {
    recampaign_deferred_ = true;
    ScheduleTick(world::Micros(static_cast<int64_t>(raft_random_.Uniform(options_.tick.count()) + 1)));
    return;
  }
  recampaign_deferred_ = false;
  raw_->Tick();
  MaybePromoteLearner();
  Process();
  ScheduleTick(options_.tick);
}

void RaftNode::Receive(world::PeerId from, const std::string& bytes) {
  peerpb::Envelope envelope;
  if (!envelope.ParseFromString(bytes)) {
    QDSIM_LOG(env_.logger(), kWarning) << "dropping unparseable message from peer " << from;
    return;
  }
  ReceiveEnvelope(from, envelope);
}

void RaftNode::ReceiveEnvelope(world::PeerId from, const peerpb::Envelope& envelope) {
  if (envelope.has_snapshot_chunk()) {
    OnChunk(from, envelope.snapshot_chunk());
    return;
  }
  if (!envelope.has_raft()) return;
  const raftpb::Message& m = envelope.raft();
  if (m.from() != from || m.to() != id_) {
    QDSIM_LOG(env_.logger(), kWarning) << "dropping raft message claiming from=" << m.from()
                                       << " to=" << m.to() << " sent by peer " << from;
    return;
  }
  if (absl::Status s = raw_->Step(m); !s.ok() && !IsProposalDropped(s)) {
    QDSIM_LOG(env_.logger(), kDebug) << "raft step: " << s.message();
  }
  Process();
}

absl::Status RaftNode::Propose(std::string data) {
  absl::Status s = raw_->Propose(std::move(data));
  Process();
  return s;
}

absl::Status RaftNode::ProposeConfChange(const raftpb::ConfChange& change) {
  absl::Status s = raw_->ProposeConfChange(change);
  Process();
  return s;
}

void RaftNode::Process() {
  if (processing_) return;
  processing_ = true;
  while (!busy_ && failure_.ok() && raw_->HasReady()) {
    auto p = std::make_shared<PendingReady>();
    p->rd = raw_->GetReady();
    ReportRoleChange(p->rd);
    p->prev_term = p->rd.entries.empty() ? 0 : raw_->raft().log().TermOrZero(p->rd.entries.front().index() - 1);
    busy_ = true;
    Write(p);  // completes now or from a callback; Complete() clears busy_
  }
  processing_ = false;
}

void RaftNode::ReportRoleChange(const Ready& rd) {
  if (!rd.soft_state && !rd.hard_state) return;
  const SoftState soft = rd.soft_state ? *rd.soft_state : last_soft_;
  const uint64_t term = rd.hard_state ? rd.hard_state->term() : last_term_;
  if (options_.observer && (!(soft == last_soft_) || term != last_term_)) {
    options_.observer->OnRoleChange(id_, soft.role, term, soft.lead);
  }
  last_soft_ = soft;
  last_term_ = term;
}

void RaftNode::Write(const std::shared_ptr<PendingReady>& p) {
  Ready& rd = p->rd;
  if (rd.snapshot) {
    // A snapshot from the leader: make it and the log that continues it durable before anything
    // acknowledges it. Entries of this Ready follow the snapshot.
    if (!p->in_memory) ApplySnapshotInMemory(rd);
    p->in_memory = true;
    log_.SaveSnapshot(*rd.snapshot, storage_.hard_state(), rd.entries, [this, p](absl::Status s) {
      if (!s.ok()) return OnWriteError(p, s);
      Durable(*p);
      Complete(p);
    });
    return;
  }
  // Nothing of a failed append is applied (world/disk.h): Raft's view of stable storage changes only
  // after the write went through.
  if (absl::Status s = log_.Append(rd.hard_state, rd.entries); !s.ok()) return OnWriteError(p, s);
  (void)storage_.Append(rd.entries);
  if (rd.hard_state) storage_.SetHardState(*rd.hard_state);
  if (!rd.must_sync) return Complete(p);
  if (options_.raft.planted_bugs.Has(PlantedBug::kAckBeforeSync)) {
    log_.Sync([](absl::Status) {});  // acknowledged already: the bug
    return Complete(p);
  }
  log_.Sync([this, p](absl::Status s) {
    if (!s.ok()) return OnWriteError(p, s);
    Durable(*p);
    Complete(p);
  });
}

void RaftNode::ApplySnapshotInMemory(const Ready& rd) {
  if (absl::Status s = storage_.ApplySnapshot(*rd.snapshot); !s.ok()) {
    QDSIM_LOG(env_.logger(), kError) << "apply snapshot: " << s.message();
  }
  (void)storage_.Append(rd.entries);
  if (rd.hard_state) storage_.SetHardState(*rd.hard_state);
  if (absl::Status s = sm_.Restore(rd.snapshot->data()); !s.ok()) {
    QDSIM_LOG(env_.logger(), kError) << "restore snapshot: " << s.message();
  }
  conf_ = rd.snapshot->metadata().conf_state();
  applied_ = rd.snapshot->metadata().index();
  if (options_.observer) options_.observer->OnRestore(id_, rd.snapshot->metadata());
}

void RaftNode::Durable(const PendingReady& p) {
  if (options_.observer) options_.observer->OnDurable(id_, storage_.hard_state(), p.rd.entries, p.prev_term);
}

void RaftNode::Complete(const std::shared_ptr<PendingReady>& p) {
  busy_ = false;
  // Applying entries runs the state machine, whose listeners may propose: the Process() inside
  // Propose() must not take the next Ready before this one is advanced (and must not apply later
  // entries in the middle of this batch), so it waits for the one below.
  const bool was_processing = std::exchange(processing_, true);
  Finish(p->rd);
  processing_ = was_processing;
  Process();  // a no-op when called from inside Process()'s own loop
}

void RaftNode::OnWriteError(const std::shared_ptr<PendingReady>& p, const absl::Status& s) {
  if (absl::IsResourceExhausted(s)) {
    // A full disk applied nothing: try the same write again later, acknowledging nothing meanwhile.
    QDSIM_LOG(env_.logger(), kWarning) << "raft: " << s.message() << "; retrying the write in 1 s";
    retry_timer_ = env_.clock().After(world::Seconds(1), [this, p] {
      retry_timer_ = 0;
      Write(p);
    });
    return;
  }
  // Anything else leaves the log's durable content unknown (world/disk.h): stop taking part rather
  // than acknowledge on top of it. A restart recovers from what is durable.
  failure_ = s;
  QDSIM_LOG(env_.logger(), kError) << "raft: disk failure, this node stops taking part until restarted: "
                                   << s.message();
}

void RaftNode::Finish(Ready& rd) {
  for (const auto& m : rd.messages) Send(m);
  ApplyCommitted(rd.committed_entries);
  raw_->Advance();
  MaybeCompact();
}

void RaftNode::Send(const raftpb::Message& original) {
  raftpb::Message fresh;
  const raftpb::Message* m = &original;
  if (original.type() == raftpb::MSG_SNAP && original.snapshot().metadata().index() < applied_) {
    // Snapshots on demand: the stored one is older than what this node has applied (for example
    // the bootstrap snapshot, whose membership predates a learner it must now reach). Send the
    // state as of now instead; the follower answers with the newer index and Raft follows it.
    absl::StatusOr<raftpb::Snapshot> snap = storage_.CreateSnapshot(applied_, conf_, sm_.Snapshot());
    if (snap.ok()) {
      fresh = original;
      *fresh.mutable_snapshot() = *std::move(snap);
      m = &fresh;
    }
  }
  if (options_.observer) options_.observer->OnSend(id_, *m);
  if (m->type() == raftpb::MSG_SNAP && m->snapshot().data().size() > options_.snapshot_chunk_bytes) {
    SendSnapshotInChunks(*m);
  } else {
    peerpb::Envelope envelope;
    *envelope.mutable_raft() = *m;
    env_.transport().Send(m->to(), envelope.SerializeAsString());
  }
  if (m->type() == raftpb::MSG_SNAP) {
    // Raft keeps a follower in the Snapshot state until told the snapshot went out. The follower
    // answers once it has installed it; if it was lost, the probe that follows finds the follower
    // still behind and a snapshot is sent again.
    raw_->ReportSnapshot(m->to(), true);
  }
}

void RaftNode::SendSnapshotInChunks(const raftpb::Message& m) {
  const std::string& data = m.snapshot().data();
  raftpb::Message header = m;
  header.mutable_snapshot()->clear_data();
  for (uint64_t offset = 0; offset < data.size(); offset += options_.snapshot_chunk_bytes) {
    peerpb::Envelope envelope;
    peerpb::SnapshotChunk* chunk = envelope.mutable_snapshot_chunk();
    *chunk->mutable_header() = header;
    chunk->set_offset(offset);
    chunk->set_total_bytes(data.size());
    chunk->set_data(data.substr(offset, options_.snapshot_chunk_bytes));
    env_.transport().Send(m.to(), envelope.SerializeAsString());
  }
}

void RaftNode::OnChunk(world::PeerId from, const peerpb::SnapshotChunk& chunk) {
  const raftpb::Message& h = chunk.header();
  if (h.from() != from || h.to() != id_ || h.type() != raftpb::MSG_SNAP ||
      chunk.offset() >= chunk.total_bytes() || chunk.data().size() > chunk.total_bytes() - chunk.offset() ||
      chunk.total_bytes() > options_.max_snapshot_bytes) {
    QDSIM_LOG(env_.logger(), kWarning) << "dropping malformed snapshot chunk from peer " << from;
    return;
  }
  Assembly& a = assemblies_[from];
  const auto& meta = h.snapshot().metadata();
  if (a.header.snapshot().metadata().index() != meta.index() ||
      a.header.snapshot().metadata().term() != meta.term() || a.total != chunk.total_bytes() ||
      a.header.term() != h.term()) {
    a = Assembly{h, chunk.total_bytes(), {}};
  }
  // Memory stays within the snapshot's size: pieces (whatever offsets a peer picks) may not add up to
  // more than total_bytes.
  uint64_t held = 0;
  for (const auto& [offset, bytes] : a.pieces) held += offset == chunk.offset() ? 0 : bytes.size();
  if (held + chunk.data().size() > a.total) {
    QDSIM_LOG(env_.logger(), kWarning) << "dropping overlapping snapshot chunks from peer " << from;
    assemblies_.erase(from);
    return;
  }
  a.pieces[chunk.offset()] = chunk.data();
  // Complete when the pieces tile [0, total).
  uint64_t covered = 0;
  for (const auto& [offset, bytes] : a.pieces) {
    if (offset > covered) return;
    covered = std::max<uint64_t>(covered, offset + bytes.size());
  }
  if (covered < a.total) return;
  std::string data;
  data.reserve(a.total);
  for (const auto& [offset, bytes] : a.pieces) {
    if (offset + bytes.size() > data.size()) data.append(bytes.substr(data.size() - offset));
  }
  raftpb::Message m = a.header;
  m.mutable_snapshot()->set_data(std::move(data));
  assemblies_.erase(from);
  if (absl::Status s = raw_->Step(m); !s.ok()) {
    QDSIM_LOG(env_.logger(), kDebug) << "raft step snapshot: " << s.message();
  }
  Process();
}

void RaftNode::ApplyCommitted(const std::vector<raftpb::Entry>& entries) {
  for (const raftpb::Entry& e : entries) {
    if (e.index() <= applied_) continue;  // covered by a snapshot already
    if (options_.observer) options_.observer->OnApply(id_, e);
    if (e.type() == raftpb::ENTRY_CONF_CHANGE) {
      raftpb::ConfChange cc;
      if (cc.ParseFromString(e.data())) {
        conf_ = raw_->ApplyConfChange(cc);
        sm_.ApplyConfChange(e, cc, conf_);
        QDSIM_LOG(env_.logger(), kInfo) << "raft: applied conf change " << raftpb::ConfChangeType_Name(cc.type())
                                        << " node " << cc.node_id() << " at index " << e.index();
      }
    } else {
      sm_.Apply(e);
    }
    applied_ = e.index();
  }
}

void RaftNode::MaybeCompact() {
  if (busy_ || options_.compact_entries == 0) return;
  const uint64_t first = storage_.FirstIndex();
  if (applied_ < first || applied_ - first + 1 < options_.compact_entries) return;
  absl::StatusOr<raftpb::Snapshot> snap = storage_.CreateSnapshot(applied_, conf_, sm_.Snapshot());
  if (!snap.ok()) return;
  if (absl::Status s = storage_.Compact(applied_); !s.ok()) return;
  absl::StatusOr<std::vector<raftpb::Entry>> rest =
      storage_.Entries(applied_ + 1, storage_.LastIndex() + 1, UINT64_MAX);
  std::vector<raftpb::Entry> remaining = rest.ok() ? *std::move(rest) : std::vector<raftpb::Entry>{};
  busy_ = true;
  log_.SaveSnapshot(*std::move(snap), storage_.hard_state(), std::move(remaining), [this](absl::Status s) {
    if (!s.ok()) QDSIM_LOG(env_.logger(), kError) << "compaction: " << s.message();
    busy_ = false;
    Process();
  });
}

void RaftNode::MaybePromoteLearner() {
  if (!options_.promote_learners || raw_->raft().role() != StateRole::kLeader) return;
  if (raw_->raft().pending_conf_index() > applied_) return;  // one change at a time
  for (uint64_t learner : conf_.learners()) {
    if (!raw_->LearnerCaughtUp(learner)) continue;
    raftpb::ConfChange cc;
    cc.set_type(raftpb::CONF_CHANGE_ADD_NODE);
    cc.set_node_id(learner);
    if (raw_->ProposeConfChange(cc).ok()) {
      QDSIM_LOG(env_.logger(), kInfo) << "raft: promoting caught-up learner " << learner;
    }
    return;
  }
}

}  // namespace qdsim::raft
