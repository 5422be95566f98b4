#include "sim/qdrant_checkers.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "node/collection/hash_ring.h"
#include "node/shard/point_id.h"
#include "node/shard/vectors.h"
#include "node/collection/local_shards.h"
#include "node/world/siphash.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "sim/simulation.h"

namespace qdsim::sim {

Node* MostAdvancedNode(QdrantView& v) {
  Node* best = nullptr;
  for (world::PeerId id = 1; id <= v.nodes; ++id) {
    Node* n = v.node(id);
    if (n != nullptr && (best == nullptr || n->raft().applied() > best->raft().applied())) best = n;
  }
  return best;
}

namespace {

using world::PeerId;

// The workload collection as the most advanced running node has it, and that node.
const consensuspb::CollectionState* AgreedCollection(QdrantView& v, PeerId* holder = nullptr) {
  Node* best = MostAdvancedNode(v);
  if (best == nullptr) return nullptr;
  if (holder) *holder = best->id();
  return best->consensus().metadata().FindCollection(v.history->collection);
}

// A point as a replica holds it, without its version (replicas number operations themselves).
std::string Canonical(const shard::PointRecord& r) {
  shardpb::Point p;
  *p.mutable_id() = r.id;
  if (r.vectors) *p.mutable_vectors() = *r.vectors;
  if (r.payload) *p.mutable_payload() = *r.payload;
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  p.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

// Every point of one replica: id -> canonical bytes. Null if the replica is not open.
std::optional<std::map<shard::PointKey, std::string>> ReplicaPoints(Node& n, const std::string& collection,
                                                                     uint32_t shard_id, uint64_t generation) {
  shard::ShardStore* store = n.local_shards().Find(collection, shard_id, generation);
  if (store == nullptr) return std::nullopt;
  shard::ScrollRequest request;
  request.limit = std::max<uint64_t>(store->points_count(), 1) + 1;
  request.with_payload = true;
  request.with_vector.all = true;
  absl::StatusOr<shard::ScrollPage> page = store->Scroll(request);
  if (!page.ok()) return std::nullopt;
  std::map<shard::PointKey, std::string> points;
  for (const auto& r : page->points) {
    if (auto key = shard::PointKey::From(r.id); key.ok()) points[*key] = Canonical(r);
  }
  return points;
}

// One metadata view everywhere, every replica Active, no transfers, every peer ready; else false
// with the reason in *why.
bool ClusterConverged(QdrantView& v, std::string* why) {
  auto no = [why](std::string reason) {
    *why = std::move(reason);
    return false;
  };
  std::optional<std::string> image;
  for (PeerId id = 1; id <= v.nodes; ++id) {
    Node* n = v.node(id);
    if (n == nullptr) continue;
    if (!n->Ready()) return no(absl::StrCat("peer ", id, " not ready"));
    std::string s = n->consensus().metadata().Snapshot();
    if (image && s != *image) return no(absl::StrCat("peer ", id, " has other metadata"));
    image = std::move(s);
  }
  const consensuspb::CollectionState* c = AgreedCollection(v);
  if (c == nullptr) return !v.history->collection_created || no("collection missing");
  if (!c->transfers().empty()) return no("transfers running");
  for (const auto& shard : c->shards()) {
    for (const auto& r : shard.replicas()) {
      if (r.state() != consensuspb::ACTIVE) {
        return no(absl::StrCat("replica of shard ", shard.shard_id(), " on peer ", r.peer_id(), " is ",
                               consensuspb::ReplicaState_Name(r.state())));
      }
    }
  }
  return true;
}

// ---- metadata_agreement ------------------------------------------------------------------------

class MetadataAgreement : public Checker {
 public:
  explicit MetadataAgreement(QdrantView& v) : v_(v) {}
  std::string_view name() const override { return "metadata_agreement"; }
  void AfterEvent(Simulation& sim) override {
    for (PeerId id = 1; id <= v_.nodes; ++id) {
      Node* n = v_.node(id);
      if (n == nullptr) continue;
      const uint64_t applied = n->raft().applied();
      if (last_[id] == applied) continue;
      last_[id] = applied;
      world::SipHasher24 hasher;
      hasher.Write(n->consensus().metadata().Snapshot());
      const uint64_t hash = hasher.Finish();
      auto [it, fresh] = at_index_.emplace(applied, std::make_pair(hash, id));
      if (!fresh && it->second.first != hash) {
        sim.ReportViolation("metadata_agreement",
                            absl::StrCat("after applying index ", applied, " peer ", id, " and peer ",
                                         it->second.second, " hold different metadata"));
      }
    }
  }
  void AtEnd(Simulation& sim) override {
    std::optional<std::string> first;
    for (PeerId id = 1; id <= v_.nodes; ++id) {
      Node* n = v_.node(id);
      if (n == nullptr) continue;
      std::string image = n->consensus().metadata().Snapshot();
      if (!first) first = image;
      if (image != *first) {
        sim.ReportViolation("metadata_agreement", absl::StrCat("peer ", id, " ends with different metadata"));
        return;
      }
    }
  }

 private:
  QdrantView& v_;
  std::map<PeerId, uint64_t> last_;                              // last applied index seen per node
  std::map<uint64_t, std::pair<uint64_t, PeerId>> at_index_;     // index -> (state hash, first node)
};

// ---- acked_writes and replica_convergence -------------------------------------------------------

class AckedWrites : public Checker {
 public:
  explicit AckedWrites(QdrantView& v) : v_(v) {}
  std::string_view name() const override { return "acked_writes"; }
  void AtEnd(Simulation& sim) override {
    const consensuspb::CollectionState* c = AgreedCollection(v_);
    if (c == nullptr) {
      if (v_.history->acked_points > 0) sim.ReportViolation(name_, "the workload's collection is gone");
      return;
    }
    const collection::HashRing ring = collection::HashRing::Fair(c->shards_size());
    const shard::ShardConfig config = collection::ShardConfigOf(c->params());
    std::map<uint32_t, std::vector<std::pair<PeerId, std::map<shard::PointKey, std::string>>>> replicas;
    for (const auto& shard : c->shards()) {
      for (const auto& r : shard.replicas()) {
        if (r.state() != consensuspb::ACTIVE) continue;
        Node* n = v_.node(r.peer_id());
        if (n == nullptr) continue;
        auto points = ReplicaPoints(*n, c->name(), shard.shard_id(), r.generation());
        if (!points) {
          sim.ReportViolation(name_, absl::StrCat("Active replica of shard ", shard.shard_id(), " on peer ",
                                                  r.peer_id(), " is not open"));
          return;
        }
        replicas[shard.shard_id()].emplace_back(r.peer_id(), std::move(*points));
      }
    }
    for (const auto& [id, model] : v_.history->points) {
      if (model.uncertain) continue;
      ++checked_;
      const shardpb::PointId pid = shard::NumId(id);
      const uint32_t shard = ring.ShardOfNumber(id);
      for (const auto& [peer, points] : replicas[shard]) {
        auto it = points.find(shard::PointKey::Num(id));
        if (!model.exists) {
          if (it != points.end()) {
            return Fail(sim, absl::StrCat("point ", id, " was deleted (acknowledged) but peer ", peer,
                                          " still holds it in shard ", shard));
          }
          continue;
        }
        if (it == points.end()) {
          return Fail(sim, absl::StrCat("acknowledged point ", id, " is missing from the Active replica of shard ",
                                        shard, " on peer ", peer));
        }
        shard::PointRecord expected{pid, 0, model.point.payload(), model.point.vectors()};
        for (auto& [vname, vector] : *expected.vectors->mutable_vectors()) shard::Canonicalize(config, vname, vector);
        if (it->second != Canonical(expected)) {
          shardpb::Point held;
          held.ParseFromString(it->second);
          return Fail(sim, absl::StrCat("point ", id, " on peer ", peer, " (shard ", shard,
                                        ") differs from its last acknowledged value: holds payload {",
                                        held.payload().ShortDebugString(), "}, acknowledged {",
                                        model.point.payload().ShortDebugString(), "}"));
        }
      }
    }
  }
  std::vector<std::string> Report() const override {
    return {absl::StrFormat("acked_writes: %d points checked; %d points in acknowledged writes, %d failed writes, "
                            "%d reads answered",
                            checked_, v_.history->acked_points, v_.history->failed_writes, v_.history->reads_ok)};
  }

 private:
  void Fail(Simulation& sim, std::string detail) { sim.ReportViolation(name_, std::move(detail)); }
  QdrantView& v_;
  std::string name_ = "acked_writes";
  uint64_t checked_ = 0;
};

class ReplicaConvergence : public Checker {
 public:
  explicit ReplicaConvergence(QdrantView& v) : v_(v) {}
  std::string_view name() const override { return "replica_convergence"; }
  void AtEnd(Simulation& sim) override {
    const consensuspb::CollectionState* c = AgreedCollection(v_);
    if (c == nullptr) return;
    for (const auto& shard : c->shards()) {
      std::optional<std::pair<PeerId, std::map<shard::PointKey, std::string>>> first;
      for (const auto& r : shard.replicas()) {
        if (r.state() != consensuspb::ACTIVE) continue;
        Node* n = v_.node(r.peer_id());
        if (n == nullptr) continue;
        auto points = ReplicaPoints(*n, c->name(), shard.shard_id(), r.generation());
        if (!points) continue;  // acked_writes reports it
        if (!first) {
          first.emplace(r.peer_id(), std::move(*points));
          continue;
        }
        if (*points == first->second) continue;
        sim.ReportViolation("replica_convergence", Describe(shard.shard_id(), first->first, first->second,
                                                            r.peer_id(), *points));
        return;
      }
    }
  }

 private:
  static std::string Describe(uint32_t shard, PeerId a, const std::map<shard::PointKey, std::string>& pa, PeerId b,
                              const std::map<shard::PointKey, std::string>& pb) {
    std::string diff;
    for (const auto& [key, bytes] : pa) {
      auto it = pb.find(key);
      if (it == pb.end() || it->second != bytes) {
        diff = absl::StrCat("point ", key.ToString(), it == pb.end() ? " missing on peer " : " differs on peer ", b);
        break;
      }
    }
    if (diff.empty()) {
      for (const auto& [key, bytes] : pb) {
        if (!pa.count(key)) {
          diff = absl::StrCat("point ", key.ToString(), " missing on peer ", a);
          break;
        }
      }
    }
    return absl::StrCat("Active replicas of shard ", shard, " diverged: peer ", a, " holds ", pa.size(),
                        " points, peer ", b, " holds ", pb.size(), "; first difference: ", diff);
  }
  QdrantView& v_;
};

// ---- search_oracle ------------------------------------------------------------------------------

class SearchOracle : public Checker {
 public:
  explicit SearchOracle(QdrantView& v) : v_(v) {}
  std::string_view name() const override { return "search_oracle"; }
  void AfterEvent(Simulation& sim) override {
    // Near the end, once writes have stopped and the replicas converged, ask a few searches.
    if (issued_ || sim.now() < world::Instant(world::SecondsF(v_.end_s - 3))) return;
    std::string why;
    if (!ClusterConverged(v_, &why)) return;  // liveness reports a cluster that never converges
    issued_ = true;
    PeerId holder = 0;
    const consensuspb::CollectionState* c = AgreedCollection(v_, &holder);
    if (c == nullptr || c->params().vectors().empty()) return;
    const uint32_t dim = static_cast<uint32_t>(c->params().vectors(0).size());
    for (int q = 0; q < kQueries; ++q) {
      shard::SearchRequest request;
      request.limit = 10;
      for (uint32_t i = 0; i < dim; ++i) {
        request.query.mutable_dense()->add_values(static_cast<float>(sim.workload_random().UniformReal(-1, 1)));
      }
      if (q % 2 == 1) {  // half of them filtered
        auto* cond = request.filter.emplace().add_must()->mutable_field();
        cond->set_key("tag");
        cond->mutable_match()->mutable_value()->set_keyword("a");
      }
      const PeerId via = static_cast<PeerId>(1 + sim.workload_random().Uniform(v_.nodes));
      if (v_.node(via) == nullptr) continue;
      ++asked_;
      v_.search(via, request, [this, &sim, request, via](absl::StatusOr<std::vector<shard::ScoredPoint>> r) {
        Compare(sim, request, via, r);
      });
    }
  }
  void AtEnd(Simulation& sim) override {
    if (asked_ > 0 && answered_ == 0) sim.ReportViolation("search_oracle", "no search was answered near the end");
    if (!issued_ && v_.history->collection_created && v_.history->acked_points > 0) {
      sim.ReportViolation("search_oracle", "the cluster never converged for the searches");
    }
  }
  std::vector<std::string> Report() const override {
    return {absl::StrFormat("search_oracle: %d of %d searches answered and compared", answered_, asked_)};
  }

 private:
  static constexpr int kQueries = 6;

  void Compare(Simulation& sim, const shard::SearchRequest& request, PeerId via,
               const absl::StatusOr<std::vector<shard::ScoredPoint>>& answer) {
    if (!answer.ok()) return;  // availability is liveness's business
    ++answered_;
    const consensuspb::CollectionState* c = AgreedCollection(v_);
    if (c == nullptr) return;
    const consensuspb::VectorParams& params = c->params().vectors(0);
    const shard::ShardConfig config = collection::ShardConfigOf(c->params());
    const shard::Distance distance = config.dense.at("").distance;
    // Brute force over one Active replica of every shard.
    std::vector<std::pair<float, shard::PointKey>> all;
    for (const auto& shard : c->shards()) {
      for (const auto& r : shard.replicas()) {
        Node* n = r.state() == consensuspb::ACTIVE ? v_.node(r.peer_id()) : nullptr;
        shard::ShardStore* store = n ? n->local_shards().Find(c->name(), shard.shard_id(), r.generation()) : nullptr;
        if (store == nullptr) continue;
        shardpb::Vector query = request.query;
        shard::Canonicalize(config, "", query);
        for (const auto& [key, point] : store->table().points()) {
          if (request.filter) {
            auto f = point.payload.fields().find("tag");
            if (f == point.payload.fields().end() || f->second.string_value() != "a") continue;
          }
          auto v = point.vectors.find("");
          if (v == point.vectors.end()) continue;
          all.emplace_back(shard::DenseScore(distance, query.dense().values().data(), v->second.dense().values().data(),
                                             static_cast<size_t>(params.size())),
                           key);
        }
        break;
      }
    }
    const bool higher = shard::HigherIsBetter(distance);
    std::sort(all.begin(), all.end(), [higher](const auto& x, const auto& y) {
      if (x.first != y.first) return higher ? x.first > y.first : x.first < y.first;
      return x.second < y.second;
    });
    const size_t k = std::min(all.size(), request.limit);
    if (answer->size() != k) {
      sim.ReportViolation("search_oracle", absl::StrCat("search through peer ", via, " returned ", answer->size(),
                                                        " hits; brute force finds ", k));
      return;
    }
    for (size_t i = 0; i < k; ++i) {
      const float want = all[i].first, got = (*answer)[i].score;
      if (std::fabs(want - got) > 1e-4f * std::max(1.0f, std::fabs(want))) {
        std::string got_ids, want_ids;
        for (size_t j = 0; j < k; ++j) {
          absl::StrAppend(&got_ids, j ? " " : "", shard::FormatPointId((*answer)[j].id));
          absl::StrAppend(&want_ids, j ? " " : "", all[j].second.ToString());
        }
        sim.ReportViolation("search_oracle",
                            absl::StrFormat("search through peer %d: hit %d scores %g, brute force %g (point %s); "
                                            "answered [%s], brute force [%s]",
                                            via, i, got, want, all[i].second.ToString(), got_ids, want_ids));
        return;
      }
    }
  }

  QdrantView& v_;
  bool issued_ = false;
  int asked_ = 0;
  int answered_ = 0;
};

// ---- transfers_end, liveness, availability -----------------------------------------------------

class TransfersEnd : public Checker {
 public:
  explicit TransfersEnd(QdrantView& v) : v_(v) {}
  std::string_view name() const override { return "transfers_end"; }
  void AfterEvent(Simulation& sim) override {
    if (sim.now() < next_scan_) return;
    next_scan_ = sim.now() + world::Seconds(1);
    const consensuspb::CollectionState* c = AgreedCollection(v_);
    if (c == nullptr) return;
    std::map<std::tuple<uint32_t, uint64_t, uint64_t>, world::Instant> seen;
    for (const auto& t : c->transfers()) {
      auto key = std::make_tuple(t.shard_id(), t.from(), t.to());
      auto it = started_.find(key);
      const world::Instant since = it == started_.end() ? sim.now() : it->second;
      seen[key] = since;
      if (sim.now() - since > world::Seconds(kBoundS)) {
        sim.ReportViolation("transfers_end", absl::StrCat("transfer of shard ", t.shard_id(), " from peer ", t.from(),
                                                          " to peer ", t.to(), " has run for over ", kBoundS, " s"));
        return;
      }
    }
    for (const auto& [key, since] : started_) {
      if (!seen.count(key)) {
        ++ended_;
        longest_ = std::max(longest_, world::ToSeconds(sim.now() - since));
      }
    }
    started_ = std::move(seen);
  }
  void AtEnd(Simulation& sim) override {
    const consensuspb::CollectionState* c = AgreedCollection(v_);
    if (c != nullptr && !c->transfers().empty()) {
      sim.ReportViolation("transfers_end", absl::StrCat(c->transfers_size(), " transfers still running at the end"));
    }
  }
  std::vector<std::string> Report() const override {
    return {absl::StrFormat("transfers_end: %d transfers ended, the longest in about %.0f s", ended_, longest_)};
  }

 private:
  static constexpr int kBoundS = 120;
  QdrantView& v_;
  world::Instant next_scan_{};
  std::map<std::tuple<uint32_t, uint64_t, uint64_t>, world::Instant> started_;  // running transfers
  uint64_t ended_ = 0;
  double longest_ = 0;
};

class Liveness : public Checker {
 public:
  explicit Liveness(QdrantView& v) : v_(v) {}
  std::string_view name() const override { return "liveness"; }
  void AfterEvent(Simulation& sim) override {
    if (converged_at_ || sim.now() < v_.history->faults_end || sim.now() < next_scan_) return;
    next_scan_ = sim.now() + world::Millis(200);
    if (Converged()) converged_at_ = sim.now();
  }
  void AtEnd(Simulation& sim) override {
    if (!converged_at_ && !Converged()) sim.ReportViolation("liveness", absl::StrCat("not converged by the end: ", why_));
  }
  std::vector<std::string> Report() const override {
    std::vector<std::string> lines;
    if (v_.raft != nullptr) {
      lines.push_back(absl::StrFormat("raft: %d leaders elected, highest term %d", v_.raft->leaders_elected,
                                      v_.raft->max_term));
    }
    if (converged_at_) {
      lines.push_back(absl::StrFormat("liveness: converged %.3f s after the faults ended",
                                      world::ToSeconds(*converged_at_ - v_.history->faults_end)));
    }
    return lines;
  }

 private:
  bool Converged() { return ClusterConverged(v_, &why_); }
  QdrantView& v_;
  world::Instant next_scan_{};
  std::optional<world::Instant> converged_at_;
  std::string why_;
};

class Availability : public Checker {
 public:
  explicit Availability(QdrantView& v) : v_(v) {}
  std::string_view name() const override { return "availability"; }
  void AtEnd(Simulation& sim) override {
    const auto& ops = v_.history->ops;
    auto in = [](const OpRecord& r, const std::pair<double, double>& w) {
      const double t = world::ToSeconds(r.invoked);
      return t >= w.first && t <= w.second;
    };
    if (v_.metadata_unavailable) {
      int tried = 0, after = 0, after_ok = 0;
      std::string after_error;
      for (const OpRecord& r : ops) {
        if (r.kind != OpRecord::Kind::kMetadata) continue;
        if (in(r, *v_.metadata_unavailable)) {
          ++tried;
          if (r.ok) return Fail(sim, absl::StrFormat("a metadata operation invoked at %.3f s succeeded",
                                                     world::ToSeconds(r.invoked)));
        } else if (world::ToSeconds(r.invoked) > v_.metadata_unavailable->second) {
          ++after;
          after_ok += r.ok;
          if (!r.ok) {
            after_error += absl::StrFormat("%.3f s: %s; ", world::ToSeconds(r.invoked), r.answered ? r.error : "no answer");
          }
        }
      }
      report_.push_back(absl::StrFormat("availability: %d metadata operations refused in the window, %d of %d succeeded after",
                                        tried, after_ok, after));
      if (after > 0 && after_ok == 0) {
        return Fail(sim, absl::StrCat("no metadata operation succeeded after the window; errors at ", after_error));
      }
    }
    if (v_.metadata_available) {
      int tried = 0, ok = 0;
      std::string first_error;
      for (const OpRecord& r : ops) {
        if (r.kind != OpRecord::Kind::kMetadata || !in(r, *v_.metadata_available)) continue;
        ++tried;
        ok += r.ok;
        if (!r.ok && first_error.empty()) first_error = r.answered ? r.error : "no answer";
      }
      report_.push_back(absl::StrFormat("availability: %d/%d metadata operations succeeded in the window", ok, tried));
      if (tried == 0 || ok * 2 < tried) {
        return Fail(sim, absl::StrFormat("metadata operations were not available in the window: %d/%d; first error: %s",
                                         ok, tried, first_error));
      }
    }
    const bool points_exercised =
        v_.points_available && v_.history->collection_created &&
        world::ToSeconds(v_.history->collection_created_at) < v_.points_available->first;
    if (v_.points_available && !points_exercised) {
      // The collection did not exist yet when the window began (e.g. electing the first leader took
      // that long): the claim cannot be tested on this seed. Said so, not counted as a pass of it.
      report_.push_back("availability: point operations not exercised (the collection was created after the window began)");
    }
    if (points_exercised) {
      int writes = 0, writes_ok = 0, reads = 0, reads_ok = 0;
      std::string first_error;
      for (const OpRecord& r : ops) {
        if (!in(r, *v_.points_available)) continue;
        if (!r.ok && first_error.empty()) first_error = r.answered ? r.error : "no answer";
        if (r.kind == OpRecord::Kind::kWrite) ++writes, writes_ok += r.ok;
        if (r.kind == OpRecord::Kind::kRead) ++reads, reads_ok += r.ok;
      }
      report_.push_back(absl::StrFormat("availability: in the window %d/%d writes and %d/%d reads succeeded",
                                        writes_ok, writes, reads_ok, reads));
      if (writes_ok * 2 <= writes || reads_ok * 2 <= reads || writes == 0 || reads == 0) {
        return Fail(sim, absl::StrFormat(
                             "point operations were not available in the window: %d/%d writes, %d/%d reads; first error: %s",
                             writes_ok, writes, reads_ok, reads, first_error));
      }
    }
  }
  std::vector<std::string> Report() const override { return report_; }

 private:
  void Fail(Simulation& sim, std::string detail) { sim.ReportViolation("availability", std::move(detail)); }
  QdrantView& v_;
  std::vector<std::string> report_;
};

}  // namespace

std::vector<std::string> QdrantCheckNames() {
  return {"metadata_agreement", "acked_writes", "replica_convergence", "search_oracle",
          "transfers_end",      "liveness",     "availability"};
}

std::unique_ptr<Checker> MakeQdrantChecker(std::string_view name, QdrantView& view) {
  if (name == "metadata_agreement") return std::make_unique<MetadataAgreement>(view);
  if (name == "acked_writes") return std::make_unique<AckedWrites>(view);
  if (name == "replica_convergence") return std::make_unique<ReplicaConvergence>(view);
  if (name == "search_oracle") return std::make_unique<SearchOracle>(view);
  if (name == "transfers_end") return std::make_unique<TransfersEnd>(view);
  if (name == "liveness") return std::make_unique<Liveness>(view);
  if (name == "availability") return std::make_unique<Availability>(view);
  return nullptr;
}

}  // namespace qdsim::sim
