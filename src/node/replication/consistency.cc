#include "node/replication/consistency.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "node/consensus/cluster_state.h"
#include "node/world/strings.h"

namespace qdsim::replication {

using consensus::FindReplica;

absl::StatusOr<WriteOrdering> ParseWriteOrdering(std::string_view text) {
  if (text.empty() || text == "weak") return WriteOrdering::kWeak;
  if (text == "medium") return WriteOrdering::kMedium;
  if (text == "strong") return WriteOrdering::kStrong;
  return absl::InvalidArgumentError(
      absl::StrCat("Bad request: ordering must be one of weak, medium, strong (got ", world::Sv(text), ")"));
}

bool IsUpdatable(ReplicaState state) {
  return state == consensuspb::ACTIVE || state == consensuspb::PARTIAL ||
         state == consensuspb::INITIALIZING || state == consensuspb::LISTENER;
}

bool IsReadable(ReplicaState state) { return state == consensuspb::ACTIVE; }

absl::StatusOr<std::vector<uint64_t>> WriteTargets(const ShardReplicas& replicas, WriteOrdering ordering) {
  switch (ordering) {
    case WriteOrdering::kWeak: {
      // No write succeeds without an Active replica, and one sent to the others would fail having
      // changed some of them (nor could they be marked Dead: nothing would recover them). Refused
      // before anything is sent, as Qdrant does.
      const bool any_active = std::any_of(replicas.begin(), replicas.end(),
                                          [](const auto& r) { return r.state() == consensuspb::ACTIVE; });
      if (!any_active) return absl::UnavailableError("No active replica to apply the update to");
      std::vector<uint64_t> targets;
      for (const auto& r : replicas) {
        if (IsUpdatable(r.state())) targets.push_back(r.peer_id());
      }
      std::sort(targets.begin(), targets.end());
      return targets;
    }
    case WriteOrdering::kMedium: {
      std::optional<uint64_t> best;
      for (const auto& r : replicas) {
        if (r.state() == consensuspb::ACTIVE && (!best || r.peer_id() > *best)) best = r.peer_id();
      }
      if (!best) return absl::UnavailableError("No active replica to apply the update to");
      return std::vector<uint64_t>{*best};
    }
    case WriteOrdering::kStrong: {
      const consensuspb::Replica* highest = nullptr;
      for (const auto& r : replicas) {
        if (highest == nullptr || r.peer_id() > highest->peer_id()) highest = &r;
      }
      if (highest == nullptr || highest->state() != consensuspb::ACTIVE) {
        return absl::UnavailableError("The replica for strong ordering is not active");
      }
      return std::vector<uint64_t>{highest->peer_id()};
    }
  }
  return absl::InternalError("unknown ordering");
}

WriteOutcome JudgeWrite(const ShardReplicas& replicas, uint32_t write_consistency_factor,
                        const std::vector<uint64_t>& succeeded, const std::vector<uint64_t>& failed) {
  WriteOutcome out;
  const size_t attempted = succeeded.size() + failed.size();
  const size_t needed = std::min<size_t>(std::max<uint32_t>(write_consistency_factor, 1), attempted);
  bool active_success = false;
  for (uint64_t peer : succeeded) {
    const consensuspb::Replica* r = FindReplica(replicas, peer);
    active_success |= r != nullptr && r->state() == consensuspb::ACTIVE;
  }
  // Mark failed replicas dead, but never leave the shard without an Active replica.
  size_t active_left = 0;
  for (const auto& r : replicas) active_left += r.state() == consensuspb::ACTIVE;
  for (uint64_t peer : failed) {
    const consensuspb::Replica* r = FindReplica(replicas, peer);
    if (r == nullptr) continue;
    if (r->state() == consensuspb::ACTIVE) {
      if (active_left <= 1) continue;  // the last Active replica is never marked dead
      --active_left;
    }
    out.mark_dead.push_back(peer);
  }
  if (attempted == 0) {
    out.status = absl::UnavailableError("No active replica to apply the update to");
  } else if (succeeded.size() < needed) {
    out.status = absl::UnavailableError(absl::StrCat(
        "Failed to apply operation to at least `write_consistency_factor` replicas. Consistency factor: ",
        write_consistency_factor, ", successful: ", succeeded.size(), ", attempted: ", attempted));
  } else if (!active_success) {
    out.status = absl::UnavailableError("No active replica applied the update");
  }
  return out;
}

absl::StatusOr<ReadConsistency> ParseReadConsistency(std::string_view text) {
  ReadConsistency c;
  if (text.empty()) return c;
  if (text == "majority") {
    c.kind = ReadConsistency::Kind::kMajority;
  } else if (text == "quorum") {
    c.kind = ReadConsistency::Kind::kQuorum;
  } else if (text == "all") {
    c.kind = ReadConsistency::Kind::kAll;
  } else if (!absl::SimpleAtoi(world::Sv(text), &c.count) || c.count == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Bad request: consistency must be a positive integer, majority, quorum or all (got ", world::Sv(text), ")"));
  }
  return c;
}

uint32_t RequiredReads(const ReadConsistency& consistency, const ShardReplicas& replicas) {
  uint32_t readable = 0;
  for (const auto& r : replicas) readable += IsReadable(r.state());
  const uint32_t total = static_cast<uint32_t>(replicas.size());
  uint32_t n = 1;
  switch (consistency.kind) {
    case ReadConsistency::Kind::kCount: n = consistency.count; break;
    case ReadConsistency::Kind::kMajority: n = readable / 2 + 1; break;
    case ReadConsistency::Kind::kQuorum: n = total / 2 + 1; break;
    case ReadConsistency::Kind::kAll: n = readable; break;
  }
  return std::max<uint32_t>(1, std::min(n, std::max<uint32_t>(readable, 1)));
}

std::vector<uint64_t> ReadOrder(const ShardReplicas& replicas, uint64_t local_peer) {
  std::vector<uint64_t> order;
  for (const auto& r : replicas) {
    if (IsReadable(r.state())) order.push_back(r.peer_id());
  }
  std::sort(order.begin(), order.end());
  auto local = std::find(order.begin(), order.end(), local_peer);
  if (local != order.end()) std::rotate(order.begin(), local, local + 1);
  return order;
}

}  // namespace qdsim::replication
