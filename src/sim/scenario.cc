#include "sim/scenario.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "node/world/status_macros.h"
#include "node/world/strings.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace qdsim::sim {
namespace {

constexpr uint32_t kMaxNodes = 64;
constexpr double kMaxSeconds = 24 * 3600;

class ErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  explicit ErrorCollector(std::string_view origin) : origin_(origin) {}
  void AddError(int line, int column, const std::string& message) override {
    if (first_.empty()) first_ = absl::StrCat(origin_, ":", line + 1, ":", column + 1, ": ", message);
  }
  void AddWarning(int line, int column, const std::string& message) override {}
  const std::string& first() const { return first_; }

 private:
  std::string origin_;
  std::string first_;
};

absl::Status CheckRange(const scenario::Range& r, const std::string& what, double lo, double hi) {
  const double max = r.max() > r.min() ? r.max() : r.min();
  if (!std::isfinite(r.min()) || !std::isfinite(r.max()) || r.min() < lo || max > hi ||
      (r.max() != 0 && r.max() < r.min())) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s must satisfy %g <= min <= max <= %g (got min=%g max=%g)", what, lo, hi,
                        r.min(), r.max()));
  }
  return absl::OkStatus();
}

absl::Status CheckNode(const scenario::NodeRef& ref, uint32_t nodes, const std::string& what) {
  if (ref.which_case() == scenario::NodeRef::kId && (ref.id() < 1 || ref.id() > nodes)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": node id ", ref.id(), " is not in 1..", nodes));
  }
  return absl::OkStatus();
}

absl::Status CheckLink(const scenario::Link& l, uint32_t nodes, const std::string& what) {
  if (l.from() < 1 || l.from() > nodes || l.to() < 1 || l.to() > nodes || l.from() == l.to()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": link ", l.from(), "->", l.to(), " needs two distinct ids in 1..", nodes));
  }
  return absl::OkStatus();
}

absl::Status CheckStep(const scenario::Step& step, const scenario::Scenario& s) {
  const uint32_t n = s.nodes();
  const std::string what = absl::StrCat("step at ", step.at_s(), " s");
  if (!std::isfinite(step.at_s()) || step.at_s() < 0 || step.at_s() > s.duration_s()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": at_s must lie within the fault phase [0, duration_s]"));
  }
  using S = scenario::Step;
  switch (step.action_case()) {
    case S::kPartition: {
      const auto& p = step.partition();
      if (p.kind_case() == scenario::Partition::kIsolate) return CheckNode(p.isolate(), n, what);
      if (p.kind_case() == scenario::Partition::kOneWay) return CheckLink(p.one_way(), n, what);
      if (p.kind_case() == scenario::Partition::kGroups) {
        for (const auto& g : p.groups().group()) {
          for (uint32_t id : g.node()) {
            if (id < 1 || id > n) return absl::InvalidArgumentError(absl::StrCat(what, ": node ", id, " not in 1..", n));
          }
        }
      }
      if (p.kind_case() == scenario::Partition::KIND_NOT_SET) {
        return absl::InvalidArgumentError(absl::StrCat(what, ": partition needs a kind"));
      }
      return absl::OkStatus();
    }
    case S::kCrash: return CheckNode(step.crash(), n, what);
    case S::kRestart: return CheckNode(step.restart(), n, what);
    case S::kPause: return CheckNode(step.pause(), n, what);
    case S::kResume: return CheckNode(step.resume(), n, what);
    case S::kClog: return CheckLink(step.clog(), n, what);
    case S::kUnclog: return CheckLink(step.unclog(), n, what);
    case S::kSkew:
      if (!std::isfinite(step.skew().drift_ppm()) || std::abs(step.skew().drift_ppm()) > 100000 ||
          !std::isfinite(step.skew().wall_offset_s()) || std::abs(step.skew().wall_offset_s()) > kMaxSeconds) {
        return absl::InvalidArgumentError(absl::StrCat(what, ": skew drift_ppm must be within ±100000"));
      }
      return CheckNode(step.skew().node(), n, what);
    case S::kDiskFaults: return CheckNode(step.disk_faults().node(), n, what);
    case S::kHeal:
    case S::kRestartAll: return absl::OkStatus();
    case S::ACTION_NOT_SET: return absl::InvalidArgumentError(absl::StrCat(what, ": no action"));
  }
  return absl::OkStatus();
}

