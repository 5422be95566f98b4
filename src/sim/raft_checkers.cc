#include "sim/raft_checkers.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "node/world/crc32c.h"

namespace qdsim::sim {
namespace {

uint64_t EntryHash(const raftpb::Entry& e) {
  return (static_cast<uint64_t>(e.type()) << 32) | world::Crc32c(e.data());
}

const char* RoleName(raft::StateRole role) {
  switch (role) {
    case raft::StateRole::kFollower: return "follower";
    case raft::StateRole::kPreCandidate: return "pre-candidate";
    case raft::StateRole::kCandidate: return "candidate";
    case raft::StateRole::kLeader: return "leader";
  }
  return "?";
}

}  // namespace

void RaftHistory::Report(const std::string& check, std::string detail) {
  findings[check].push_back(std::move(detail));
}

uint64_t RaftHistory::TermAt(uint64_t node, uint64_t index) const {
  const raft::RaftNode* n = lookup_(node);
  return n == nullptr ? 0 : n->raft().log().TermOrZero(index);
}

void RaftHistory::OnRecovered(uint64_t node, const raft::DurableLog::Recovered& state) {
  auto it = nodes_.find(node);
  if (it == nodes_.end()) return;
  const NodeRecord& rec = it->second;
  const uint64_t term = state.hard_state.term();
  if (term < rec.max_acked_term) {
    Report("durability", absl::StrFormat("n%d recovered term %d but had acknowledged messages in term %d",
                                         node, term, rec.max_acked_term));
    return;
  }
  if (auto v = rec.votes.find(term); v != rec.votes.end() && state.hard_state.vote() != v->second) {
    Report("durability", absl::StrFormat("n%d granted its vote in term %d to n%d but recovered vote=%d",
                                         node, term, v->second, state.hard_state.vote()));
    return;
  }
  const Promise& p = rec.appended;
  if (p.index == 0 || term > p.msg_term) return;  // a later term may have legitimately replaced it
  const uint64_t snap_index = state.snapshot ? state.snapshot->metadata().index() : 0;
  if (p.index <= snap_index) return;  // covered by a snapshot of committed state
  for (const auto& e : state.entries) {
    if (e.index() == p.index && e.term() == p.entry_term) return;
  }
  Report("durability", absl::StrFormat("n%d acknowledged entry %d (term %d) in term %d but recovered "
                                       "without it (term %d, %d entries after index %d)",
                                       node, p.index, p.entry_term, p.msg_term, term,
                                       state.entries.size(), snap_index));
}

void RaftHistory::OnDurable(uint64_t node, const raftpb::HardState& hs,
                            const std::vector<raftpb::Entry>& entries, uint64_t first_prev_term) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const raftpb::Entry& e = entries[i];
    const uint64_t prev_term = i > 0 ? entries[i - 1].term() : first_prev_term;
    const auto key = std::make_pair(e.index(), e.term());
    const auto value = std::make_pair(EntryHash(e), prev_term);
    auto [it, inserted] = entries_.emplace(key, value);
    if (!inserted && it->second != value) {
      Report("log_matching", absl::StrFormat(
          "n%d holds entry (index %d, term %d) with hash %x after term %d; another node holds it with "
          "hash %x after term %d", node, e.index(), e.term(), value.first, value.second,
          it->second.first, it->second.second));
      return;
    }
  }
}

void RaftHistory::OnSend(uint64_t node, const raftpb::Message& m) {
  NodeRecord& rec = nodes_[node];
  if (m.type() == raftpb::MSG_APP_RESP && !m.reject()) {
    rec.max_acked_term = std::max(rec.max_acked_term, m.term());
    if (m.term() > rec.appended.msg_term ||
        (m.term() == rec.appended.msg_term && m.index() >= rec.appended.index)) {
      rec.appended = Promise{m.term(), m.index(), TermAt(node, m.index())};
    }
  } else if (m.type() == raftpb::MSG_VOTE_RESP && !m.reject()) {
    rec.max_acked_term = std::max(rec.max_acked_term, m.term());
    auto [it, inserted] = rec.votes.emplace(m.term(), m.to());
    if (!inserted && it->second != m.to()) {
      Report("election_safety", absl::StrFormat("n%d voted twice in term %d: for n%d and n%d", node,
                                                m.term(), it->second, m.to()));
    }
  }
}

