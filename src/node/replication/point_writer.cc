#include "node/replication/point_writer.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "node/collection/hash_ring.h"
#include "node/collection/local_shards.h"
#include "node/collection/routing.h"
#include "node/shard/vectors.h"
#include "proto/replication.pb.h"

namespace qdsim::replication {
namespace {

// How long a part waits before trying again after a replica found its replica set stale.
constexpr world::Duration kStaleRetry = world::Millis(50);

// Errors that say the request itself is wrong: every replica would give the same one, and the
// replica that gave it is healthy.
bool IsUserError(const absl::Status& s) { return absl::IsInvalidArgument(s) || absl::IsNotFound(s); }

using consensus::FindReplica;

// Calls `done` once all of `n` parts answered: with OK, or with the first error by shard order.
class Join {
 public:
  Join(size_t n, PointWriter::Done done) : left_(n), done_(std::move(done)) {}
  PointWriter::Done Part(uint32_t shard) {
    return [this, shard](absl::Status s) {
      if (!s.ok()) errors_.emplace(shard, std::move(s));
      if (--left_ == 0) done_(errors_.empty() ? absl::OkStatus() : errors_.begin()->second);
    };
  }

 private:
  size_t left_;
  PointWriter::Done done_;
  std::map<uint32_t, absl::Status> errors_;
};

}  // namespace

// One part's fan-out to its shard's replicas (one attempt at a time).
struct PointWriter::Fanout {
  std::string collection;
  uint32_t shard = 0;
  shardpb::ShardOperation op;
  bool wait = true;
  world::Instant deadline;
  Done done;
  bool answered = false;            // `done` ran (wait=false answers early)
  // The attempt in progress.
  ShardReplicas replicas;           // the metadata's replicas when the attempt started
  uint32_t write_consistency_factor = 1;
  size_t outstanding = 0;           // replicas yet to answer
  std::vector<uint64_t> succeeded;
  std::vector<uint64_t> failed;
  absl::Status first_failure;       // of a replica failure (for the error message)
  absl::Status user_error;          // a replica's validation error
  bool stale = false;               // some replica found the replica set stale

