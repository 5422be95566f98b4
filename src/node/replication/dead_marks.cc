#include "node/replication/dead_marks.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "node/world/log.h"
#include "node/world/records.h"

namespace qdsim::replication {
namespace {

constexpr char kFile[] = "replication/dead_marks";
constexpr uint8_t kMarkRecord = 1;
constexpr uint8_t kSettledRecord = 2;
constexpr world::Duration kRetryEvery = world::Seconds(1);

}  // namespace

DeadMarks::DeadMarks(world::Env& env, consensus::ConsensusManager& consensus) : env_(env), consensus_(consensus) {
  Load();
}

DeadMarks::~DeadMarks() {
  *alive_ = false;
  if (retry_timer_ != 0) env_.clock().Cancel(retry_timer_);
}

consensuspb::SetReplicaState DeadMarks::Mark(const std::string& collection, uint32_t shard,
                                            const consensuspb::Replica& replica,
                                            const std::vector<consensuspb::Replica>& witnesses) {
  consensuspb::SetReplicaState mark;
  mark.set_collection(collection);
  mark.set_shard_id(shard);
  mark.set_peer_id(replica.peer_id());
  mark.set_state(consensuspb::DEAD);
  // Compare-and-set on the life only: a Partial replica whose transfer finished meanwhile (now
  // Active) missed or took the write all the same.
  mark.set_from_generation(replica.generation());
  for (const auto& w : witnesses) *mark.add_witnesses() = w;
  return mark;
}

std::string DeadMarks::KeyOf(const consensuspb::SetReplicaState& mark) {
  std::string key = absl::StrCat(mark.collection(), "/", mark.shard_id(), "/", mark.peer_id(), "/",
                                 mark.from_generation(), "/", mark.from_state(), "|");
  for (const auto& w : mark.witnesses()) absl::StrAppend(&key, w.peer_id(), ":", w.generation(), ",");
  absl::StrAppend(&key, "+");
  for (const auto& r : mark.also_dead()) absl::StrAppend(&key, r.peer_id(), ":", r.generation(), ",");
  return key;
}

bool DeadMarks::Pending(const std::string& collection, uint32_t shard, const consensuspb::Replica& replica) const {
  for (const auto& [key, mark] : outstanding_) {
    if (mark.collection() != collection || mark.shard_id() != shard) continue;
    if (mark.peer_id() == replica.peer_id() && mark.from_generation() == replica.generation()) return true;
    for (const auto& r : mark.also_dead()) {
      if (r.peer_id() == replica.peer_id() && r.generation() == replica.generation()) return true;
    }
  }
  return false;
}

void DeadMarks::Load() {
  absl::StatusOr<std::string> bytes = world::ReadRecordFile(env_.disk(), kFile, /*whole_file_must_parse=*/false);
  if (!bytes.ok()) {
    if (!absl::IsNotFound(bytes.status())) {
      QDSIM_LOG(env_.logger(), kError) << "cannot read " << kFile << ": " << bytes.status();
    }
    return;
  }
  world::RecordReader reader(*bytes);
  while (auto record = reader.Next()) {
    consensuspb::SetReplicaState mark;
    if (!mark.ParseFromArray(record->payload.data(), static_cast<int>(record->payload.size()))) break;
    if (record->type == kMarkRecord) outstanding_[KeyOf(mark)] = mark;
    if (record->type == kSettledRecord) outstanding_.erase(KeyOf(mark));
  }
  if (!outstanding_.empty()) {
    QDSIM_LOG(env_.logger(), kInfo) << outstanding_.size() << " dead-marks left by an earlier run; retrying";
    ScheduleRetry();
  }
}

void DeadMarks::Propose(const consensuspb::SetReplicaState& mark, world::Duration timeout, Done done) {
  consensuspb::Operation op;
  *op.mutable_set_replica_state() = mark;
  // The consensus waits `timeout` for a leader and then `timeout` for the apply; a writer must
  // answer within its own deadline, so the whole wait is bounded here.
  auto state = std::make_shared<std::pair<bool, Done>>(false, std::move(done));
  const world::TimerId timer = env_.clock().After(timeout, [state] {
    if (std::exchange(state->first, true)) return;
    state->second(Outcome::kTimedOut);
  });
  consensus_.Propose(std::move(op), timeout, [this, alive = alive_, state, timer](absl::Status verdict) {
    if (std::exchange(state->first, true)) return;
    if (*alive) env_.clock().Cancel(timer);
    if (verdict.ok()) return state->second(Outcome::kApplied);
    if (absl::IsDeadlineExceeded(verdict)) return state->second(Outcome::kTimedOut);
    state->second(Outcome::kRefused);
  });
}

void DeadMarks::Persist(const consensuspb::SetReplicaState& mark, std::function<void(absl::Status)> done) {
  const std::string key = KeyOf(mark);
  absl::Status appended = env_.disk().Append(kFile, world::EncodeRecord(kMarkRecord, mark.SerializeAsString()));
  if (!appended.ok()) return done(appended);
  ++persisting_;
  env_.disk().Sync(kFile, [this, alive = alive_, key, mark, done = std::move(done)](absl::Status synced) {
    if (!*alive) return;
    --persisting_;
    if (synced.ok()) {
      QDSIM_LOG(env_.logger(), kInfo) << "dead-mark kept for retry: " << key;
      outstanding_[key] = mark;
      ScheduleRetry();
    }
    done(synced);
  });
}

void DeadMarks::ScheduleRetry() {
  if (retry_timer_ != 0) return;
  retry_timer_ = env_.clock().After(kRetryEvery, [this] {
    retry_timer_ = 0;
    Retry();
  });
}

void DeadMarks::Retry() {
  // A proposal may be applied before Propose returns (a disk that completes at once), and Settle
  // then erases its entry: walk a copy of the keys, and copy each mark before proposing it.
  std::vector<std::string> keys;
  keys.reserve(outstanding_.size());
  for (const auto& entry : outstanding_) keys.push_back(entry.first);
  for (const std::string& key : keys) {
    auto it = outstanding_.find(key);
    if (it == outstanding_.end() || in_flight_.count(key)) continue;
    const consensuspb::SetReplicaState mark = it->second;
    in_flight_[key] = true;
    Propose(mark, kRetryEvery * 2, [this, alive = alive_, key](Outcome outcome) {
      if (!*alive) return;
      in_flight_.erase(key);
      if (outcome != Outcome::kTimedOut) {
        QDSIM_LOG(env_.logger(), kInfo) << "dead-mark " << key << (outcome == Outcome::kApplied ? " applied" : " refused");
        Settle(key);
      }
    });
  }
  if (!outstanding_.empty()) ScheduleRetry();
}

void DeadMarks::Settle(const std::string& key) {
  auto it = outstanding_.find(key);
  if (it == outstanding_.end()) return;
  // Unsynced on purpose: if a crash loses this record, the mark is proposed again and refused
  // (its compare-and-set no longer matches) or re-applied harmlessly.
  (void)env_.disk().Append(kFile, world::EncodeRecord(kSettledRecord, it->second.SerializeAsString()));
  outstanding_.erase(it);
  if (outstanding_.empty() && in_flight_.empty() && persisting_ == 0) (void)env_.disk().Remove(kFile);
}

}  // namespace qdsim::replication
