#include "sim/qdrant_kind.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "node/collection/hash_ring.h"
#include "node/node.h"
#include "node/raft/planted_bugs.h"
#include "node/shard/cluster_bugs.h"
#include "node/shard/point_id.h"
#include "node/world/log.h"
#include "node/world/status_macros.h"
#include "node/world/strings.h"
#include "sim/kind_options.h"
#include "sim/qdrant_checkers.h"
#include "sim/raft_checkers.h"
#include "sim/simulation.h"

namespace qdsim::sim {
namespace {

using world::PeerId;

struct QdrantSimNode : SimNode {
  std::unique_ptr<Node> node;  // null if it failed to start, or for a permanently lost node
};

struct Settings {
  uint32_t voters = 0;
  double join_at_s = 3;
  uint32_t shards = 0, replication_factor = 2, write_consistency_factor = 1, dim = 8;
  consensuspb::Distance distance = consensuspb::DOT;
  double create_at_s = 1;
  std::optional<double> second_collection_at_s, move_shard_at_s, replicate_shard_at_s, repair_at_s;
  std::optional<PeerId> lose_node;
  double lose_at_s = 0;
  double op_timeout_s = 2;
  double meta_ops_per_min = 6;
  replication::ReadConsistency read_consistency;
  replication::WriteOrdering write_ordering = replication::WriteOrdering::kWeak;
  double workload_stop_s = 0;
  uint32_t clients = 4;
  double ops_per_s = 40;
  uint32_t upsert_batch = 4;     // points per upsert: 1..upsert_batch
  double read_fraction = 0.38;   // of operations; the rest are writes (upserts, deletes, payload)
};

absl::StatusOr<std::optional<double>> OptionalNumber(const scenario::Scenario& s, const std::string& key) {
  if (s.options().find(key) == s.options().end()) return std::optional<double>();
  ASSIGN_OR_RETURN(double v, OptionNumber(s, key, 0));
  return std::optional<double>(v);
}

absl::StatusOr<std::optional<std::pair<double, double>>> OptionWindow(const scenario::Scenario& s,
                                                                      const std::string& key) {
  const std::string text = OptionString(s, key, "");
  if (text.empty()) return std::optional<std::pair<double, double>>();
  std::vector<std::string> parts = absl::StrSplit(text, ',');
  double a, b;
  if (parts.size() != 2 || !absl::SimpleAtod(parts[0], &a) || !absl::SimpleAtod(parts[1], &b) || a > b) {
    return absl::InvalidArgumentError(absl::StrCat("option ", key, ": expected \"A,B\" seconds, got ", text));
  }
  return std::optional<std::pair<double, double>>(std::make_pair(a, b));
}

// A deterministic vector for a point's version: values in [-1, 1].
std::vector<float> VectorOf(uint64_t id, uint64_t version, uint32_t dim) {
  std::vector<float> v(dim);
  uint64_t x = id * 0x9E3779B97F4A7C15ull ^ (version + 0x632BE59BD9B4E019ull);
  for (uint32_t i = 0; i < dim; ++i) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 29;
    v[i] = static_cast<float>(static_cast<int64_t>(x % 2001) - 1000) / 1000.0f;
  }
  return v;
}

class QdrantKind : public NodeKind {
 public:
  static absl::StatusOr<std::unique_ptr<NodeKind>> Create(const scenario::Scenario& s) {
    auto kind = std::unique_ptr<QdrantKind>(new QdrantKind(s));
    RETURN_IF_ERROR(kind->Configure(s));
    return std::unique_ptr<NodeKind>(std::move(kind));
  }

  std::unique_ptr<SimNode> Boot(PeerId id, world::Env& env) override {
    auto sim_node = std::make_unique<QdrantSimNode>();
    if (lost_.count(id)) return sim_node;  // gone for good: boots as nothing
    Node::Options options = options_;
    options.uri = absl::StrCat("http://node", id, ":6335/");
    if (id > settings_.voters) options.raft.initial_voters.clear();  // joins later as a learner
    auto node = Node::Open(env, std::move(options));
    if (!node.ok()) {
      QDSIM_LOG(env.logger(), kError) << "node failed to start: " << node.status().message();
      return sim_node;
    }
    sim_node->node = *std::move(node);
    return sim_node;
  }

