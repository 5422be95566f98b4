#include "sim/nemesis.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sim/scenario.h"

namespace qdsim::sim {

Nemesis::Nemesis(Simulation& sim, const scenario::Scenario& scenario, world::Random rng)
    : sim_(sim), scenario_(scenario), rng_(rng) {}

void Nemesis::Start() {
  for (const scenario::Step& step : scenario_.faults().steps()) {
    sim_.scheduler().At(world::Instant(world::SecondsF(step.at_s())), [this, &step] {
      if (active_) Apply(step);
    });
  }
  for (Generated kind : {Generated::kCrash, Generated::kLeaderCrash, Generated::kPartition,
                         Generated::kPause, Generated::kClog}) {
    ScheduleNext(kind);
  }
}

void Nemesis::EndFaults() {
  active_ = false;
  sim_.trace().Record(sim_.now(), 0, "faults-end", "");
  sim_.network().Heal();
  sim_.network().UnclogAll();
  for (PeerId id = 1; id <= sim_.nodes(); ++id) {
    sim_.SetDiskFaults(id, false);
    sim_.Resume(id);
    sim_.Restart(id);
  }
}

uint32_t Nemesis::Down() const {
  uint32_t down = 0;
  for (PeerId id = 1; id <= sim_.nodes(); ++id) down += sim_.state(id) != NodeState::kUp;
  return down;
}

uint32_t Nemesis::MaxDown() const {
  const uint32_t configured = scenario_.faults().rates().max_down();
  return configured != 0 ? configured : (sim_.nodes() - 1) / 2;
}

std::optional<PeerId> Nemesis::RandomNode(NodeState want) {
  std::vector<PeerId> candidates;
  for (PeerId id = 1; id <= sim_.nodes(); ++id) {
    if (sim_.state(id) == want) candidates.push_back(id);
  }
  if (candidates.empty()) return std::nullopt;
  return candidates[rng_.Uniform(candidates.size())];
}

std::optional<PeerId> Nemesis::Resolve(const scenario::NodeRef& ref, NodeState want) {
  switch (ref.which_case()) {
    case scenario::NodeRef::kId: return ref.id();
    case scenario::NodeRef::kRole:
      if (auto id = sim_.kind().FindRole(sim_, ref.role())) return id;
      return RandomNode(want);
    default: return RandomNode(want);
  }
}

void Nemesis::ApplyPartition(const scenario::Partition& p) {
  SimNetwork& net = sim_.network();
  const uint32_t n = sim_.nodes();
  switch (p.kind_case()) {
    case scenario::Partition::kIsolate:
      if (auto id = Resolve(p.isolate(), NodeState::kUp)) net.Isolate(*id);
      break;
    case scenario::Partition::kOneWay: net.Cut(p.one_way().from(), p.one_way().to()); break;
    case scenario::Partition::kGroups: {
      std::vector<std::vector<PeerId>> groups;
      for (const auto& g : p.groups().group()) groups.emplace_back(g.node().begin(), g.node().end());
      net.SplitGroups(groups);
      break;
    }
    case scenario::Partition::kMajorityMinority:
    case scenario::Partition::kRandomHalves: {
      std::vector<PeerId> ids;
      for (PeerId id = 1; id <= n; ++id) ids.push_back(id);
      rng_.Shuffle(ids);
      size_t minority = std::max<size_t>(1, (n - 1) / 2);
      if (p.kind_case() == scenario::Partition::kRandomHalves && n > 1) minority = 1 + rng_.Uniform(n - 1);
      minority = std::min<size_t>(minority, n);
      net.SplitGroups({std::vector<PeerId>(ids.begin(), ids.begin() + minority),
                       std::vector<PeerId>(ids.begin() + minority, ids.end())});
      break;
    }
    case scenario::Partition::KIND_NOT_SET: break;
  }
}

void Nemesis::Apply(const scenario::Step& step) {
  using S = scenario::Step;
  sim_.CountFault();
  switch (step.action_case()) {
    case S::kPartition: ApplyPartition(step.partition()); break;
    case S::kHeal:
      sim_.network().Heal();
      sim_.network().UnclogAll();
      break;
    case S::kCrash:
      if (auto id = Resolve(step.crash(), NodeState::kUp)) sim_.Crash(*id);
      break;
    case S::kRestart:
      if (auto id = Resolve(step.restart(), NodeState::kDown)) sim_.Restart(*id);
      break;
    case S::kRestartAll:
      for (PeerId id = 1; id <= sim_.nodes(); ++id) sim_.Restart(id);
      break;
    case S::kPause:
      if (auto id = Resolve(step.pause(), NodeState::kUp)) sim_.Pause(*id);
      break;
    case S::kResume:
      if (auto id = Resolve(step.resume(), NodeState::kPaused)) sim_.Resume(*id);
      break;
    case S::kClog: sim_.network().Clog(step.clog().from(), step.clog().to()); break;
    case S::kUnclog: sim_.network().Unclog(step.unclog().from(), step.unclog().to()); break;
    case S::kSkew:
      if (auto id = Resolve(step.skew().node(), NodeState::kUp)) {
        sim_.SetClockSkew(*id, step.skew().drift_ppm(), world::SecondsF(step.skew().wall_offset_s()));
      }
      break;
    case S::kDiskFaults:
      if (auto id = Resolve(step.disk_faults().node(), NodeState::kUp)) {
        sim_.SetDiskFaults(*id, step.disk_faults().enabled());
      }
      break;
    case S::ACTION_NOT_SET: break;
  }
}

world::Duration Nemesis::DrawSeconds(const scenario::Range& range) {
  return world::SecondsF(Draw(range, rng_));
}

void Nemesis::ScheduleNext(Generated kind) {
  const auto& r = scenario_.faults().rates();
  double per_min = 0;
  switch (kind) {
    case Generated::kCrash: per_min = r.crash_per_min(); break;
    case Generated::kLeaderCrash: per_min = r.leader_crash_per_min(); break;
    case Generated::kPartition: per_min = r.partition_per_min(); break;
    case Generated::kPause: per_min = r.pause_per_min(); break;
    case Generated::kClog: per_min = r.clog_per_min(); break;
  }
  if (per_min <= 0) return;
  const world::Duration gap = world::SecondsF(rng_.Exponential(60.0 / per_min));
  const world::Instant at = sim_.now() + gap;
  if (at >= world::Instant(world::SecondsF(scenario_.duration_s()))) return;
  sim_.scheduler().At(at, [this, kind] {
    if (!active_) return;
    Fire(kind);
    ScheduleNext(kind);
  });
}

void Nemesis::Fire(Generated kind) {
  const auto& r = scenario_.faults().rates();
  switch (kind) {
    case Generated::kCrash:
    case Generated::kLeaderCrash:
    case Generated::kPause: {
      if (Down() >= MaxDown()) return;
      std::optional<PeerId> id;
      if (kind == Generated::kLeaderCrash) {
        id = sim_.kind().FindRole(sim_, "leader");
        if (id && sim_.state(*id) != NodeState::kUp) id.reset();
      } else {
        id = RandomNode(NodeState::kUp);
      }
      if (!id) return;
      sim_.CountFault();
      const bool crash = kind != Generated::kPause;
      crash ? sim_.Crash(*id) : sim_.Pause(*id);
      const uint64_t inc = sim_.incarnation(*id);
      sim_.scheduler().After(DrawSeconds(crash ? r.downtime_s() : r.pause_s()), [this, id, inc, crash] {
        if (!active_ || sim_.incarnation(*id) != inc) return;
        crash ? sim_.Restart(*id) : sim_.Resume(*id);
      });
      break;
    }
    case Generated::kPartition: {
      sim_.CountFault();
      scenario::Partition p;
      switch (rng_.Uniform(4)) {
        case 0: p.mutable_isolate()->set_random(true); break;
        case 1: p.set_majority_minority(true); break;
        case 2: p.set_random_halves(true); break;
        default: {
          const uint32_t n = sim_.nodes();
          if (n < 2) return;
          const PeerId from = 1 + rng_.Uniform(n);
          PeerId to = 1 + rng_.Uniform(n - 1);
          if (to >= from) ++to;
          p.mutable_one_way()->set_from(from);
          p.mutable_one_way()->set_to(to);
        }
      }
      sim_.network().Heal();
      ApplyPartition(p);
      const uint64_t generation = ++partition_generation_;
      sim_.scheduler().After(DrawSeconds(r.partition_s()), [this, generation] {
        if (active_ && generation == partition_generation_) sim_.network().Heal();
      });
      break;
    }
    case Generated::kClog: {
      const uint32_t n = sim_.nodes();
      if (n < 2) return;
      sim_.CountFault();
      const PeerId a = 1 + rng_.Uniform(n);
      PeerId b = 1 + rng_.Uniform(n - 1);
      if (b >= a) ++b;
      sim_.network().Clog(a, b);
      sim_.scheduler().After(DrawSeconds(r.clog_s()), [this, a, b] {
        if (active_) sim_.network().Unclog(a, b);
      });
      break;
    }
  }
}

}  // namespace qdsim::sim
