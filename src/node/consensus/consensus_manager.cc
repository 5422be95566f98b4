#include "node/consensus/consensus_manager.h"

#include "absl/strings/str_cat.h"
#include "node/world/log.h"

namespace qdsim::consensus {
namespace {

// While no leader is known, look again this often.
constexpr world::Duration kLeaderPoll = world::Millis(100);

int64_t WholeSeconds(world::Duration d) { return d.count() / 1000000; }

}  // namespace

ConsensusManager::~ConsensusManager() {
  for (auto& [id, w] : waiting_) {
    if (w->timer != 0) env_.clock().Cancel(w->timer);
  }
}

void ConsensusManager::Propose(consensuspb::Operation op, world::Duration timeout, Done done) {
  op.clear_proposer();
  op.clear_proposal_id();
  std::string key = op.SerializeAsString();
  if (auto it = by_key_.find(key); it != by_key_.end()) {
    waiting_.at(it->second)->callers.push_back(std::move(done));  // identical op in flight
    return;
  }
  const uint64_t id = next_proposal_id_++;
  op.set_proposer(env_.transport().Self());
  op.set_proposal_id(id);
  auto w = std::make_unique<Waiting>();
  w->op = std::move(op);
  w->dedupe_key = key;
  w->callers.push_back(std::move(done));
  w->timeout = timeout;
  w->deadline = env_.clock().Now() + timeout;
  waiting_[id] = std::move(w);
  by_key_[key] = id;
  TryPropose(id);
}

void ConsensusManager::TryPropose(uint64_t id) {
  auto it = waiting_.find(id);
  if (it == waiting_.end()) return;
  Waiting& w = *it->second;
  w.timer = 0;
  const world::Instant now = env_.clock().Now();
  const bool leader_known = raft_ != nullptr && raft_->raft().lead() != raft::kNone;
  if (leader_known && raft_->Propose(w.op.SerializeAsString()).ok()) {
    // Proposing may have committed and applied the entry already (a disk that completes at once),
    // and Finish() freed `w`: look it up again.
    it = waiting_.find(id);
    if (it == waiting_.end()) return;
    Waiting& proposed = *it->second;
    // Proposed (or forwarded): the commit wait starts now.
    proposed.proposed = true;
    proposed.deadline = now + proposed.timeout;
    proposed.timer = env_.clock().After(proposed.timeout, [this, id] { Expire(id); });
    return;
  }
  if (now >= w.deadline) {
    Finish(id, absl::DeadlineExceededError(absl::StrCat(
                   "Failed to propose operation: leader is not established within ",
                   WholeSeconds(w.timeout), " secs")));
    return;
  }
  w.timer = env_.clock().After(std::min(kLeaderPoll, w.deadline - now), [this, id] { TryPropose(id); });
}

void ConsensusManager::Expire(uint64_t id) {
  auto it = waiting_.find(id);
  if (it == waiting_.end()) return;
  it->second->timer = 0;
  Finish(id, absl::DeadlineExceededError(absl::StrCat(
                 "Waiting for consensus operation commit failed. Timeout set at: ",
                 WholeSeconds(it->second->timeout), " seconds")));
}

void ConsensusManager::Finish(uint64_t id, const absl::Status& verdict) {
  auto it = waiting_.find(id);
  if (it == waiting_.end()) return;
  std::unique_ptr<Waiting> w = std::move(it->second);
  waiting_.erase(it);
  by_key_.erase(w->dedupe_key);
  if (w->timer != 0) env_.clock().Cancel(w->timer);
  for (Done& done : w->callers) done(verdict);
}

void ConsensusManager::Apply(const raftpb::Entry& entry) {
  consensuspb::Operation op;
  if (!op.ParseFromString(entry.data())) {
    QDSIM_LOG(env_.logger(), kError) << "consensus: entry " << entry.index() << " does not parse; skipped";
    return;
  }
  const absl::Status verdict = sm_.Apply(op);
  for (const Listener& listener : listeners_) listener(op, verdict);
  if (op.proposer() == env_.transport().Self()) Finish(op.proposal_id(), verdict);
}

absl::Status ConsensusManager::Restore(std::string_view data) {
  if (data.empty()) return absl::OkStatus();  // a new cluster's empty state
  absl::Status s = sm_.Restore(data);
  if (s.ok()) {
    for (const auto& listener : restore_listeners_) listener();
  }
  return s;
}

}  // namespace qdsim::consensus
