// The "synclog" scaffold kind: an append-and-sync log over the simulated disk.
//
// Records use the project's framing (node/world/records.h); a payload is "n<id>:r<seq>".
// A node appends the next record every append interval (workload.ops_per_s spread over the nodes),
// syncs, and acknowledges every record the completed sync covered. On boot it recovers the file:
// it keeps the longest prefix of valid records (re-reading to tell a transient bit flip or read error
// from a torn tail), truncates the rest, and carries on from there.
//
// The kind checks the disk's promise end to end: every acknowledged record survives every crash.
// Option "planted_bug": "ack_before_sync" makes nodes acknowledge a record as soon as it is appended,
// a classic durability bug that the no_acked_loss check must catch.
#include <map>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "node/world/records.h"
#include "node/world/log.h"
#include "sim/simulation.h"
#include "tests/sim/scaffold/scaffold.h"

namespace qdsim::scaffold {
namespace {

using world::PeerId;

constexpr char kLogFile[] = "synclog/records";

std::string Payload(PeerId id, uint64_t seq) { return absl::StrCat("n", id, ":r", seq); }

constexpr uint8_t kRecordType = 1;

// Parses the longest valid prefix; returns the payloads and sets *valid_bytes.
std::vector<std::string> ParseRecords(std::string_view bytes, size_t* valid_bytes) {
  std::vector<std::string> out;
  world::RecordReader reader(bytes);
  while (auto r = reader.Next()) out.emplace_back(r->payload);
  *valid_bytes = reader.valid_bytes();
  return out;
}

// Ground truth and findings shared by the nodes and the checks.
struct SyncLogHistory {
  std::map<PeerId, uint64_t> acked;       // highest acknowledged seq per node
  std::map<PeerId, uint64_t> appended;    // highest seq ever appended per node
  std::vector<std::string> anomalies;     // not yet reported
  world::Instant faults_end{};
  bool faults_over = false;
  std::map<PeerId, world::Instant> acked_after_faults;  // first ack after the faults ended
};

class SyncLogNode : public sim::SimNode {
 public:
  SyncLogNode(PeerId id, world::Duration interval, bool ack_before_sync, world::Env& env,
              SyncLogHistory& history, std::function<world::Instant()> sim_now)
      : id_(id), interval_(interval), ack_before_sync_(ack_before_sync), env_(env), history_(history),
        sim_now_(std::move(sim_now)) {
    Recover();
    env_.clock().After(interval_, [this] { Tick(); });
  }

 private:
  // Bit flips and read errors are transient in the fault model and a flip can only shorten the valid
  // prefix, so the longest prefix over a few reads is the file's; a torn tail is short every time.
  void Recover() {
    if (!env_.disk().Size(kLogFile).ok()) return;  // never created
    absl::StatusOr<std::string> bytes = world::ReadRecordFile(env_.disk(), kLogFile, /*whole_file_must_parse=*/false);
    if (!bytes.ok()) {
      history_.anomalies.push_back(absl::StrCat("n", id_, " could not read its log: ", bytes.status().message()));
      return;
    }
    size_t valid = 0;
    const std::vector<std::string> records = ParseRecords(*bytes, &valid);
    for (size_t i = 0; i < records.size(); ++i) {
      if (records[i] != Payload(id_, i + 1)) {
        history_.anomalies.push_back(absl::StrCat("n", id_, " record ", i + 1, " holds '", records[i],
                                                  "', expected '", Payload(id_, i + 1), "'"));
        return;
      }
    }
    next_seq_ = records.size() + 1;
    const uint64_t acked = history_.acked[id_];
    if (records.size() < acked) {
      history_.anomalies.push_back(absl::StrCat("n", id_, " recovered ", records.size(),
                                                " records but had acknowledged ", acked));
    }
    if (absl::Status s = env_.disk().Truncate(kLogFile, valid); !s.ok()) {
      QDSIM_LOG(env_.logger(), kWarning) << "truncate failed: " << s.message();
    }
    QDSIM_LOG(env_.logger(), kInfo) << "recovered " << records.size() << " records";
  }

