#include "sim/network.h"

#include <map>
#include <set>
#include <tuple>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "absl/strings/str_cat.h"

namespace qdsim::sim {
namespace {

// A network over `n` nodes whose deliveries are recorded as (from, to, payload).
struct Harness {
  Harness(uint32_t n, SimNetwork::LinkParams params, uint64_t seed)
      : net(scheduler, trace, n, std::vector<SimNetwork::LinkParams>(n * n, params), world::Random(seed),
            [this](PeerId from, PeerId to, std::string bytes) {
              open_on_arrival &= net.Allows(from, to);
              delivered.emplace_back(from, to, bytes);
            }) {}
  void Drain() {
    while (scheduler.Step()) {}
  }
  Scheduler scheduler;
  Trace trace;
  SimNetwork net;
  std::vector<std::tuple<PeerId, PeerId, std::string>> delivered;
  bool open_on_arrival = true;  // every delivery happened over an open link
};

TEST(NetworkTest, IsolateCutsBothWaysAndHealRestores) {
  Harness h(3, {}, 1);
  h.net.Isolate(1);
  EXPECT_FALSE(h.net.Allows(1, 2));
  EXPECT_FALSE(h.net.Allows(3, 1));
  EXPECT_TRUE(h.net.Allows(2, 3));
  h.net.Heal();
  EXPECT_TRUE(h.net.Allows(1, 2));
}

TEST(NetworkTest, ClogHoldsMessagesAndUnclogReleasesAll) {
  Harness h(2, {}, 1);
  h.net.Clog(1, 2);
  for (int i = 0; i < 5; ++i) h.net.Send(1, 2, absl::StrCat(i));
  h.Drain();
  EXPECT_TRUE(h.delivered.empty());
  EXPECT_EQ(h.net.stats().clogged, 5u);
  h.net.Unclog(2, 1);  // either direction names the link
  h.Drain();
  EXPECT_EQ(h.delivered.size(), 5u);
}

TEST(NetworkTest, DuplicationDeliversTwiceAndLossDropsAll) {
  Harness dup(2, {.duplicate = 1.0}, 1);
  dup.net.Send(1, 2, "x");
  dup.Drain();
  EXPECT_EQ(dup.delivered.size(), 2u);
  Harness lossy(2, {.loss = 1.0}, 1);
  lossy.net.Send(1, 2, "x");
  lossy.net.Send(1, 1, "self");  // links to oneself never lose
  lossy.Drain();
  ASSERT_EQ(lossy.delivered.size(), 1u);
  EXPECT_EQ(std::get<2>(lossy.delivered[0]), "self");
}

TEST(NetworkTest, UnknownPeerIsDroppedNotFatal) {
  Harness h(2, {}, 1);
  h.net.Send(1, 9, "x");
  h.Drain();
  EXPECT_TRUE(h.delivered.empty());
}

// One step of a random history: send on a link, change the partition, or let time pass.
struct NetOp {
  int kind;  // 0-5 send, 6 cut a random unprotected link, 7 split groups, 8 heal, 9 advance time
  uint32_t a, b;
};

// Property: with no loss, a message is delivered if and only if its link is open both when it is sent
// and when it arrives; links never cut lose nothing, across any sequence of partitions and heals.
RC_GTEST_PROP(NetworkTest, PartitionsDeliverExactlyTheLinksTheyAllow, (uint64_t seed)) {
  const uint32_t n = *rc::gen::inRange<uint32_t>(2, 7);
  const auto ops = *rc::gen::container<std::vector<NetOp>>(rc::gen::build<NetOp>(
      rc::gen::set(&NetOp::kind, rc::gen::inRange(0, 10)),
      rc::gen::set(&NetOp::a, rc::gen::inRange<uint32_t>(1, n + 1)),
      rc::gen::set(&NetOp::b, rc::gen::inRange<uint32_t>(1, n + 1))));
  // Links between nodes of the "protected" set are never cut.
  const uint32_t protected_up_to = *rc::gen::inRange<uint32_t>(0, n + 1);
  auto is_protected = [&](PeerId a, PeerId b) { return a <= protected_up_to && b <= protected_up_to; };

  Harness h(n, {.latency = world::Micros(500), .jitter_mean_us = 300, .reorder = 0.2}, seed);
  std::map<std::string, std::pair<PeerId, PeerId>> sent_open;  // payload -> link, open when sent
  std::set<std::string> sent_cut;
  int counter = 0;
  for (const NetOp& op : ops) {
    if (op.kind <= 5) {
      const std::string payload = absl::StrCat("m", counter++);
      if (h.net.Allows(op.a, op.b)) {
        sent_open[payload] = {op.a, op.b};
      } else {
        sent_cut.insert(payload);
      }
      h.net.Send(op.a, op.b, payload);
    } else if (op.kind == 6) {
      if (!is_protected(op.a, op.b)) h.net.Cut(op.a, op.b);
    } else if (op.kind == 7) {
      // Split off one unprotected node (if any) from everyone.
      if (op.a > protected_up_to) h.net.Isolate(op.a);
    } else if (op.kind == 8) {
      h.net.Heal();
    } else {
      // Let a little time pass, noting for each arrival whether its link was open.
      const world::Instant until = h.scheduler.now() + world::Micros(op.a * 400);
      while (h.scheduler.pending() > 0 && h.scheduler.NextTime() <= until) h.scheduler.Step();
    }
  }
  // Deliver everything still in flight with the partitions as they are now.
  h.Drain();
  std::multiset<std::string> got;
  for (const auto& [from, to, payload] : h.delivered) got.insert(payload);
  for (const std::string& p : sent_cut) RC_ASSERT(got.count(p) == 0u);
  for (const auto& [payload, link] : sent_open) {
    RC_ASSERT(got.count(payload) <= 1u);
    if (is_protected(link.first, link.second)) RC_ASSERT(got.count(payload) == 1u);
  }
  // Everything delivered was sent on an open link and arrived over a link that was open then: the
  // network's own accounting must agree with what we saw.
  RC_ASSERT(h.open_on_arrival);
  RC_ASSERT(h.net.stats().delivered == h.delivered.size());
  RC_ASSERT(h.net.stats().delivered + h.net.stats().dropped_partition == h.net.stats().sent);
}

}  // namespace
}  // namespace qdsim::sim
