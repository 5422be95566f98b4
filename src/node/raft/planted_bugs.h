// Planted bugs: deliberate, switchable deviations from correct Raft, used to prove that the
// simulator's checkers and the tests actually catch the class of bug they claim to catch.
//
// Every bug is off by default and switched at run time (no separate build). Each has a stable
// string name used by scenario files and the datadriven tests:
//
//   ASSIGN_OR_RETURN(raft::PlantedBug bug, raft::ParsePlantedBug("vote_without_log_check"));
//   config.planted_bugs.Set(bug);
//   if (config.planted_bugs.Has(raft::PlantedBug::kVoteWithoutLogCheck)) { ... }
//
// Some bugs act inside the Raft core; the others (marked "driver") are only carried here so that
// the code persisting Ready (src/node/consensus and the simulator) can read them from one place.
//
// Thread-safety: PlantedBugs is a value type (world/planted.h); no synchronisation.
#ifndef QDSIM_NODE_RAFT_PLANTED_BUGS_H_
#define QDSIM_NODE_RAFT_PLANTED_BUGS_H_

#include <cstddef>
#include <string_view>

#include "absl/status/statusor.h"
#include "node/world/planted.h"

namespace qdsim::raft {

enum class PlantedBug : size_t {
  // Core: the leader advances its commit index to any index replicated on a majority, even when
  // that entry is from an earlier term (the Figure 8 hazard of the Raft paper).
  kCommitOldTermByCounting = 0,
  // Core: (pre)votes are granted without checking that the candidate's log is at least as
  // up-to-date as the voter's, so a leader can be elected without committed entries.
  kVoteWithoutLogCheck,
  // Core: a follower that receives entries conflicting with its log keeps its own entries and
  // acknowledges anyway, so logs diverge under the same (index, term) prefix.
  kNoConflictTruncation,
  // Core: entries are handed to the application as soon as they are in the local log, before they
  // are committed.
  kApplyUncommitted,
  // Driver: messages that acknowledge entries or votes are sent before the entries / hard state
  // are synced to disk.
  kAckBeforeSync,
  // Driver: on restart the persisted vote is discarded (term kept), so a node can vote twice in
  // one term across a crash.
  kForgetVoteOnRestart,
  // Core: a node grants a vote in a term in which it already voted for another candidate.
  kDoubleVoteSameTerm,
  // Not a bug: the number of bugs above.
  kCount,
};

// The stable name of `bug`, e.g. "commit_old_term_by_counting". REQUIRES: bug != kCount.
std::string_view PlantedBugName(PlantedBug bug);

// The bug named `name`, or InvalidArgument listing the known names.
absl::StatusOr<PlantedBug> ParsePlantedBug(std::string_view name);

// A set of switched-on bugs. Default-constructed: all off (correct Raft).
using PlantedBugs = world::PlantedSet<PlantedBug>;

}  // namespace qdsim::raft

#endif  // QDSIM_NODE_RAFT_PLANTED_BUGS_H_