void RaftHistory::OnApply(uint64_t node, const raftpb::Entry& e) {
  const raft::RaftNode* n = lookup_(node);
  if (n != nullptr && e.index() > n->raft().log().committed()) {
    Report("monotonic_commit", absl::StrFormat("n%d applies index %d beyond its commit index %d", node,
                                               e.index(), n->raft().log().committed()));
  }
  const auto value = std::make_pair(e.term(), EntryHash(e));
  auto [it, inserted] = applied_.emplace(e.index(), value);
  if (!inserted && it->second != value) {
    Report("state_machine_safety", absl::StrFormat(
        "n%d applied (term %d, hash %x) at index %d where another node applied (term %d, hash %x)", node,
        e.term(), value.second, e.index(), it->second.first, it->second.second));
  }
  committed_.emplace(e.index(), std::make_pair(e.term(), n != nullptr ? n->raft().term() : e.term()));
  if (faults_end && !commit_after_faults) {
    auto p = proposed_at.find(e.data());
    if (p != proposed_at.end() && p->second >= *faults_end) commit_after_faults = now_();
  }
}

void RaftHistory::OnRestore(uint64_t node, const raftpb::SnapshotMetadata& meta) {
  auto it = committed_.find(meta.index());
  if (it != committed_.end() && it->second.first != meta.term()) {
    Report("state_machine_safety", absl::StrFormat(
        "n%d restored a snapshot at index %d term %d, but index %d was committed with term %d", node,
        meta.index(), meta.term(), meta.index(), it->second.first));
  }
}

void RaftHistory::OnRoleChange(uint64_t node, raft::StateRole role, uint64_t term, uint64_t lead) {
  max_term = std::max(max_term, term);
  if (role != raft::StateRole::kLeader) return;
  ++leaders_elected;
  auto [it, inserted] = leader_of_term_.emplace(term, node);
  if (!inserted && it->second != node) {
    Report("election_safety", absl::StrFormat("two leaders in term %d: n%d and n%d", term, it->second, node));
    return;
  }
  const raft::RaftNode* n = lookup_(node);
  if (n == nullptr) return;
  const auto& log = n->raft().log();
  const uint64_t first = log.FirstIndex();
  for (const auto& [index, terms] : committed_) {
    const auto [committed_term, commit_term_bound] = terms;
    if (index < first) continue;                // compacted into the leader's snapshot
    if (commit_term_bound >= term) continue;    // committed in this term or later: not binding
    const uint64_t t = log.TermOrZero(index);
    if (t != committed_term) {
      Report("leader_completeness", absl::StrFormat(
          "n%d became %s of term %d without committed entry %d (term %d); its log has term %d there",
          node, RoleName(role), term, index, committed_term, t));
      return;
    }
  }
}

namespace {

// Reports one check's findings as they appear.
class FindingsChecker : public Checker {
 public:
  FindingsChecker(std::string name, RaftHistory& history) : name_(std::move(name)), history_(history) {}
  std::string_view name() const override { return name_; }
  void AfterEvent(Simulation& sim) override {
    auto it = history_.findings.find(name_);
    if (it == history_.findings.end() || it->second.empty()) return;
    sim.ReportViolation(name_, it->second.front());
    it->second.clear();
  }

 protected:
  std::string name_;
  RaftHistory& history_;
};

// Also watches every node's commit and applied index after every event.
class MonotonicChecker : public FindingsChecker {
 public:
  MonotonicChecker(RaftHistory& h, RaftHistory::NodeLookup lookup, uint32_t nodes)
      : FindingsChecker("monotonic_commit", h), lookup_(std::move(lookup)), nodes_(nodes) {}
  void AfterEvent(Simulation& sim) override {
    for (uint64_t id = 1; id <= nodes_; ++id) {
      const raft::RaftNode* n = lookup_(id);
      if (n == nullptr) continue;
      Watch& w = watch_[id];
      const uint64_t inc = sim.incarnation(id);
      const uint64_t commit = n->raft().log().committed();
      const uint64_t applied = n->applied();
      if (w.incarnation == inc && (commit < w.commit || applied < w.applied)) {
        history_.Report(name_, absl::StrFormat("n%d went back: commit %d -> %d, applied %d -> %d", id,
                                               w.commit, commit, w.applied, applied));
      }
      if (applied > commit) {
        history_.Report(name_, absl::StrFormat("n%d applied %d beyond commit %d", id, applied, commit));
      }
      w = Watch{inc, commit, applied};
    }
    FindingsChecker::AfterEvent(sim);
  }

