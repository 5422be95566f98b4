#include "node/raft/config.h"

namespace qdsim::raft {

absl::Status Config::Validate() const {
  if (id == kNone) return absl::InvalidArgumentError("raft config: id must not be 0");
  if (heartbeat_tick <= 0) {
    return absl::InvalidArgumentError("raft config: heartbeat_tick must be greater than 0");
  }
  if (election_tick <= heartbeat_tick) {
    return absl::InvalidArgumentError(
        "raft config: election_tick must be greater than heartbeat_tick");
  }
  if (storage == nullptr) return absl::InvalidArgumentError("raft config: storage is required");
  if (random == nullptr) return absl::InvalidArgumentError("raft config: random is required");
  if (max_inflight_msgs <= 0) {
    return absl::InvalidArgumentError("raft config: max_inflight_msgs must be greater than 0");
  }
  return absl::OkStatus();
}

}  // namespace qdsim::raft