  void Start(Simulation& sim) override {
    sim_ = &sim;
    history_.faults_end = world::Instant(world::SecondsF(duration_s_));
    for (PeerId id = settings_.voters + 1; id <= sim.nodes(); ++id) {
      At(settings_.join_at_s + 2.0 * (id - settings_.voters - 1), [this, id] { JoinLoop(id); });
    }
    At(settings_.create_at_s, [this] { CreateCollection(history_.collection, true); });
    if (settings_.second_collection_at_s) At(*settings_.second_collection_at_s, [this] { CreateCollection("late", false); });
    if (settings_.move_shard_at_s) At(*settings_.move_shard_at_s, [this] { UserTransfer(false); });
    if (settings_.replicate_shard_at_s) At(*settings_.replicate_shard_at_s, [this] { UserTransfer(true); });
    if (settings_.lose_node) At(settings_.lose_at_s, [this] { LoseNode(); });
    if (settings_.repair_at_s) At(*settings_.repair_at_s, [this] { RepairReplication(); });
    for (uint32_t c = 0; c < settings_.clients; ++c) clients_.push_back(Client{c});
    if (settings_.meta_ops_per_min > 0) ScheduleMetadataOp();
    // Every availability window of metadata operations sees some, whatever the random gaps.
    for (const auto& window : {view_.metadata_available, view_.metadata_unavailable}) {
      if (!window) continue;
      At(window->first + 0.5, [this] { MetadataOp(); });
      At((window->first + window->second) / 2, [this] { MetadataOp(); });
    }
    if (watch_point_) WatchPoint(*watch_point_);
  }

  // Traces every change of one point's replicas (option watch_point): which life holds which version.
  void WatchPoint(uint64_t id) {
    for (PeerId p = 1; p <= sim_->nodes(); ++p) {
      std::string now = DescribeReplicaOf(p, id);
      if (watch_[p] != now) {
        sim_->trace().Record(sim_->now(), p, "watch", absl::StrCat("point ", id, ": ", now));
        watch_[p] = std::move(now);
      }
    }
    sim_->scheduler().After(world::Millis(5), [this, id] { WatchPoint(id); });
  }
  // "down", "-" (no replica of the point's shard), or "STATE/gN v=VERSION|none".
  std::string DescribeReplicaOf(PeerId p, uint64_t id) {
    Node* n = Lookup(p);
    if (n == nullptr) return "down";
    const auto* c = n->consensus().metadata().FindCollection(history_.collection);
    if (c == nullptr || c->shards().empty()) return "-";
    const uint32_t shard = collection::HashRing::Fair(c->shards_size()).ShardOfNumber(id);
    for (const auto& r : c->shards(shard).replicas()) {
      if (r.peer_id() != p) continue;
      double version = -1;
      if (auto* st = n->local_shards().Find(c->name(), shard, r.generation())) {
        auto recs = st->Retrieve({shard::NumId(id)}, true, {});
        if (recs.ok() && !recs->empty() && (*recs)[0].payload) {
          auto f = (*recs)[0].payload->fields().find("v");
          if (f != (*recs)[0].payload->fields().end()) version = f->second.number_value();
        }
      }
      return absl::StrCat(consensuspb::ReplicaState_Name(r.state()), "/g", r.generation(), " v=",
                          version < 0 ? "none" : absl::StrCat(version));
    }
    return "-";
  }
  std::optional<uint64_t> watch_point_;     // option watch_point
  std::map<PeerId, std::string> watch_;     // last traced state per node

  void OnFaultsEnd(Simulation& sim) override { raft_history_.faults_end = sim.now(); }

  std::optional<PeerId> FindRole(Simulation& sim, std::string_view role) override {
    if (role == "follower") {  // the lowest-id running node that is not the leader
      std::optional<PeerId> leader = FindRole(sim, "leader");
      for (PeerId id = 1; id <= sim.nodes(); ++id) {
        if (Lookup(id) != nullptr && id != leader) return id;
      }
      return std::nullopt;
    }
    if (role != "leader") return std::nullopt;
    std::optional<PeerId> best;
    uint64_t best_term = 0;
    for (PeerId id = 1; id <= sim.nodes(); ++id) {
      Node* n = Lookup(id);
      if (n && n->raft().raft().role() == raft::StateRole::kLeader && n->raft().raft().term() >= best_term) {
        best = id;
        best_term = n->raft().raft().term();
      }
    }
    return best;
  }

  std::vector<std::string> CheckNames() const override {
    std::vector<std::string> names = RaftCheckNames();
    for (std::string& n : QdrantCheckNames()) {
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(std::move(n));
    }
    return names;
  }
  std::unique_ptr<Checker> MakeChecker(std::string_view name) override {
    const std::vector<std::string> ours = QdrantCheckNames();
    if (std::find(ours.begin(), ours.end(), name) != ours.end()) return MakeQdrantChecker(name, view_);
    return MakeRaftChecker(name, raft_history_, [this](uint64_t id) { return LookupRaft(id); }, nodes_);
  }

 private:
  struct Client {
    uint32_t index;
    uint64_t next_id = 0;       // ids this client has created: [index * 1e6, index * 1e6 + next_id)
    uint64_t op = 0;            // current operation number (late answers of older ones are ignored)
  };

