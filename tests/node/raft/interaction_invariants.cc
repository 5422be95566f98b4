// Safety invariants checked after every datadriven command (LogCabin habit): a specification file
// whose expected output contains "INVARIANT VIOLATED" documents a broken core, and the planted-bug
// tests require that these checks catch each in-core bug.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "interaction_env.h"

namespace qdsim::raft::testing {
namespace {

// Files may run several independent groups side by side (e.g. one with pre-vote, one without);
// a group is named by the smallest member id in a node's configuration (0: no configuration).
uint64_t GroupOf(const Raft& r) {
  const auto& progress = r.tracker().progress();
  return progress.empty() ? 0 : progress.begin()->first;
}

}  // namespace

std::vector<std::string> InteractionEnv::CheckInvariants() {
  std::vector<std::string> violations;
  for (const auto& [id, node] : nodes_) {
    const Raft& r = node.raw->raft();
    if (r.role() == StateRole::kLeader) {
      auto [it, inserted] = leader_of_term_.emplace(std::make_pair(GroupOf(r), r.term()), id);
      if (!inserted && it->second != id) {
        violations.push_back(absl::StrCat("two leaders in term ", r.term(), ": ", it->second,
                                          " and ", id));
      }
    }
    const uint64_t commit = r.log().committed();
    uint64_t& last = last_commit_[id];
    if (commit < last) {
      violations.push_back(absl::StrCat(id, ": commit went back from ", last, " to ", commit));
    }
    last = commit;
    if (r.log().applied() > commit) {
      violations.push_back(absl::StrCat(id, ": applied ", r.log().applied(), " > commit ", commit));
    }
  }
  // Committed prefixes agree wherever both nodes still hold the entry.
  for (auto a = nodes_.begin(); a != nodes_.end(); ++a) {
    for (auto b = std::next(a); b != nodes_.end(); ++b) {
      if (GroupOf(a->second.raw->raft()) != GroupOf(b->second.raw->raft())) continue;
      const raft::RaftLog& la = a->second.raw->raft().log();
      const raft::RaftLog& lb = b->second.raw->raft().log();
      const uint64_t hi = std::min(la.committed(), lb.committed());
      for (uint64_t i = std::max(la.FirstIndex(), lb.FirstIndex()); i <= hi; ++i) {
        if (la.TermOrZero(i) != lb.TermOrZero(i)) {
          violations.push_back(absl::StrCat("committed entry ", i, " differs between ", a->first,
                                            " and ", b->first));
          break;
        }
      }
    }
  }
  return violations;
}

}  // namespace qdsim::raft::testing
