// SimNetwork: unreliable datagrams between the simulated nodes, with partitions and clogs.
//
// Every link (from, to) has its own parameters, drawn per seed by the scenario runner: a base latency,
// the mean of an exponential jitter, and probabilities of loss, duplication and reordering (a
// reordered message is held back 1-10 extra base latencies). Links to oneself never lose messages.
//
// Partitions cut directed links: a message is dropped if its link is cut when it is sent or when it
// arrives. Clogging holds messages on a link (both directions) and releases them, with fresh
// latency, when the link is unclogged: nothing is lost. Heal() restores every cut link.
//
// All randomness comes from the generator given at construction, so the network's behaviour is a
// pure function of the seed and of the calls made.
//
// Thread-safety: none.
#ifndef QDSIM_SIM_NETWORK_H_
#define QDSIM_SIM_NETWORK_H_

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "node/world/random.h"
#include "node/world/time.h"
#include "node/world/transport.h"
#include "sim/scheduler.h"
#include "sim/trace.h"

namespace qdsim::sim {

using world::PeerId;

class SimNetwork {
 public:
  struct LinkParams {
    world::Duration latency{1000};
    double jitter_mean_us = 0;
    double loss = 0;
    double duplicate = 0;
    double reorder = 0;
  };

  struct Stats {
    uint64_t sent = 0, delivered = 0, duplicated = 0, reordered = 0, clogged = 0;
    uint64_t dropped_loss = 0, dropped_partition = 0;
  };

  // Hands an arrived message to the destination node (which may be down or paused: its business).
  using DeliverFn = std::function<void(PeerId from, PeerId to, std::string bytes)>;

  // `links` holds nodes*nodes entries, row-major by (from-1, to-1). Node ids are 1..nodes.
  SimNetwork(Scheduler& scheduler, Trace& trace, uint32_t nodes, std::vector<LinkParams> links,
             world::Random rng, DeliverFn deliver);

  uint32_t nodes() const { return nodes_; }

  // Queues a message; drops, duplicates and delays it according to the link. Unknown ids drop.
  void Send(PeerId from, PeerId to, std::string bytes);

  // Partitions. Each change is traced.
  void Cut(PeerId from, PeerId to);                               // one direction
  void Isolate(PeerId node);                                      // both ways, from everyone
  void SplitGroups(const std::vector<std::vector<PeerId>>& groups);// cut across groups, both ways
  void Heal();                                                    // restore every cut link
  bool Allows(PeerId from, PeerId to) const;

  // Clogs hold messages (both directions) until Unclog.
  void Clog(PeerId a, PeerId b);
  void Unclog(PeerId a, PeerId b);
  void UnclogAll();

  const LinkParams& link(PeerId from, PeerId to) const;
  const Stats& stats() const { return stats_; }

 private:
  struct Held {
    PeerId from, to;
    uint64_t id;
    std::string bytes;
  };
  using Key = std::pair<PeerId, PeerId>;
  static Key Undirected(PeerId a, PeerId b) { return a < b ? Key{a, b} : Key{b, a}; }
  bool Valid(PeerId id) const { return id >= 1 && id <= nodes_; }
  void Schedule(PeerId from, PeerId to, uint64_t id, std::string bytes, bool duplicate);
  void Arrive(PeerId from, PeerId to, uint64_t id, std::string bytes);
  void TraceCuts();

  Scheduler& scheduler_;
  Trace& trace_;
  uint32_t nodes_;
  std::vector<LinkParams> links_;
  world::Random rng_;
  DeliverFn deliver_;
  std::set<Key> cut_;              // directed links currently cut
  std::set<Key> clogged_;          // undirected links currently clogged
  std::vector<Held> held_;         // messages waiting on clogged links, in arrival order
  uint64_t next_message_id_ = 1;
  Stats stats_;
};

}  // namespace qdsim::sim

#endif  // QDSIM_SIM_NETWORK_H_