  explicit QdrantKind(const scenario::Scenario& s)
      : nodes_(s.nodes()),
        duration_s_(s.duration_s()),
        raft_history_([this](uint64_t id) { return LookupRaft(id); }, [this] { return sim_->now(); }) {}

  absl::Status Configure(const scenario::Scenario& s) {
    Settings& st = settings_;
    auto& raft = options_.raft;
    raft.raft.pre_vote = OptionBool(s, "pre_vote", true);
    raft.raft.check_quorum = OptionBool(s, "check_quorum", true);
    ASSIGN_OR_RETURN(double tick_ms, OptionNumber(s, "tick_ms", 100));
    ASSIGN_OR_RETURN(double compact, OptionNumber(s, "compact_entries", 128));
    ASSIGN_OR_RETURN(double voters, OptionNumber(s, "voters", s.nodes()));
    if (tick_ms < 1 || voters < 1 || voters > s.nodes()) {
      return absl::InvalidArgumentError("options: tick_ms >= 1, 1 <= voters <= nodes");
    }
    raft.tick = world::Micros(static_cast<int64_t>(tick_ms * 1000));
    raft.compact_entries = static_cast<uint64_t>(std::max(compact, 1.0));
    raft.observer = &raft_history_;
    if (auto it = s.options().find("planted_bug"); it != s.options().end()) {
      for (absl::string_view name : absl::StrSplit(it->second, ',', absl::SkipEmpty())) {
        const std::string_view n(name.data(), name.size());
        if (auto bug = raft::ParsePlantedBug(n); bug.ok()) {
          raft.raft.planted_bugs.Set(*bug);
        } else if (auto cluster = shard::ParseClusterBug(n); cluster.ok()) {
          options_.cluster_bugs.Set(*cluster);
        } else {
          return absl::InvalidArgumentError(absl::StrCat("option planted_bug: ", bug.status().message(), "; or ",
                                                         cluster.status().message()));
        }
      }
    }
    st.voters = static_cast<uint32_t>(voters);
    for (PeerId id = 1; id <= st.voters; ++id) raft.initial_voters.push_back(id);
    ASSIGN_OR_RETURN(st.join_at_s, OptionNumber(s, "join_at_s", 3));
    ASSIGN_OR_RETURN(double shards, OptionNumber(s, "shards", 0));
    ASSIGN_OR_RETURN(double rf, OptionNumber(s, "replication_factor", 2));
    ASSIGN_OR_RETURN(double wcf, OptionNumber(s, "write_consistency_factor", 1));
    ASSIGN_OR_RETURN(double dim, OptionNumber(s, "dim", 8));
    if (rf < 1 || wcf < 1 || dim < 1) return absl::InvalidArgumentError("options: replication_factor, write_consistency_factor, dim >= 1");
    st.shards = static_cast<uint32_t>(shards);
    st.replication_factor = static_cast<uint32_t>(rf);
    st.write_consistency_factor = static_cast<uint32_t>(wcf);
    st.dim = static_cast<uint32_t>(dim);
    const std::string distance = OptionString(s, "distance", "Dot");
    if (!consensuspb::Distance_Parse(absl::AsciiStrToUpper(distance), &st.distance) ||
        st.distance == consensuspb::DISTANCE_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat("option distance: unknown distance ", distance));
    }
    ASSIGN_OR_RETURN(st.create_at_s, OptionNumber(s, "create_at_s", 1));
    ASSIGN_OR_RETURN(st.second_collection_at_s, OptionalNumber(s, "second_collection_at_s"));
    ASSIGN_OR_RETURN(st.move_shard_at_s, OptionalNumber(s, "move_shard_at_s"));
    ASSIGN_OR_RETURN(st.replicate_shard_at_s, OptionalNumber(s, "replicate_shard_at_s"));
    ASSIGN_OR_RETURN(st.repair_at_s, OptionalNumber(s, "repair_replication_at_s"));
    ASSIGN_OR_RETURN(std::optional<double> lose, OptionalNumber(s, "lose_node"));
    if (lose) {
      if (*lose < 1 || *lose > s.nodes()) return absl::InvalidArgumentError("option lose_node: not a node id");
      st.lose_node = static_cast<PeerId>(*lose);
      ASSIGN_OR_RETURN(st.lose_at_s, OptionNumber(s, "lose_at_s", 10));
    }
    ASSIGN_OR_RETURN(std::optional<double> watch, OptionalNumber(s, "watch_point"));
    if (watch) watch_point_ = static_cast<uint64_t>(*watch);
    ASSIGN_OR_RETURN(st.op_timeout_s, OptionNumber(s, "op_timeout_s", 2));
    ASSIGN_OR_RETURN(st.meta_ops_per_min, OptionNumber(s, "meta_ops_per_min", 6));
    ASSIGN_OR_RETURN(st.read_consistency, replication::ParseReadConsistency(OptionString(s, "read_consistency", "1")));
    ASSIGN_OR_RETURN(st.write_ordering, replication::ParseWriteOrdering(OptionString(s, "write_ordering", "weak")));
    ASSIGN_OR_RETURN(st.workload_stop_s, OptionNumber(s, "workload_stop_s", s.duration_s()));
    ASSIGN_OR_RETURN(double batch, OptionNumber(s, "upsert_batch", 4));
    ASSIGN_OR_RETURN(st.read_fraction, OptionNumber(s, "read_fraction", 0.38));
    if (batch < 1 || st.read_fraction > 1) return absl::InvalidArgumentError("options: upsert_batch >= 1, read_fraction <= 1");
    st.upsert_batch = static_cast<uint32_t>(batch);
    st.clients = std::max<uint32_t>(1, s.workload().clients() ? s.workload().clients() : 4);
    st.ops_per_s = s.workload().ops_per_s();
    options_.writer.qdrant_dead_marking = OptionBool(s, "qdrant_dead_marking", false);
    options_.default_timeout = world::SecondsF(st.op_timeout_s);
    ASSIGN_OR_RETURN(view_.metadata_unavailable, OptionWindow(s, "expect_metadata_unavailable_s"));
    ASSIGN_OR_RETURN(view_.points_available, OptionWindow(s, "expect_points_available_s"));
    ASSIGN_OR_RETURN(view_.metadata_available, OptionWindow(s, "expect_metadata_available_s"));
    view_.node = [this](PeerId id) { return Lookup(id); };
    view_.history = &history_;
    view_.nodes = s.nodes();
    view_.end_s = s.duration_s() + s.liveness_s();
    view_.raft = &raft_history_;
    view_.search = [this](PeerId via, shard::SearchRequest request,
                          std::function<void(absl::StatusOr<std::vector<shard::ScoredPoint>>)> done) {
      api::Search search{history_.collection, std::move(request)};
      sim_->PostToNode(via, sim_->now(), [this, via, search, done] {
        if (Node* n = Lookup(via)) n->Search(search, done);
      });
    };
    return absl::OkStatus();
  }

