#include "interaction_env.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "node/raft/describe.h"

namespace qdsim::raft::testing {

void CapturingLogger::Log(world::LogLevel level, std::string_view message) {
  if (level == world::LogLevel::kDebug) return;
  const char* tag = level == world::LogLevel::kInfo      ? "INFO"
                    : level == world::LogLevel::kWarning ? "WARN"
                                                         : "ERROR";
  out_->append(*indent_).append(tag).append(" ").append(message).append("\n");
}

InteractionEnv::InteractionEnv() : logger_(&out_, &indent_) {}

std::string InteractionEnv::Handle(const datadriven::TestData& d) {
  using Handler = absl::Status (InteractionEnv::*)(const datadriven::TestData&);
  static const std::map<std::string, Handler> kHandlers = {
      {"add-nodes", &InteractionEnv::AddNodes},
      {"campaign", &InteractionEnv::Campaign},
      {"propose", &InteractionEnv::Propose},
      {"propose-conf-change", &InteractionEnv::ProposeConfChange},
      {"tick", &InteractionEnv::Tick},
      {"tick-heartbeat", &InteractionEnv::TickHeartbeat},
      {"tick-election", &InteractionEnv::TickElection},
      {"process-ready", &InteractionEnv::ProcessReady},
      {"deliver-msgs", &InteractionEnv::DeliverMsgs},
      {"stabilize", &InteractionEnv::Stabilize},
      {"isolate", &InteractionEnv::Isolate},
      {"heal", &InteractionEnv::Isolate},
      {"transfer-leadership", &InteractionEnv::TransferLeadership},
      {"compact", &InteractionEnv::Compact},
      {"report-unreachable", &InteractionEnv::ReportUnreachable},
      {"planted-bug", &InteractionEnv::PlantBug},
      {"raft-state", &InteractionEnv::RaftState},
      {"raft-log", &InteractionEnv::RaftLog},
      {"status", &InteractionEnv::Status},
      {"applied", &InteractionEnv::Applied},
      {"learner-caught-up", &InteractionEnv::LearnerCaughtUp},
  };
  out_.clear();
  indent_.clear();
  auto it = kHandlers.find(d.cmd);
  if (it == kHandlers.end()) return "error: unknown command " + d.cmd + "\n";
  absl::Status status = (this->*(it->second))(d);
  if (!status.ok()) out_ += "error: " + std::string(status.message()) + "\n";
  for (const std::string& violation : CheckInvariants()) out_ += "INVARIANT VIOLATED: " + violation + "\n";
  if (out_.empty()) out_ = "ok\n";
  return out_;
}

std::string InteractionEnv::Run(const std::string& command_line) {
  return Handle(datadriven::ParseCommandLine(command_line));
}

const RawNode* InteractionEnv::node(uint64_t id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second.raw.get();
}

std::vector<std::string> InteractionEnv::applied(uint64_t id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? std::vector<std::string>{} : it->second.applied;
}

void InteractionEnv::Print(const std::string& text) {
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    absl::StrAppend(&out_, indent_, line, "\n");
  }
}

absl::StatusOr<InteractionEnv::Node*> InteractionEnv::GetNode(uint64_t id) {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return absl::NotFoundError(absl::StrCat("no node ", id));
  return &it->second;
}

absl::StatusOr<std::vector<uint64_t>> InteractionEnv::IdsOrAll(const datadriven::TestData& d) {
  std::vector<uint64_t> ids;
  for (const datadriven::CmdArg& a : d.args) {
    if (!a.values.empty()) continue;
    uint64_t id = 0;
    if (!absl::SimpleAtoi(a.key, &id) || nodes_.count(id) == 0) {
      return absl::InvalidArgumentError("not a node id: " + a.key);
    }
    ids.push_back(id);
  }
  if (ids.empty()) {
    for (const auto& [id, node] : nodes_) ids.push_back(id);
  }
  return ids;
}

void InteractionEnv::TickNode(Node& node, int ticks) {
  for (int i = 0; i < ticks; ++i) node.raw->Tick();
}

bool InteractionEnv::ProcessReadyOf(uint64_t id) {
  Node& node = nodes_.at(id);
  if (!node.raw->HasReady()) return false;
  Ready rd = node.raw->GetReady();
  Print(absl::StrCat("> ", id, " handling Ready"));
  indent_ += "  ";
  Print(rd.ToString());
  // Persist: snapshot, then entries, then hard state.
  if (rd.snapshot) {
    (void)node.storage->ApplySnapshot(*rd.snapshot);
    node.conf_state = rd.snapshot->metadata().conf_state();
    node.applied = absl::StrSplit(rd.snapshot->data(), ',', absl::SkipEmpty());
  }
  if (absl::Status s = node.storage->Append(rd.entries); !s.ok()) {
    Print("error appending: " + std::string(s.message()));
  }
  if (rd.hard_state) node.storage->SetHardState(*rd.hard_state);
  // Send, then apply.
  for (raftpb::Message& m : rd.messages) in_flight_.push_back(std::move(m));
  for (const raftpb::Entry& e : rd.committed_entries) ApplyEntry(node, e);
  node.raw->Advance();
  indent_.resize(indent_.size() - 2);
  return true;
}

void InteractionEnv::ApplyEntry(Node& node, const raftpb::Entry& e) {
  if (e.type() != raftpb::ENTRY_CONF_CHANGE) {
    if (!e.data().empty()) node.applied.push_back(e.data());
    return;
  }
  raftpb::ConfChange cc;
  if (!cc.ParseFromString(e.data())) {
    Print("error: unparsable conf change at index " + std::to_string(e.index()));
    return;
  }
  node.conf_state = node.raw->ApplyConfChange(cc);
  node.applied.push_back(DescribeConfChange(cc));
}

size_t InteractionEnv::DeliverTo(uint64_t id, bool drop) {
  std::vector<raftpb::Message> mine;
  std::vector<raftpb::Message> rest;
  for (raftpb::Message& m : in_flight_) {
    (m.to() == id ? mine : rest).push_back(std::move(m));
  }
  in_flight_ = std::move(rest);
  if (mine.empty()) return 0;
  Print(absl::StrCat("> ", id, drop ? " dropping messages" : " receiving messages"));
  indent_ += "  ";
  for (const raftpb::Message& m : mine) {
    const bool cut = isolated_.count(m.from()) > 0 || isolated_.count(m.to()) > 0;
    if (drop || cut) {
      Print("dropped: " + DescribeMessage(m));
      continue;
    }
    Print(DescribeMessage(m));
    auto it = nodes_.find(id);
    if (it == nodes_.end()) continue;
    absl::Status s = it->second.raw->Step(m);
    if (!s.ok()) Print("error: " + std::string(s.message()));
  }
  indent_.resize(indent_.size() - 2);
  return mine.size();
}

}  // namespace qdsim::raft::testing