 private:
  struct Watch {
    uint64_t incarnation = 0, commit = 0, applied = 0;
  };
  RaftHistory::NodeLookup lookup_;
  uint32_t nodes_;
  std::map<uint64_t, Watch> watch_;
};

// The commit rule: a leader counts replicas only for entries of its current term, so whenever its
// commit index moves during its leadership it lands on an entry of that term (earlier entries are
// committed indirectly, below it).
class CommitRuleChecker : public Checker {
 public:
  CommitRuleChecker(RaftHistory::NodeLookup lookup, uint32_t nodes) : lookup_(std::move(lookup)), nodes_(nodes) {}
  std::string_view name() const override { return "commit_rule"; }
  void AfterEvent(Simulation& sim) override {
    for (uint64_t id = 1; id <= nodes_; ++id) {
      const raft::RaftNode* n = lookup_(id);
      if (n == nullptr || n->raft().role() != raft::StateRole::kLeader) {
        seen_.erase(id);
        continue;
      }
      const uint64_t term = n->raft().term(), commit = n->raft().log().committed();
      const Seen now{sim.incarnation(id), term, commit};
      auto it = seen_.find(id);
      const bool same_reign = it != seen_.end() && it->second.incarnation == now.incarnation &&
                              it->second.term == term;
      if (same_reign && commit > it->second.commit) {
        const uint64_t entry_term = n->raft().log().TermOrZero(commit);
        if (entry_term != term) {
          sim.ReportViolation("commit_rule", absl::StrFormat(
              "leader n%d of term %d advanced its commit index %d -> %d onto an entry of term %d",
              id, term, it->second.commit, commit, entry_term));
        }
      }
      seen_[id] = now;
    }
  }

 private:
  struct Seen {
    uint64_t incarnation, term, commit;
  };
  RaftHistory::NodeLookup lookup_;
  uint32_t nodes_;
  std::map<uint64_t, Seen> seen_;  // leaders only: what their reign looked like after the last event
};

// By the end of the run every node is a voter (learners added during the run were promoted).
class AllVotersChecker : public Checker {
 public:
  AllVotersChecker(RaftHistory::NodeLookup lookup, uint32_t nodes) : lookup_(std::move(lookup)), nodes_(nodes) {}
  std::string_view name() const override { return "all_voters"; }
  void AtEnd(Simulation& sim) override {
    for (uint64_t id = 1; id <= nodes_; ++id) {
      const raft::RaftNode* n = lookup_(id);
      if (n == nullptr || n->raft().role() != raft::StateRole::kLeader) continue;
      const auto& voters = n->conf_state().voters();
      if (static_cast<uint32_t>(voters.size()) == nodes_) return;
      sim.ReportViolation("all_voters", absl::StrFormat("leader n%d ends with %d voters and %d learners of %d nodes",
                                                        id, voters.size(), n->conf_state().learners_size(), nodes_));
      return;
    }
    sim.ReportViolation("all_voters", "no leader at the end of the run");
  }

 private:
  RaftHistory::NodeLookup lookup_;
  uint32_t nodes_;
};

class LivenessChecker : public Checker {
 public:
  explicit LivenessChecker(RaftHistory& h) : history_(h) {}
  std::string_view name() const override { return "liveness"; }
  void AtEnd(Simulation& sim) override {
    if (!history_.faults_end) return;
    if (!history_.commit_after_faults) {
      sim.ReportViolation("liveness", absl::StrFormat(
          "no proposal made after the faults ended (at %.3f s) committed by the end (%.3f s)",
          world::ToSeconds(*history_.faults_end), world::ToSeconds(sim.now())));
    }
  }
  std::vector<std::string> Report() const override {
    std::vector<std::string> lines = {absl::StrFormat("raft: %d leaders elected, highest term %d",
                                                      history_.leaders_elected, history_.max_term)};
    if (history_.faults_end && history_.commit_after_faults) {
      lines.push_back(absl::StrFormat("liveness: a proposal committed %.3f s after the faults ended",
                                      world::ToSeconds(*history_.commit_after_faults - *history_.faults_end)));
    }
    return lines;
  }

 private:
  RaftHistory& history_;
};

}  // namespace

std::vector<std::string> RaftCheckNames() {
  return {"election_safety", "log_matching", "leader_completeness", "state_machine_safety",
          "monotonic_commit", "commit_rule", "durability", "liveness", "all_voters"};
}

std::unique_ptr<Checker> MakeRaftChecker(std::string_view name, RaftHistory& history,
                                         RaftHistory::NodeLookup lookup, uint32_t nodes) {
  if (name == "liveness") return std::make_unique<LivenessChecker>(history);
  if (name == "commit_rule") return std::make_unique<CommitRuleChecker>(std::move(lookup), nodes);
  if (name == "all_voters") return std::make_unique<AllVotersChecker>(std::move(lookup), nodes);
  if (name == "monotonic_commit") return std::make_unique<MonotonicChecker>(history, std::move(lookup), nodes);
  return std::make_unique<FindingsChecker>(std::string(name), history);
}

}  // namespace qdsim::sim