  // ---- Lookups and helpers ----

  Node* Lookup(PeerId id) {
    if (sim_ == nullptr || id < 1 || id > sim_->nodes() || lost_.count(id)) return nullptr;
    auto* n = static_cast<QdrantSimNode*>(sim_->node(id));
    return n == nullptr ? nullptr : n->node.get();
  }
  raft::RaftNode* LookupRaft(uint64_t id) {
    Node* n = Lookup(static_cast<PeerId>(id));
    return n == nullptr ? nullptr : &n->raft();
  }
  void At(double seconds, std::function<void()> fn) {
    sim_->scheduler().At(world::Instant(world::SecondsF(seconds)), std::move(fn));
  }
  // A random running node (not paused), or nullopt.
  std::optional<PeerId> RandomUpNode() {
    std::vector<PeerId> up;
    for (PeerId id = 1; id <= sim_->nodes(); ++id) {
      if (sim_->state(id) == NodeState::kUp && Lookup(id) != nullptr) up.push_back(id);
    }
    if (up.empty()) return std::nullopt;
    return up[sim_->workload_random().Uniform(up.size())];
  }
  // The metadata as the most advanced running node has it.
  const consensuspb::ClusterState* Metadata() {
    Node* n = MostAdvancedNode(view_);
    return n == nullptr ? nullptr : &n->consensus().metadata().state();
  }
  world::Duration OpTimeout() const { return world::SecondsF(settings_.op_timeout_s); }

  // Runs `op` on a random up node and retries every second until it succeeds (or `tries` run out).
  void Eventually(std::string what, int tries, std::function<void(Node&, api::Callback<bool>)> op,
                  std::function<void()> then = nullptr) {
    std::optional<PeerId> via = RandomUpNode();
    auto retry = [this, what, tries, op, then] {
      if (tries > 1) sim_->scheduler().After(world::Seconds(1), [=, this] { Eventually(what, tries - 1, op, then); });
    };
    if (!via) return retry();
    auto answered = std::make_shared<bool>(false);
    sim_->PostToNode(*via, sim_->now(), [this, via, op, answered, retry, then, what] {
      Node* n = Lookup(*via);
      if (n == nullptr) return;
      op(*n, [this, answered, retry, then, what](absl::StatusOr<bool> r) {
        if (*answered) return;
        *answered = true;
        sim_->trace().Record(sim_->now(), 0, "workload", absl::StrCat(what, ": ", r.ok() ? "ok" : r.status().ToString()));
        if (r.ok()) {
          if (then) then();
        } else {
          retry();
        }
      });
    });
    // An answer that never comes (the node crashed) counts as a failure.
    sim_->scheduler().After(OpTimeout() + world::Seconds(1), [answered, retry] {
      if (*answered) return;
      *answered = true;
      retry();
    });
  }