  void Tick() {
    const uint64_t seq = next_seq_;
    absl::Status s = env_.disk().Append(kLogFile, world::EncodeRecord(kRecordType, Payload(id_, seq)));
    if (s.ok()) {
      ++next_seq_;
      history_.appended[id_] = std::max(history_.appended[id_], seq);
      if (ack_before_sync_) OnSynced(seq, absl::OkStatus());
      env_.disk().Sync(kLogFile, [this, seq](absl::Status st) { OnSynced(seq, st); });
    } else {
      QDSIM_LOG(env_.logger(), kWarning) << "append failed: " << s.message();
    }
    env_.clock().After(interval_, [this] { Tick(); });
  }

  void OnSynced(uint64_t seq, const absl::Status& status) {
    if (!status.ok()) return;
    uint64_t& acked = history_.acked[id_];
    acked = std::max(acked, seq);
    if (history_.faults_over) history_.acked_after_faults.try_emplace(id_, sim_now_());
  }

  PeerId id_;
  world::Duration interval_;
  bool ack_before_sync_;  // planted bug: acknowledge on append
  world::Env& env_;
  SyncLogHistory& history_;
  std::function<world::Instant()> sim_now_;
  uint64_t next_seq_ = 1;  // seq of the next record to append
};

class AckedLossCheck : public sim::Checker {
 public:
  explicit AckedLossCheck(SyncLogHistory& h) : history_(h) {}
  std::string_view name() const override { return "no_acked_loss"; }
  void AfterEvent(sim::Simulation& sim) override {
    if (history_.anomalies.empty()) return;
    sim.ReportViolation(std::string(name()), history_.anomalies.front());
    history_.anomalies.clear();
  }

 private:
  SyncLogHistory& history_;
};

// After the faults end, every node acknowledges a new record within liveness_s.
class SyncLogLivenessCheck : public sim::Checker {
 public:
  SyncLogLivenessCheck(SyncLogHistory& h, uint32_t nodes) : history_(h), nodes_(nodes) {}
  std::string_view name() const override { return "liveness"; }
  void AtEnd(sim::Simulation& sim) override {
    for (PeerId id = 1; id <= nodes_; ++id) {
      if (!history_.acked_after_faults.contains(id)) {
        sim.ReportViolation("liveness", absl::StrCat("n", id, " acknowledged nothing after the faults ended"));
        return;
      }
    }
  }
  std::vector<std::string> Report() const override {
    world::Duration worst{0};
    for (const auto& [id, at] : history_.acked_after_faults) worst = std::max(worst, at - history_.faults_end);
    return {absl::StrFormat("liveness: every node acknowledged a record within %.3f s of the faults ending",
                            world::ToSeconds(worst))};
  }

 private:
  SyncLogHistory& history_;
  uint32_t nodes_;
};

class SyncLogKind : public sim::NodeKind {
 public:
  explicit SyncLogKind(const scenario::Scenario& s) : nodes_(s.nodes()) {
    const double per_node = s.workload().ops_per_s() > 0 ? s.workload().ops_per_s() / s.nodes() : 20;
    interval_ = world::Micros(std::max<int64_t>(1, static_cast<int64_t>(1e6 / per_node)));
    auto bug = s.options().find("planted_bug");
    ack_before_sync_ = bug != s.options().end() && bug->second == "ack_before_sync";
  }

  std::unique_ptr<sim::SimNode> Boot(PeerId id, world::Env& env) override {
    return std::make_unique<SyncLogNode>(id, interval_, ack_before_sync_, env, history_,
                                         [this] { return sim_->now(); });
  }
  void Start(sim::Simulation& sim) override { sim_ = &sim; }
  void OnFaultsEnd(sim::Simulation& sim) override {
    history_.faults_over = true;
    history_.faults_end = sim.now();
  }
  std::vector<std::string> CheckNames() const override { return {"no_acked_loss", "liveness"}; }
  std::unique_ptr<sim::Checker> MakeChecker(std::string_view name) override {
    if (name == "liveness") return std::make_unique<SyncLogLivenessCheck>(history_, nodes_);
    return std::make_unique<AckedLossCheck>(history_);
  }

 private:
  uint32_t nodes_;
  world::Duration interval_;
  bool ack_before_sync_ = false;
  SyncLogHistory history_;
  sim::Simulation* sim_ = nullptr;  // set in Start(), before any node event runs
};

}  // namespace

void RegisterSyncLogKind(sim::NodeKindRegistry& registry) {
  registry.Register("synclog", [](const scenario::Scenario& s) -> absl::StatusOr<std::unique_ptr<sim::NodeKind>> {
    return std::make_unique<SyncLogKind>(s);
  });
}

}  // namespace qdsim::scaffold
