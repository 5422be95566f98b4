#include "sim/network.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace qdsim::sim {

SimNetwork::SimNetwork(Scheduler& scheduler, Trace& trace, uint32_t nodes,
                       std::vector<LinkParams> links, world::Random rng, DeliverFn deliver)
    : scheduler_(scheduler),
      trace_(trace),
      nodes_(nodes),
      links_(std::move(links)),
      rng_(rng),
      deliver_(std::move(deliver)) {
  links_.resize(static_cast<size_t>(nodes_) * nodes_);
}

const SimNetwork::LinkParams& SimNetwork::link(PeerId from, PeerId to) const {
  return links_[(from - 1) * nodes_ + (to - 1)];
}

void SimNetwork::Send(PeerId from, PeerId to, std::string bytes) {
  const uint64_t id = next_message_id_++;
  ++stats_.sent;
  if (!Valid(from) || !Valid(to)) {
    trace_.Record(scheduler_.now(), from, "drop", absl::StrCat("id=", id, " to=n", to, " unknown-peer"));
    return;
  }
  trace_.Record(scheduler_.now(), from, "send",
                absl::StrCat("id=", id, " to=n", to, " bytes=", bytes.size()));
  if (!Allows(from, to)) {
    ++stats_.dropped_partition;
    trace_.Record(scheduler_.now(), from, "drop", absl::StrCat("id=", id, " partition"));
    return;
  }
  const LinkParams& p = link(from, to);
  if (from != to && rng_.Bernoulli(p.loss)) {
    ++stats_.dropped_loss;
    trace_.Record(scheduler_.now(), from, "drop", absl::StrCat("id=", id, " loss"));
    return;
  }
  if (from != to && rng_.Bernoulli(p.duplicate)) {
    ++stats_.duplicated;
    Schedule(from, to, id, bytes, /*duplicate=*/true);
  }
  Schedule(from, to, id, std::move(bytes), /*duplicate=*/false);
}

void SimNetwork::Schedule(PeerId from, PeerId to, uint64_t id, std::string bytes, bool duplicate) {
  const LinkParams& p = link(from, to);
  int64_t delay = p.latency.count() + static_cast<int64_t>(rng_.Exponential(p.jitter_mean_us));
  if (from != to && rng_.Bernoulli(p.reorder)) {
    ++stats_.reordered;
    delay += p.latency.count() * static_cast<int64_t>(rng_.UniformInt(1, 10));
  }
  if (duplicate) trace_.Record(scheduler_.now(), from, "dup", absl::StrCat("id=", id));
  scheduler_.After(world::Micros(delay), [this, from, to, id, bytes = std::move(bytes)]() mutable {
    Arrive(from, to, id, std::move(bytes));
  });
}

void SimNetwork::Arrive(PeerId from, PeerId to, uint64_t id, std::string bytes) {
  if (!Allows(from, to)) {
    ++stats_.dropped_partition;
    trace_.Record(scheduler_.now(), to, "drop", absl::StrCat("id=", id, " from=n", from, " partition"));
    return;
  }
  if (clogged_.contains(Undirected(from, to))) {
    ++stats_.clogged;
    trace_.Record(scheduler_.now(), to, "held", absl::StrCat("id=", id, " from=n", from, " clog"));
    held_.push_back(Held{from, to, id, std::move(bytes)});
    return;
  }
  ++stats_.delivered;
  trace_.Record(scheduler_.now(), to, "recv", absl::StrCat("id=", id, " from=n", from));
  deliver_(from, to, std::move(bytes));
}

bool SimNetwork::Allows(PeerId from, PeerId to) const { return !cut_.contains(Key{from, to}); }

void SimNetwork::TraceCuts() {
  std::string cuts;
  for (const auto& [a, b] : cut_) absl::StrAppend(&cuts, cuts.empty() ? "" : ",", a, ">", b);
  trace_.Record(scheduler_.now(), 0, "partition", cuts.empty() ? "none" : cuts);
}

void SimNetwork::Cut(PeerId from, PeerId to) {
  if (from != to && Valid(from) && Valid(to)) cut_.insert(Key{from, to});
  TraceCuts();
}

void SimNetwork::Isolate(PeerId node) {
  for (PeerId other = 1; other <= nodes_; ++other) {
    if (other == node || !Valid(node)) continue;
    cut_.insert(Key{node, other});
    cut_.insert(Key{other, node});
  }
  TraceCuts();
}

void SimNetwork::SplitGroups(const std::vector<std::vector<PeerId>>& groups) {
  std::vector<size_t> group_of(nodes_ + 1, SIZE_MAX);
  for (size_t g = 0; g < groups.size(); ++g) {
    for (PeerId id : groups[g]) {
      if (Valid(id)) group_of[id] = g;
    }
  }
  // Nodes in no group form a group of their own.
  for (PeerId a = 1; a <= nodes_; ++a) {
    for (PeerId b = 1; b <= nodes_; ++b) {
      if (a != b && group_of[a] != group_of[b]) cut_.insert(Key{a, b});
    }
  }
  TraceCuts();
}

void SimNetwork::Heal() {
  cut_.clear();
  TraceCuts();
}

void SimNetwork::UnclogAll() {
  while (!clogged_.empty()) Unclog(clogged_.begin()->first, clogged_.begin()->second);
}

void SimNetwork::Clog(PeerId a, PeerId b) {
  if (a == b || !Valid(a) || !Valid(b)) return;
  clogged_.insert(Undirected(a, b));
  trace_.Record(scheduler_.now(), 0, "clog", absl::StrCat("n", a, "-n", b));
}

void SimNetwork::Unclog(PeerId a, PeerId b) {
  if (clogged_.erase(Undirected(a, b)) == 0) return;
  trace_.Record(scheduler_.now(), 0, "unclog", absl::StrCat("n", a, "-n", b));
  std::vector<Held> release;
  auto on_link = [key = Undirected(a, b)](const Held& h) { return Undirected(h.from, h.to) == key; };
  for (Held& h : held_) {
    if (on_link(h)) release.push_back(std::move(h));
  }
  held_.erase(std::remove_if(held_.begin(), held_.end(), on_link), held_.end());
  for (Held& h : release) Schedule(h.from, h.to, h.id, std::move(h.bytes), /*duplicate=*/false);
}

}  // namespace qdsim::sim