  // ---- Cluster operations the scenario schedules ----

  void JoinLoop(PeerId id) {
    const consensuspb::ClusterState* meta = Metadata();
    bool known = false;
    if (meta != nullptr) {
      for (const auto& p : meta->peers()) known |= p.id() == id;
    }
    if (known || lost_.count(id)) return;
    Node* joiner = Lookup(id);
    std::optional<PeerId> bootstrap = RandomUpNode();
    if (joiner != nullptr && bootstrap && *bootstrap != id && sim_->state(id) == NodeState::kUp) {
      sim_->PostToNode(id, sim_->now(), [this, id, b = *bootstrap] {
        if (Node* n = Lookup(id)) {
          n->Join(b, world::Seconds(5), [this, id](absl::StatusOr<clusterpb::JoinResponse> r) {
            sim_->trace().Record(sim_->now(), id, "workload", absl::StrCat("join: ", r.ok() ? "ok" : r.status().ToString()));
          });
        }
      });
    }
    sim_->scheduler().After(world::Seconds(3), [this, id] { JoinLoop(id); });
  }

  consensuspb::CollectionParams Params() const {
    consensuspb::CollectionParams p;
    auto* v = p.add_vectors();
    v->set_size(settings_.dim);
    v->set_distance(settings_.distance);
    p.set_shard_number(settings_.shards);
    p.set_replication_factor(settings_.replication_factor);
    p.set_write_consistency_factor(settings_.write_consistency_factor);
    return p;
  }

  void CreateCollection(const std::string& name, bool start_workload) {
    // Placement happens at apply time over the peers known then: wait until every initial voter
    // has registered itself.
    const consensuspb::ClusterState* meta = Metadata();
    if (meta == nullptr || static_cast<uint32_t>(meta->peers_size()) < settings_.voters) {
      sim_->scheduler().After(world::Millis(500), [this, name, start_workload] { CreateCollection(name, start_workload); });
      return;
    }
    api::CreateCollection create{name, Params(), OpTimeout()};
    Eventually(absl::StrCat("create collection ", name), 1000,
               [create](Node& n, api::Callback<bool> done) {
                 n.CreateCollection(create, [done](absl::StatusOr<bool> r) {
                   // A retry after a timeout finds the collection there: that is success.
                   if (!r.ok() && absl::IsAlreadyExists(r.status())) return done(true);
                   done(r);
                 });
               },
               [this, start_workload] {
                 if (!start_workload || history_.collection_created) return;
                 history_.collection_created = true;
                 history_.collection_created_at = sim_->now();
                 for (Client& c : clients_) NextOp(c);
               });
  }

  // The first Active replica of `shard` (a transfer's source), and the peers, ascending, that hold
  // no replica of it and are not lost (its possible targets).
  std::pair<std::optional<uint64_t>, std::vector<uint64_t>> TransferEnds(const consensuspb::ClusterState& meta,
                                                                        const consensuspb::ShardInfo& shard) const {
    std::optional<uint64_t> from;
    for (const auto& r : shard.replicas()) {
      if (r.state() == consensuspb::ACTIVE && !from) from = r.peer_id();
    }
    std::vector<uint64_t> targets;
    for (const auto& p : meta.peers()) {
      bool holds = false;
      for (const auto& r : shard.replicas()) holds |= r.peer_id() == p.id();
      if (!holds && !lost_.count(p.id())) targets.push_back(p.id());
    }
    return {from, targets};
  }

  // Moves (or replicates) shard 0 of the collection to a peer that holds no replica of it (the
  // highest-id one).
  void UserTransfer(bool replicate) {
    const consensuspb::ClusterState* meta = Metadata();
    const consensuspb::CollectionState* c = nullptr;
    if (meta != nullptr) {
      for (const auto& x : meta->collections()) {
        if (x.name() == history_.collection) c = &x;
      }
    }
    if (c == nullptr || c->shards().empty()) {
      sim_->scheduler().After(world::Seconds(1), [this, replicate] { UserTransfer(replicate); });
      return;
    }
    const auto [from, targets] = TransferEnds(*meta, c->shards(0));
    if (!from || targets.empty()) {
      sim_->scheduler().After(world::Seconds(1), [this, replicate] { UserTransfer(replicate); });
      return;
    }
    api::CollectionClusterUpdate update;
    update.collection = history_.collection;
    api::MoveShard m{0, *from, targets.back()};
    if (replicate) {
      update.operation = api::ReplicateShard{m};
    } else {
      update.operation = m;
    }
    update.timeout = OpTimeout();
    Eventually(replicate ? "replicate shard 0" : "move shard 0", 30,
               [update](Node& n, api::Callback<bool> done) { n.UpdateCollectionCluster(update, done); });
  }