absl::Status CheckRates(const scenario::FaultRates& r, uint32_t nodes) {
  for (double rate : {r.crash_per_min(), r.leader_crash_per_min(), r.partition_per_min(),
                      r.pause_per_min(), r.clog_per_min()}) {
    if (!std::isfinite(rate) || rate < 0 || rate > 600) {
      return absl::InvalidArgumentError("fault rates must be within [0, 600] per minute");
    }
  }
  for (const auto* range : {&r.downtime_s(), &r.partition_s(), &r.pause_s(), &r.clog_s()}) {
    RETURN_IF_ERROR(CheckRange(*range, "fault duration (s)", 0, kMaxSeconds));
  }
  if (r.max_down() >= nodes && nodes > 0 && r.max_down() != 0) {
    return absl::InvalidArgumentError(absl::StrCat("faults.rates.max_down must be below nodes (", nodes, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<scenario::Scenario> ParseScenario(std::string_view text, std::string_view origin) {
  scenario::Scenario s;
  ErrorCollector errors(origin);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &s)) {
    return absl::InvalidArgumentError(errors.first().empty() ? absl::StrCat(world::Sv(origin), ": cannot parse")
                                                              : errors.first());
  }
  return s;
}

absl::Status ValidateScenario(const scenario::Scenario& s) {
  if (s.node_kind().empty()) return absl::InvalidArgumentError("node_kind is required");
  if (s.nodes() < 1 || s.nodes() > kMaxNodes) {
    return absl::InvalidArgumentError(absl::StrCat("nodes must be within 1..", kMaxNodes));
  }
  if (!std::isfinite(s.duration_s()) || s.duration_s() <= 0 || s.duration_s() > kMaxSeconds) {
    return absl::InvalidArgumentError("duration_s must be positive and at most a day");
  }
  if (!std::isfinite(s.liveness_s()) || s.liveness_s() < 0 || s.liveness_s() > kMaxSeconds) {
    return absl::InvalidArgumentError("liveness_s must be within [0, 86400]");
  }
  const auto& net = s.network();
  RETURN_IF_ERROR(CheckRange(net.latency_ms(), "network.latency_ms", 0, 60000));
  RETURN_IF_ERROR(CheckRange(net.jitter_ms(), "network.jitter_ms", 0, 60000));
  RETURN_IF_ERROR(CheckRange(net.loss(), "network.loss", 0, 1));
  RETURN_IF_ERROR(CheckRange(net.duplicate(), "network.duplicate", 0, 1));
  RETURN_IF_ERROR(CheckRange(net.reorder(), "network.reorder", 0, 1));
  const auto& disk = s.disk();
  RETURN_IF_ERROR(CheckRange(disk.sync_latency_ms(), "disk.sync_latency_ms", 0, 60000));
  RETURN_IF_ERROR(CheckRange(disk.write_latency_us(), "disk.write_latency_us", 0, 1e7));
  RETURN_IF_ERROR(CheckRange(disk.read_error(), "disk.read_error", 0, 1));
  RETURN_IF_ERROR(CheckRange(disk.bit_flip(), "disk.bit_flip", 0, 1));
  if (disk.sector_bytes() > 1 << 20) return absl::InvalidArgumentError("disk.sector_bytes is at most 1 MiB");
  for (const auto& step : s.faults().steps()) RETURN_IF_ERROR(CheckStep(step, s));
  RETURN_IF_ERROR(CheckRates(s.faults().rates(), s.nodes()));
  if (s.workload().clients() > 10000 || !std::isfinite(s.workload().ops_per_s()) ||
      s.workload().ops_per_s() < 0 || s.workload().ops_per_s() > 1e6) {
    return absl::InvalidArgumentError("workload: clients <= 10000 and 0 <= ops_per_s <= 1e6");
  }
  return absl::OkStatus();
}

double Draw(const scenario::Range& range, world::Random& rng) {
  const double u = rng.UniformReal();
  if (range.max() <= range.min()) return range.min();
  return range.min() + (range.max() - range.min()) * u;
}

ResolvedWorld ResolveWorld(const scenario::Scenario& s, world::Random& rng) {
  ResolvedWorld w;
  const uint32_t n = s.nodes();
  w.config.nodes = n;
  w.config.links.resize(static_cast<size_t>(n) * n);
  const auto& net = s.network();
  for (uint32_t from = 1; from <= n; ++from) {
    for (uint32_t to = 1; to <= n; ++to) {
      SimNetwork::LinkParams& p = w.config.links[(from - 1) * n + (to - 1)];
      p.latency = world::Micros(static_cast<int64_t>(Draw(net.latency_ms(), rng) * 1000));
      p.jitter_mean_us = Draw(net.jitter_ms(), rng) * 1000;
      p.loss = Draw(net.loss(), rng);
      p.duplicate = Draw(net.duplicate(), rng);
      p.reorder = Draw(net.reorder(), rng);
      if (from == to) p = SimNetwork::LinkParams{world::Micros(10), 0, 0, 0, 0};
      if (from != to) {
        w.description.push_back(absl::StrFormat(
            "link n%d>n%d latency=%.2fms jitter=%.2fms loss=%.3f dup=%.3f reorder=%.3f", from, to,
            p.latency.count() / 1000.0, p.jitter_mean_us / 1000.0, p.loss, p.duplicate, p.reorder));
      }
    }
  }
  const auto& disk = s.disk();
  for (uint32_t id = 1; id <= n; ++id) {
    Simulation::NodeParams np;
    np.sync_latency = world::Micros(static_cast<int64_t>(Draw(disk.sync_latency_ms(), rng) * 1000));
    np.disk.torn_writes = disk.torn_writes();
    np.disk.sector_bytes = disk.sector_bytes() == 0 ? 512 : disk.sector_bytes();
    np.disk.read_error = Draw(disk.read_error(), rng);
    np.disk.bit_flip = Draw(disk.bit_flip(), rng);
    np.disk.capacity_bytes = disk.capacity_bytes();
    w.description.push_back(absl::StrFormat(
        "disk n%d sync=%.2fms torn=%d read_error=%.4f bit_flip=%.4f capacity=%d", id,
        np.sync_latency.count() / 1000.0, np.disk.torn_writes, np.disk.read_error, np.disk.bit_flip,
        np.disk.capacity_bytes));
    w.config.node_params.push_back(np);
  }
  return w;
}

}  // namespace qdsim::sim
