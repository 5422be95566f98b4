// The "ping" scaffold kind: round-robin pings over the simulated network.
//
// A node sends "ping <incarnation>:<seq>" to its peers in turn every ping_interval_ms (option,
// default 50) and answers every ping with "pong <same tag>". The kind keeps the ground truth of what
// was sent, so the checks can tell whether the network fabricated, corrupted or lost what it must not.
#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "node/world/log.h"
#include "sim/simulation.h"
#include "tests/sim/scaffold/scaffold.h"

namespace qdsim::scaffold {
namespace {

using world::PeerId;

// Ground truth shared by the nodes (which report to it) and the checks.
struct PingHistory {
  std::map<std::tuple<PeerId, PeerId, std::string>, world::Instant> pings_sent;  // (from, to, tag) -> sent at
  std::set<std::tuple<PeerId, PeerId, std::string>> pings_seen;   // (receiver, sender, tag)
  std::vector<std::string> anomalies;                             // not yet reported
  bool faults_over = false;
  world::Instant faults_end{};
  std::map<std::pair<PeerId, PeerId>, world::Instant> round_after_faults;  // first pong after faults
};

class PingNode : public sim::SimNode {
 public:
  PingNode(PeerId id, uint32_t nodes, world::Duration interval, world::Env& env, PingHistory& history,
           std::function<world::Instant()> sim_now)
      : id_(id), nodes_(nodes), interval_(interval), env_(env), history_(history),
        sim_now_(std::move(sim_now)) {
    env_.transport().SetReceiver([this](PeerId from, std::string bytes) { OnMessage(from, bytes); });
    // Start at a random phase so nodes do not tick in lockstep.
    env_.clock().After(world::Micros(static_cast<int64_t>(env_.random().Uniform(interval_.count() + 1))),
                       [this] { Tick(); });
    incarnation_ = env_.random().Next() % 1000000;
  }

 private:
  void Tick() {
    if (nodes_ > 1) {
      next_peer_ = next_peer_ % nodes_ + 1;
      if (next_peer_ == id_) next_peer_ = next_peer_ % nodes_ + 1;
      const std::string tag = absl::StrCat(incarnation_, ":", ++seq_);
      history_.pings_sent.emplace(std::make_tuple(id_, next_peer_, tag), sim_now_());
      env_.transport().Send(next_peer_, absl::StrCat("ping ", tag));
    }
    env_.clock().After(interval_, [this] { Tick(); });
  }

  void OnMessage(PeerId from, const std::string& bytes) {
    std::vector<std::string> parts = absl::StrSplit(bytes, ' ');
    if (parts.size() != 2 || (parts[0] != "ping" && parts[0] != "pong")) {
      QDSIM_LOG(env_.logger(), kWarning) << "ignoring garbage from n" << from;
      return;
    }
    const std::string& tag = parts[1];
    if (parts[0] == "ping") {
      if (!history_.pings_sent.contains({from, id_, tag})) {
        history_.anomalies.push_back(absl::StrCat("n", id_, " got ping ", tag, " that n", from, " never sent it"));
      }
      history_.pings_seen.emplace(id_, from, tag);
      env_.transport().Send(from, absl::StrCat("pong ", tag));
      return;
    }
    if (!history_.pings_seen.contains({from, id_, tag})) {
      history_.anomalies.push_back(absl::StrCat("n", id_, " got pong ", tag, " from n", from,
                                                " which never received that ping"));
    }
    // A round counts for liveness only if its ping was sent after the faults ended.
    auto sent = history_.pings_sent.find({id_, from, tag});
    if (history_.faults_over && sent != history_.pings_sent.end() && sent->second >= history_.faults_end) {
      history_.round_after_faults.try_emplace({id_, from}, sim_now_());
    }
  }

  PeerId id_;
  uint32_t nodes_;
  world::Duration interval_;
  world::Env& env_;
  PingHistory& history_;
  uint64_t incarnation_ = 0;      // distinguishes this incarnation's tags from earlier ones
  uint64_t seq_ = 0;              // pings sent by this incarnation
  PeerId next_peer_ = 0;          // last peer pinged
  std::function<world::Instant()> sim_now_;  // the simulator's (unskewed) time, for the checks
};

class PhantomCheck : public sim::Checker {
 public:
  explicit PhantomCheck(PingHistory& h) : history_(h) {}
  std::string_view name() const override { return "no_phantom_messages"; }
  void AfterEvent(sim::Simulation& sim) override {
    if (history_.anomalies.empty()) return;
    sim.ReportViolation(std::string(name()), history_.anomalies.front());
    history_.anomalies.clear();
  }

 private:
  PingHistory& history_;
};

// After the faults end, every ordered pair of nodes completes a ping round within liveness_s.
class PingLivenessCheck : public sim::Checker {
 public:
  PingLivenessCheck(PingHistory& h, uint32_t nodes) : history_(h), nodes_(nodes) {}
  std::string_view name() const override { return "liveness"; }
  void AtEnd(sim::Simulation& sim) override {
    for (PeerId a = 1; a <= nodes_; ++a) {
      for (PeerId b = 1; b <= nodes_; ++b) {
        if (a == b || history_.round_after_faults.contains({a, b})) continue;
        sim.ReportViolation("liveness", absl::StrCat("no ping round n", a, "->n", b, " completed after the faults ended"));
        return;
      }
    }
  }
  std::vector<std::string> Report() const override {
    world::Duration worst{0};
    for (const auto& [pair, at] : history_.round_after_faults) worst = std::max(worst, at - history_.faults_end);
    return {absl::StrFormat("liveness: every pair completed a ping round within %.3f s of the faults ending",
                            world::ToSeconds(worst))};
  }

 private:
  PingHistory& history_;
  uint32_t nodes_;
};

class PingKind : public sim::NodeKind {
 public:
  explicit PingKind(const scenario::Scenario& s) : nodes_(s.nodes()) {
    int64_t ms = 50;
    if (auto it = s.options().find("ping_interval_ms"); it != s.options().end()) {
      if (!absl::SimpleAtoi(it->second, &ms) || ms <= 0) ms = 50;
    }
    interval_ = world::Millis(ms);
  }

  std::unique_ptr<sim::SimNode> Boot(PeerId id, world::Env& env) override {
    return std::make_unique<PingNode>(id, nodes_, interval_, env, history_,
                                      [this] { return sim_->now(); });
  }

  void Start(sim::Simulation& sim) override { sim_ = &sim; }

  void OnFaultsEnd(sim::Simulation& sim) override {
    history_.faults_over = true;
    history_.faults_end = sim.now();
  }

  std::vector<std::string> CheckNames() const override { return {"no_phantom_messages", "liveness"}; }
  std::unique_ptr<sim::Checker> MakeChecker(std::string_view name) override {
    if (name == "liveness") return std::make_unique<PingLivenessCheck>(history_, nodes_);
    return std::make_unique<PhantomCheck>(history_);
  }

 private:
  uint32_t nodes_;
  world::Duration interval_;
  PingHistory history_;
  sim::Simulation* sim_ = nullptr;  // set in Start(), before any node event runs
};

}  // namespace

void RegisterPingKind(sim::NodeKindRegistry& registry) {
  registry.Register("ping", [](const scenario::Scenario& s) -> absl::StatusOr<std::unique_ptr<sim::NodeKind>> {
    return std::make_unique<PingKind>(s);
  });
}

}  // namespace qdsim::scaffold