  void LoseNode() {
    const PeerId id = *settings_.lose_node;
    sim_->Crash(id);
    lost_.insert(id);
    api::RemovePeer remove{id, /*force=*/true, OpTimeout()};
    Eventually(absl::StrCat("remove lost peer ", id), 1000,
               [remove](Node& n, api::Callback<bool> done) {
                 n.RemovePeer(remove, [done](absl::StatusOr<bool> r) {
                   if (!r.ok() && absl::IsNotFound(r.status())) return done(true);  // a retry after success
                   done(r);
                 });
               });
  }

  // Replicates every under-replicated shard of the collection onto a peer without it; repeats.
  void RepairReplication() {
    const consensuspb::ClusterState* meta = Metadata();
    if (meta != nullptr) {
      for (const auto& c : meta->collections()) {
        if (c.name() != history_.collection || !c.transfers().empty()) continue;
        for (const auto& shard : c.shards()) {
          if (static_cast<uint32_t>(shard.replicas_size()) >= c.params().replication_factor()) continue;
          const auto [from, targets] = TransferEnds(*meta, shard);
          if (!from || targets.empty()) continue;
          api::CollectionClusterUpdate update{c.name(), api::ReplicateShard{{shard.shard_id(), *from, targets.front()}},
                                              OpTimeout()};
          Eventually(absl::StrCat("re-replicate shard ", shard.shard_id()), 1,
                     [update](Node& n, api::Callback<bool> done) { n.UpdateCollectionCluster(update, done); });
          break;  // one at a time
        }
      }
    }
    sim_->scheduler().After(world::Seconds(2), [this] { RepairReplication(); });
  }

  // ---- Metadata workload: scratch collections created and deleted ----

  void ScheduleMetadataOp() {
    const double gap = sim_->workload_random().Exponential(60.0 / settings_.meta_ops_per_min);
    sim_->scheduler().After(world::SecondsF(gap), [this] {
      if (sim_->now() >= world::Instant(world::SecondsF(settings_.workload_stop_s))) return;
      MetadataOp();
      ScheduleMetadataOp();
    });
  }

  void MetadataOp() {
    std::optional<PeerId> via = RandomUpNode();
    if (!via) return;
    const bool create = scratch_live_.empty() || sim_->workload_random().Bernoulli(0.5);
    std::string name;
    if (create) {
      name = absl::StrCat("scratch-", scratch_next_++);
    } else {
      name = *scratch_live_.begin();
    }
    const size_t record = history_.ops.size();
    history_.ops.push_back(Invoked(OpRecord::Kind::kMetadata));
    auto done = [this, record, create, name](absl::StatusOr<bool> r) {
      // A delete answered NotFound found the collection gone — an earlier delete that timed out
      // was applied after all: the metadata answered, and the collection is gone as asked.
      const bool gone = !create && absl::IsNotFound(r.status());
      Complete(record, gone ? absl::OkStatus() : r.status());
      if (r.ok() && create) scratch_live_.insert(name);
      if ((r.ok() || gone) && !create) scratch_live_.erase(name);
    };
    consensuspb::CollectionParams params = Params();
    params.set_replication_factor(1);
    params.set_shard_number(1);
    sim_->PostToNode(*via, sim_->now(), [this, via, create, name, params, done] {
      Node* n = Lookup(*via);
      if (n == nullptr) return;
      if (create) {
        n->CreateCollection({name, params, OpTimeout()}, done);
      } else {
        n->DeleteCollection({name, OpTimeout()}, done);
      }
    });
  }

  OpRecord Invoked(OpRecord::Kind kind) const {
    OpRecord r;
    r.kind = kind;
    r.invoked = r.completed = sim_->now();
    return r;
  }

  void Complete(size_t record, const absl::Status& s) {
    OpRecord& r = history_.ops[record];
    if (r.answered) return;
    r.answered = true;
    r.completed = sim_->now();
    r.ok = s.ok();
    if (!s.ok()) r.error = std::string(s.message());
  }

  // ---- Point workload ----

  void NextOp(Client& c) {
    const double gap = sim_->workload_random().Exponential(settings_.clients / std::max(settings_.ops_per_s, 0.001));
    const uint32_t index = c.index;
    sim_->scheduler().After(world::SecondsF(gap), [this, index] {
      if (sim_->now() >= world::Instant(world::SecondsF(settings_.workload_stop_s))) return;
      IssueOp(clients_[index]);
    });
  }