  void Answer(absl::Status s) {
    if (answered) return;
    answered = true;
    done(std::move(s));
  }
};

PointWriter::PointWriter(world::Env& env, world::PeerId self, rpc::RpcEndpoint& rpc,
                         consensus::ConsensusManager& consensus, ReplicaService& replicas, DeadMarks& marks,
                         Config config)
    : env_(env), self_(self), rpc_(rpc), consensus_(consensus), replicas_(replicas), marks_(marks), config_(config) {
  rpc_.Handle(kForwardMethod, [this](world::PeerId, std::string body, rpc::RpcEndpoint::Reply reply) {
    replicationpb::ForwardedWrite w;
    if (!w.ParseFromString(body)) return reply(absl::InvalidArgumentError("malformed forwarded write"), "");
    const world::Instant deadline = env_.clock().Now() + world::Millis(static_cast<int64_t>(w.timeout_ms()));
    WriteShard(w.collection(), w.shard_id(), std::move(*w.mutable_op()), WriteOrdering::kWeak, w.wait(), deadline,
               [reply](absl::Status s) { reply(s, ""); });
  });
}

PointWriter::~PointWriter() { *alive_ = false; }

const consensuspb::ShardInfo* PointWriter::ShardNow(const std::string& collection, uint32_t shard,
                                                    const consensuspb::CollectionState** found) const {
  const consensuspb::CollectionState* c = consensus_.metadata().FindCollection(collection);
  if (found != nullptr) *found = c;
  if (c == nullptr || shard >= static_cast<uint32_t>(c->shards_size())) return nullptr;
  return &c->shards(shard);
}

absl::Status PointWriter::Validate(const consensuspb::CollectionState& c, const shardpb::ShardOperation& op) const {
  const google::protobuf::RepeatedPtrField<shardpb::Point>* points = nullptr;
  if (op.has_upsert()) points = &op.upsert().points();
  if (op.has_update_vectors()) points = &op.update_vectors().points();
  if (points == nullptr) return absl::OkStatus();
  const shard::ShardConfig config = collection::ShardConfigOf(c.params());
  for (const auto& p : *points) {
    for (const auto& [name, vector] : p.vectors().vectors()) {
      absl::Status s = shard::ValidateVector(config, name, vector);
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

void PointWriter::Write(const std::string& collection, const shardpb::ShardOperation& op,
                        const WriteOptions& options, Done done) {
  const consensuspb::CollectionState* c = consensus_.metadata().FindCollection(collection);
  if (c == nullptr) return done(consensus::CollectionNotFound(collection));
  if (absl::Status s = Validate(*c, op); !s.ok()) return done(s);
  const uint32_t shard_count = static_cast<uint32_t>(c->shards_size());
  std::map<uint32_t, shardpb::ShardOperation> parts =
      collection::SplitByShard(op, collection::HashRing::Fair(std::max<uint32_t>(shard_count, 1)), shard_count);
  if (parts.empty()) return done(absl::OkStatus());
  const world::Instant deadline = env_.clock().Now() + options.timeout;
  auto join = std::make_shared<Join>(parts.size(), std::move(done));
  for (auto& [shard, part] : parts) {
    WriteShard(c->name(), shard, std::move(part), options.ordering, options.wait, deadline,
               [join, part_done = join->Part(shard)](absl::Status s) { part_done(std::move(s)); });
  }
}

void PointWriter::WriteShard(const std::string& collection, uint32_t shard, shardpb::ShardOperation op,
                             WriteOrdering ordering, bool wait, world::Instant deadline, Done done) {
  const consensuspb::CollectionState* c = nullptr;
  const consensuspb::ShardInfo* info = ShardNow(collection, shard, &c);
  if (c == nullptr) return done(consensus::CollectionNotFound(collection));
  if (info == nullptr) {
    return done(absl::NotFoundError(absl::StrCat("Not found: shard ", shard, " of collection `", collection, "`")));
  }
  if (ordering != WriteOrdering::kWeak) {
    const ShardReplicas replicas(info->replicas().begin(), info->replicas().end());
    absl::StatusOr<std::vector<uint64_t>> via = WriteTargets(replicas, ordering);
    if (!via.ok()) return done(via.status());
    if (via->front() != self_) return Forward(via->front(), collection, shard, std::move(op), wait, deadline, std::move(done));
  }
  auto f = std::make_shared<Fanout>();
  f->collection = collection;
  f->shard = shard;
  f->op = std::move(op);
  f->wait = wait;
  f->deadline = deadline;
  f->done = std::move(done);
  FanOut(std::move(f));
}

void PointWriter::Forward(world::PeerId via, const std::string& collection, uint32_t shard,
                          shardpb::ShardOperation op, bool wait, world::Instant deadline, Done done) {
  const world::Duration left = std::max(deadline - env_.clock().Now(), world::Millis(1));
  replicationpb::ForwardedWrite w;
  w.set_collection(collection);
  w.set_shard_id(shard);
  *w.mutable_op() = std::move(op);
  w.set_wait(wait);
  w.set_timeout_ms(static_cast<uint64_t>(std::max<int64_t>(1, (left * 9 / 10).count() / 1000)));
  rpc_.Call(via, kForwardMethod, w.SerializeAsString(), left,
            [done = std::move(done)](absl::StatusOr<std::string> r) { done(r.status()); }, rpc::RpcEndpoint::kResendEvery);
}

void PointWriter::FanOut(std::shared_ptr<Fanout> f) {
  const consensuspb::CollectionState* c = nullptr;
  const consensuspb::ShardInfo* info = ShardNow(f->collection, f->shard, &c);
  if (info == nullptr) return f->Answer(consensus::CollectionNotFound(f->collection));
  f->replicas.assign(info->replicas().begin(), info->replicas().end());
  f->write_consistency_factor = c->params().write_consistency_factor();
  f->succeeded.clear();
  f->failed.clear();
  f->first_failure = absl::OkStatus();
  f->user_error = absl::OkStatus();
  f->stale = false;
  absl::StatusOr<std::vector<uint64_t>> targets = WriteTargets(f->replicas, WriteOrdering::kWeak);
  if (!targets.ok()) return f->Answer(targets.status());
  auto view = std::make_shared<std::vector<replicationpb::ReplicaRef>>();
  for (const auto& r : f->replicas) {
    if (!IsUpdatable(r.state())) continue;
    replicationpb::ReplicaRef ref;
    ref.set_peer_id(r.peer_id());
    ref.set_generation(r.generation());
    view->push_back(std::move(ref));
  }
  // Replicas get half of what is left: the rest is for marking the ones that fail.
  const world::Instant replicas_deadline =
      env_.clock().Now() + std::max((f->deadline - env_.clock().Now()) / 2, world::Millis(1));
  // A replica with a durable mark pending is as good as Dead: it is not waited for again.
  std::vector<uint64_t> send;
  for (uint64_t peer : *targets) {
    const consensuspb::Replica* r = FindReplica(f->replicas, peer);
    if (r != nullptr && marks_.Pending(f->collection, f->shard, *r)) {
      f->failed.push_back(peer);
    } else {
      send.push_back(peer);
    }
  }
  if (send.empty()) return Judge(f);
  // A transfer's Partial target takes writes only through its stream (transfers.h): it is sent the
  // write once the transfer's source took it, with the seq the source gave it, and answers when
  // the stream has brought it that far. So the target applies the source's operations in the
  // source's order, and a write is acknowledged only once the target holds it.
  std::map<uint64_t, std::vector<uint64_t>> after_source;  // source peer -> targets waiting for it
  std::vector<uint64_t> first;
  for (uint64_t peer : send) {
    const consensuspb::Replica* r = FindReplica(f->replicas, peer);
    const std::optional<uint64_t> source = r != nullptr ? TransferSource(*c, f->shard, *r) : std::nullopt;
    if (source && *source != peer && std::find(send.begin(), send.end(), *source) != send.end()) {
      after_source[*source].push_back(peer);
    } else {
      first.push_back(peer);
    }
  }
  f->outstanding = send.size();
  for (uint64_t peer : first) {
    auto it = after_source.find(peer);
    SendToReplica(f, view, replicas_deadline, peer, 0,
                  it == after_source.end() ? std::vector<uint64_t>{} : std::move(it->second));
  }
}

std::optional<uint64_t> PointWriter::TransferSource(const consensuspb::CollectionState& c, uint32_t shard,
                                                    const consensuspb::Replica& replica) {
  if (replica.state() != consensuspb::PARTIAL) return std::nullopt;
  for (const auto& t : c.transfers()) {
    if (t.shard_id() == shard && t.to() == replica.peer_id() && t.target_generation() == replica.generation()) {
      return t.from();
    }
  }
  return std::nullopt;
}

void PointWriter::SendToReplica(std::shared_ptr<Fanout> f,
                                std::shared_ptr<const std::vector<replicationpb::ReplicaRef>> view,
                                world::Instant replicas_deadline, uint64_t peer, uint64_t source_seq,
                                std::vector<uint64_t> targets_after) {
  const world::Duration timeout = std::max(replicas_deadline - env_.clock().Now(), world::Millis(1));
  replicas_.Apply(
      peer, f->collection, f->shard, f->op, *view, timeout,
      [this, alive = alive_, f, view, replicas_deadline, peer, targets_after](absl::StatusOr<uint64_t> seq) {
        if (!*alive) return;
        if (seq.ok()) {
          f->succeeded.push_back(peer);
          if (!f->wait) f->Answer(absl::OkStatus());
        } else if (absl::IsAborted(seq.status())) {
          f->stale = true;
        } else if (IsUserError(seq.status())) {
          if (f->user_error.ok()) f->user_error = seq.status();
        } else {
          f->failed.push_back(peer);
          if (f->first_failure.ok()) f->first_failure = seq.status();
        }
        for (uint64_t target : targets_after) {
          if (seq.ok()) {
            SendToReplica(f, view, replicas_deadline, target, *seq, {});
            continue;
          }
          // The source did not take it, so neither can its target: a source that failed is
          // marked, which ends the transfer (a refused write fails the same way everywhere).
          if (!absl::IsAborted(seq.status()) && !IsUserError(seq.status())) f->failed.push_back(target);
          --f->outstanding;
        }
        if (--f->outstanding == 0) Judge(f);
      },
      source_seq);
}

void PointWriter::Judge(std::shared_ptr<Fanout> f) {
  std::sort(f->succeeded.begin(), f->succeeded.end());
  std::sort(f->failed.begin(), f->failed.end());
  if (f->stale && env_.clock().Now() + kStaleRetry < f->deadline) {
    // Some replica knows of a replica this peer's metadata does not: wait for it and start again
    // (replicas that applied the operation already apply it again, to the same effect).
    env_.clock().After(kStaleRetry, [this, alive = alive_, f] {
      if (*alive) FanOut(f);
    });
    return;
  }
  WriteOutcome outcome = JudgeWrite(f->replicas, f->write_consistency_factor, f->succeeded, f->failed);
  absl::Status verdict = outcome.status;
  if (!f->user_error.ok()) verdict = f->user_error;
  if (f->stale && verdict.ok()) {
    verdict = absl::UnavailableError(absl::StrCat("replica set of shard ", f->shard, " of collection `",
                                                  f->collection, "` changed during the write"));
  }
  if (!verdict.ok() && !f->first_failure.ok() && f->user_error.ok()) {
    verdict = absl::Status(verdict.code(), absl::StrCat(verdict.message(), "; last error: ", f->first_failure.message()));
  }
  std::vector<consensuspb::Replica> to_mark;
  const bool mark = !config_.qdrant_dead_marking || verdict.ok();
  for (uint64_t peer : outcome.mark_dead) {
    const consensuspb::Replica* r = FindReplica(f->replicas, peer);
    if (mark && r != nullptr) to_mark.push_back(*r);
  }
  // A transfer target that took a write that failed would keep it when its transfer finishes, while
  // its source (which, being the last Active replica if the write failed, was not marked) lacks it:
  // mark the target too. (When the write succeeds, every Active replica that failed is marked,
  // sources included, which ends their transfers.)
  if (!config_.qdrant_dead_marking && !verdict.ok()) {
    for (uint64_t peer : f->succeeded) {
      const consensuspb::Replica* r = FindReplica(f->replicas, peer);
      if (r != nullptr && r->state() == consensuspb::PARTIAL) to_mark.push_back(*r);
    }
  }
  MarkDead(std::move(f), std::move(to_mark), std::move(verdict));
}

void PointWriter::Finish(std::shared_ptr<Fanout> f, absl::Status verdict) {
  if (!verdict.ok() || config_.qdrant_dead_marking) return f->Answer(std::move(verdict));
  // Every Active replica the shard has now must be one that took the write. A replica that became
  // Active meanwhile (a transfer that finished, built from a source that had not seen the write
  // yet or had missed it) would otherwise lack an acknowledged write: write again, to the new set.
  const consensuspb::ShardInfo* info = ShardNow(f->collection, f->shard);
  if (info == nullptr) return f->Answer(consensus::CollectionNotFound(f->collection));
  for (const auto& now : info->replicas()) {
    if (now.state() != consensuspb::ACTIVE || marks_.Pending(f->collection, f->shard, now)) continue;
    const consensuspb::Replica* then = FindReplica(f->replicas, now.peer_id());
    const bool took_it = then != nullptr && then->generation() == now.generation() &&
                         std::binary_search(f->succeeded.begin(), f->succeeded.end(), now.peer_id());
    if (took_it) continue;
    if (env_.clock().Now() + kStaleRetry >= f->deadline) {
      return f->Answer(absl::UnavailableError(absl::StrCat("Service unavailable: the replicas of shard ", f->shard,
                                                           " of collection `", f->collection,
                                                           "` changed during the write")));
    }
    env_.clock().After(kStaleRetry, [this, alive = alive_, f] {
      if (*alive) FanOut(f);
    });
    return;
  }
  f->Answer(std::move(verdict));
}

void PointWriter::MarkDead(std::shared_ptr<Fanout> f, std::vector<consensuspb::Replica> failed, absl::Status verdict) {
  if (failed.empty()) return Finish(std::move(f), std::move(verdict));
  if (config_.qdrant_dead_marking) {
    for (const auto& r : failed) {
      marks_.Propose(DeadMarks::Mark(f->collection, f->shard, r), world::Seconds(30), [](DeadMarks::Outcome) {});
    }
    return f->Answer(std::move(verdict));
  }
  // The replicas that missed the write are marked together, in one operation: marked one by one,
  // one of them could be picked as the source that rebuilds another. The mark holds only if a
  // replica that took the write is still Active (a writer with stale metadata may have counted a
  // success on a replica that is Dead already).
  std::vector<consensuspb::Replica> witnesses;
  for (uint64_t peer : f->succeeded) {
    const consensuspb::Replica* r = FindReplica(f->replicas, peer);
    if (r != nullptr && r->state() == consensuspb::ACTIVE) witnesses.push_back(*r);
  }
  consensuspb::SetReplicaState mark = DeadMarks::Mark(f->collection, f->shard, failed.front(), witnesses);
  for (size_t i = 1; i < failed.size(); ++i) *mark.add_also_dead() = failed[i];
  // A mark consensus cannot decide in time is kept and retried either way: the replicas that took
  // the write keep it even if the write fails, so the ones that missed it must still be rebuilt
  // for the replicas to agree. The write is acknowledged meanwhile only where marks may be
  // deferred (at most two voters).
  const bool defer = !config_.may_defer_marks || config_.may_defer_marks();
  auto persist = [this, alive = alive_, f, verdict, defer, mark] {
    marks_.Persist(mark, [this, alive, f, verdict, defer, mark](absl::Status s) {
      if (!*alive) return;
      if (!s.ok()) return Finish(f, s);
      if (defer) return Finish(f, verdict);
      Finish(f, absl::UnavailableError(absl::StrCat(
                    "Service unavailable: a replica of shard ", mark.shard_id(), " (peer ", mark.peer_id(),
                    ") missed the update and could not be marked dead (no consensus majority reachable)")));
    });
  };
  bool pending = false;
  for (const auto& r : failed) pending |= marks_.Pending(f->collection, f->shard, r);
  if (pending) return persist();  // consensus could not take it a moment ago: no second timeout
  const world::Duration budget = std::max((f->deadline - env_.clock().Now()) * 9 / 10, world::Millis(1));
  marks_.Propose(mark, budget, [this, alive = alive_, f, verdict, failed, persist](DeadMarks::Outcome outcome) {
    if (!*alive) return;
    if (outcome == DeadMarks::Outcome::kTimedOut) return persist();
    // Applied or refused: each replica must have left that life or no longer take writes. One
    // that still does (the shard's last Active replica, or the mark lost its witnesses: the
    // replicas that took the write were marked and rebuilt meanwhile) holds the shard without
    // the write while others have it: the whole write is tried again while time is left, so that
    // the replicas agree whether or not it succeeds; else it fails.
    if (const consensuspb::ShardInfo* info = ShardNow(f->collection, f->shard)) {
      for (const auto& now : info->replicas()) {
        for (const auto& missed : failed) {
          if (now.peer_id() == missed.peer_id() && now.generation() == missed.generation() &&
              IsUpdatable(now.state())) {
            if (env_.clock().Now() + kStaleRetry < f->deadline) {
              env_.clock().After(kStaleRetry, [this, alive, f] {
                if (*alive) FanOut(f);
              });
              return;
            }
            return Finish(f, absl::UnavailableError(absl::StrCat(
                                 "Service unavailable: replica of shard ", f->shard, " on peer ", now.peer_id(),
                                 " missed the update and is the last Active replica; the update is not "
                                 "acknowledged")));
          }
        }
      }
    }
    Finish(f, verdict);
  });
}

}  // namespace qdsim::replication