  // Ids this client may write again (certain ones), in id order.
  std::vector<uint64_t> CertainIds(const Client& c, bool existing_only) const {
    std::vector<uint64_t> ids;
    const uint64_t base = static_cast<uint64_t>(c.index) * 1000000;
    for (auto it = history_.points.lower_bound(base); it != history_.points.end() && it->first < base + 1000000; ++it) {
      if (!it->second.uncertain && (!existing_only || it->second.exists)) ids.push_back(it->first);
    }
    return ids;
  }

  shardpb::Point MakePoint(uint64_t id, uint64_t version) const {
    shardpb::Point p;
    p.mutable_id()->set_num(id);
    auto* dense = (*p.mutable_vectors()->mutable_vectors())[""].mutable_dense();
    for (float x : VectorOf(id, version, settings_.dim)) dense->add_values(x);
    auto& fields = *p.mutable_payload()->mutable_fields();
    fields["v"].set_number_value(static_cast<double>(version));
    fields["tag"].set_string_value(std::string(1, static_cast<char>('a' + id % 3)));
    return p;
  }

  void IssueOp(Client& c) {
    std::optional<PeerId> via = RandomUpNode();
    if (!via) return NextOp(c);
    world::Random& rng = sim_->workload_random();
    if (rng.Bernoulli(settings_.read_fraction)) return Read(c, *via, rng.UniformInt(0, 3));
    const double roll = rng.UniformReal(0, 1);
    if (roll < 0.72) return Upsert(c, *via);
    if (roll < 0.88) return Delete(c, *via);
    return SetPayload(c, *via);
  }

  // Issues a write of `ids` (whose model on acknowledgement `apply` sets) through `via`.
  void IssueWrite(Client& c, PeerId via, shardpb::ShardOperation op, std::vector<uint64_t> ids,
                  std::function<void(PointModel&, uint64_t id)> apply) {
    if (ids.empty()) return NextOp(c);
    const uint64_t op_number = ++c.op;
    const size_t record = history_.ops.size();
    history_.ops.push_back(Invoked(OpRecord::Kind::kWrite));
    for (uint64_t id : ids) history_.points[id];  // known from now on
    auto finished = std::make_shared<bool>(false);
    auto finish = [this, index = c.index, op_number, record, ids, apply, finished](absl::Status s) {
      if (*finished) return;
      *finished = true;
      Complete(record, s);
      if (watch_point_ && std::count(ids.begin(), ids.end(), *watch_point_)) {
        sim_->trace().Record(sim_->now(), 0, "watch", absl::StrCat("write of point ", *watch_point_, ": ", s.ToString()));
      }
      for (uint64_t id : ids) {
        PointModel& m = history_.points[id];
        if (s.ok()) {
          apply(m, id);
        } else {
          m.uncertain = true;
        }
      }
      if (s.ok()) {
        history_.acked_points += ids.size();
      } else {
        ++history_.failed_writes;
      }
      Client& client = clients_[index];
      if (client.op == op_number) NextOp(client);
    };
    api::PointWrite w{history_.collection, std::move(op), true, settings_.write_ordering, OpTimeout()};
    sim_->PostToNode(via, sim_->now(), [this, via, w, finish] {
      if (Node* n = Lookup(via)) n->WritePoints(w, [finish](absl::StatusOr<api::UpdateResult> r) { finish(r.status()); });
    });
    sim_->scheduler().After(OpTimeout() + world::Seconds(1), [finish] {
      finish(absl::DeadlineExceededError("no answer (the node crashed or the client gave up)"));
    });
  }

  void Upsert(Client& c, PeerId via) {
    world::Random& rng = sim_->workload_random();
    const int count = static_cast<int>(rng.UniformInt(1, settings_.upsert_batch));
    std::vector<uint64_t> existing = CertainIds(c, false);
    std::set<uint64_t> ids;
    for (int i = 0; i < count; ++i) {
      if (!existing.empty() && rng.Bernoulli(0.3)) {
        ids.insert(existing[rng.Uniform(existing.size())]);
      } else {
        ids.insert(static_cast<uint64_t>(c.index) * 1000000 + c.next_id++);
      }
    }
    shardpb::ShardOperation op;
    std::map<uint64_t, shardpb::Point> points;
    for (uint64_t id : ids) {
      points[id] = MakePoint(id, ++version_);
      *op.mutable_upsert()->add_points() = points[id];
    }
    IssueWrite(c, via, std::move(op), {ids.begin(), ids.end()}, [points](PointModel& m, uint64_t id) {
      m.exists = true;
      m.point = points.at(id);
    });
  }

  void Delete(Client& c, PeerId via) {
    std::vector<uint64_t> existing = CertainIds(c, true);
    if (existing.empty()) return Upsert(c, via);
    world::Random& rng = sim_->workload_random();
    const uint64_t id = existing[rng.Uniform(existing.size())];
    shardpb::ShardOperation op;
    op.mutable_delete_points()->add_ids()->set_num(id);
    IssueWrite(c, via, std::move(op), {id}, [](PointModel& m, uint64_t) {
      m.exists = false;
      m.point.Clear();
    });
  }

  void SetPayload(Client& c, PeerId via) {
    std::vector<uint64_t> existing = CertainIds(c, true);
    if (existing.empty()) return Upsert(c, via);
    world::Random& rng = sim_->workload_random();
    const uint64_t id = existing[rng.Uniform(existing.size())];
    const double mark = static_cast<double>(++version_);
    shardpb::ShardOperation op;
    auto* set = op.mutable_set_payload();
    set->mutable_selector()->mutable_ids()->add_ids()->set_num(id);
    (*set->mutable_payload()->mutable_fields())["mark"].set_number_value(mark);
    IssueWrite(c, via, std::move(op), {id}, [mark](PointModel& m, uint64_t) {
      (*m.point.mutable_payload()->mutable_fields())["mark"].set_number_value(mark);
    });
  }

  void Read(Client& c, PeerId via, int64_t kind) {
    const uint64_t op_number = ++c.op;
    const size_t record = history_.ops.size();
    history_.ops.push_back(Invoked(OpRecord::Kind::kRead));
    auto finished = std::make_shared<bool>(false);
    auto finish = [this, index = c.index, op_number, record, finished](absl::Status s) {
      if (*finished) return;
      *finished = true;
      Complete(record, s);
      if (s.ok()) ++history_.reads_ok;
      Client& client = clients_[index];
      if (client.op == op_number) NextOp(client);
    };
    api::ReadOptions read{settings_.read_consistency, OpTimeout()};
    world::Random& rng = sim_->workload_random();
    std::function<void(Node&)> call;
    if (kind == 0) {
      api::Search search;
      search.collection = history_.collection;
      search.request.limit = 5;
      for (float x : VectorOf(rng.Next(), 0, settings_.dim)) search.request.query.mutable_dense()->add_values(x);
      search.read = read;
      call = [search, finish](Node& n) {
        n.Search(search, [finish](absl::StatusOr<std::vector<shard::ScoredPoint>> r) { finish(r.status()); });
      };
    } else if (kind == 1) {
      api::Retrieve retrieve;
      retrieve.collection = history_.collection;
      std::vector<uint64_t> ids = CertainIds(c, true);
      for (size_t i = 0; i < std::min<size_t>(ids.size(), 3); ++i) {
        retrieve.ids.push_back(shard::NumId(ids[rng.Uniform(ids.size())]));
      }
      retrieve.read = read;
      call = [retrieve, finish](Node& n) {
        n.Retrieve(retrieve, [finish](absl::StatusOr<std::vector<shard::PointRecord>> r) { finish(r.status()); });
      };
    } else if (kind == 2) {
      api::Scroll scroll;
      scroll.collection = history_.collection;
      scroll.request.limit = 10;
      scroll.read = read;
      call = [scroll, finish](Node& n) {
        n.Scroll(scroll, [finish](absl::StatusOr<shard::ScrollPage> r) { finish(r.status()); });
      };
    } else {
      api::Count count;
      count.collection = history_.collection;
      count.read = read;
      call = [count, finish](Node& n) { n.Count(count, [finish](absl::StatusOr<uint64_t> r) { finish(r.status()); }); };
    }
    sim_->PostToNode(via, sim_->now(), [this, via, call] {
      if (Node* n = Lookup(via)) call(*n);
    });
    sim_->scheduler().After(OpTimeout() + world::Seconds(1), [finish] {
      finish(absl::DeadlineExceededError("no answer (the node crashed or the client gave up)"));
    });
  }

  uint32_t nodes_;
  double duration_s_;
  Simulation* sim_ = nullptr;
  Settings settings_;
  Node::Options options_;
  RaftHistory raft_history_;         // for Raft's checkers
  QdrantHistory history_;            // the workload's model, for ours
  QdrantView view_;
  std::vector<Client> clients_;
  std::set<PeerId> lost_;            // nodes lost for good (they boot as nothing)
  uint64_t version_ = 0;             // distinguishes every value the workload writes
  uint64_t scratch_next_ = 0;
  std::set<std::string> scratch_live_;  // scratch collections that exist (acknowledged)
};

}  // namespace

void RegisterQdrantKind(NodeKindRegistry& registry) {
  registry.Register("qdrant", [](const scenario::Scenario& s) { return QdrantKind::Create(s); });
}

}  // namespace qdsim::sim
