// RpcEndpoint in the simulator: answers, errors, timeouts, and exactly one callback per call over a
// lossy, duplicating network.
#include "node/rpc/rpc_endpoint.h"

#include <gtest/gtest.h>

#include "sim/simulation.h"

namespace qdsim::rpc {
namespace {

using sim::PeerId;

class RpcCluster : public sim::NodeKind {
 public:
  struct Node : sim::SimNode {
    explicit Node(world::Env& env) : rpc(env), env(env) {}
    RpcEndpoint rpc;
    world::Env& env;
    int handled = 0;  // requests this incarnation's handlers saw
  };

  RpcCluster(double loss, double duplicate, uint64_t seed = 1) {
    sim::Simulation::Config config;
    config.nodes = 2;
    config.links.assign(4, sim::SimNetwork::LinkParams{world::Millis(1), 500, loss, duplicate, 0.1});
    config.node_params.assign(2, sim::Simulation::NodeParams{{}, world::Millis(1)});
    sim_ = std::make_unique<sim::Simulation>(config, seed, *this);
    sim_->Boot(1);
    sim_->Boot(2);
  }

  std::unique_ptr<sim::SimNode> Boot(PeerId id, world::Env& env) override {
    auto node = std::make_unique<Node>(env);
    Node* n = node.get();
    env.transport().SetReceiver([n](PeerId from, std::string bytes) {
      peerpb::Envelope e;
      if (e.ParseFromString(bytes) && e.has_rpc()) n->rpc.Receive(from, e.rpc());
    });
    n->rpc.Handle("echo", [n](PeerId, std::string body, RpcEndpoint::Reply reply) {
      ++n->handled;
      reply(absl::OkStatus(), "echo:" + body);
    });
    n->rpc.Handle("fail", [](PeerId, std::string, RpcEndpoint::Reply reply) {
      reply(absl::NotFoundError("Not found: Collection `x` doesn't exist!"), "");
    });
    n->rpc.Handle("slow", [n](PeerId, std::string body, RpcEndpoint::Reply reply) {
      n->env.clock().After(world::Seconds(2), [reply, body] { reply(absl::OkStatus(), body); });
    });
    return node;
  }
  std::vector<std::string> CheckNames() const override { return {}; }
  std::unique_ptr<sim::Checker> MakeChecker(std::string_view) override { return nullptr; }

  Node* node(PeerId id) { return static_cast<Node*>(sim_->node(id)); }
  sim::Simulation& sim() { return *sim_; }
  void RunFor(world::Duration d) { sim_->scheduler().RunUntil(sim_->now() + d); }
  // Calls from node 1 to node 2 and runs until the callback (or 10 s).
  std::optional<absl::StatusOr<std::string>> CallAndWait(const std::string& method, const std::string& body,
                                                         world::Duration timeout = world::Seconds(1)) {
    std::optional<absl::StatusOr<std::string>> out;
    sim_->PostToNode(1, sim_->now(), [&, method, body, timeout] {
      node(1)->rpc.Call(2, method, body, timeout, [&](absl::StatusOr<std::string> r) { out = std::move(r); });
    });
    for (int i = 0; i < 1000 && !out; ++i) RunFor(world::Millis(10));
    return out;
  }

 private:
  std::unique_ptr<sim::Simulation> sim_;
};

TEST(RpcEndpointTest, AnswersAndErrorsCrossTheNetwork) {
  RpcCluster c(0, 0);
  auto ok = c.CallAndWait("echo", "hi");
  ASSERT_TRUE(ok && ok->ok());
  EXPECT_EQ(**ok, "echo:hi");
  auto err = c.CallAndWait("fail", "");
  ASSERT_TRUE(err.has_value());
  EXPECT_TRUE(absl::IsNotFound(err->status()));
  EXPECT_EQ(err->status().message(), "Not found: Collection `x` doesn't exist!");
  auto unknown = c.CallAndWait("nope", "");
  ASSERT_TRUE(unknown.has_value());
  EXPECT_TRUE(absl::IsUnimplemented(unknown->status()));
}

TEST(RpcEndpointTest, TimesOutAndIgnoresTheLateAnswer) {
  RpcCluster c(0, 0);
  auto slow = c.CallAndWait("slow", "x", world::Seconds(1));
  ASSERT_TRUE(slow.has_value());
  EXPECT_TRUE(absl::IsDeadlineExceeded(slow->status())) << slow->status();
  c.RunFor(world::Seconds(3));  // the late answer arrives and is dropped
  EXPECT_EQ(c.node(1)->rpc.pending_calls(), 0u);
}

TEST(RpcEndpointTest, ACrashedCalleeIsATimeout) {
  RpcCluster c(0, 0);
  c.sim().Crash(2);
  auto r = c.CallAndWait("echo", "x", world::Millis(500));
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(absl::IsDeadlineExceeded(r->status()));
}

// Over a lossy, duplicating, reordering network every call gets exactly one callback, and every
// answer that arrives is the right one for its call.
TEST(RpcEndpointTest, ExactlyOneCallbackPerCallOnABadNetwork) {
  RpcCluster c(/*loss=*/0.2, /*duplicate=*/0.3, /*seed=*/7);
  std::map<int, int> callbacks;
  int answered = 0;
  c.sim().PostToNode(1, c.sim().now(), [&] {
    for (int i = 0; i < 200; ++i) {
      c.node(1)->rpc.Call(2, "echo", std::to_string(i), world::Millis(300), [&, i](absl::StatusOr<std::string> r) {
        ++callbacks[i];
        if (r.ok()) {
          ++answered;
          EXPECT_EQ(*r, "echo:" + std::to_string(i));
        } else {
          EXPECT_TRUE(absl::IsDeadlineExceeded(r.status()));
        }
      });
    }
  });
  c.RunFor(world::Seconds(2));
  ASSERT_EQ(callbacks.size(), 200u);
  for (const auto& [i, n] : callbacks) EXPECT_EQ(n, 1) << "call " << i;
  EXPECT_GT(answered, 100);  // ~64% get through both ways
  EXPECT_LT(answered, 200);
  EXPECT_GE(c.node(2)->handled, answered) << "duplicated requests are handled again";
  EXPECT_EQ(c.node(1)->rpc.pending_calls(), 0u);
}

// Retransmission: over the same bad network every call is answered, and every request is handled
// exactly once — copies that arrive while the handler works are ignored, later ones get the
// remembered reply.
TEST(RpcEndpointTest, RetransmittedCallsAreAnsweredAndHandledOnce) {
  RpcCluster c(/*loss=*/0.2, /*duplicate=*/0.3, /*seed=*/7);
  std::map<int, int> callbacks;
  int answered = 0;
  c.sim().PostToNode(1, c.sim().now(), [&] {
    for (int i = 0; i < 200; ++i) {
      c.node(1)->rpc.Call(
          2, "echo", std::to_string(i), world::Seconds(3),
          [&, i](absl::StatusOr<std::string> r) {
            ++callbacks[i];
            ASSERT_TRUE(r.ok()) << "call " << i << ": " << r.status();
            ++answered;
            EXPECT_EQ(*r, "echo:" + std::to_string(i));
          },
          world::Millis(50));
    }
  });
  c.RunFor(world::Seconds(4));
  ASSERT_EQ(callbacks.size(), 200u);
  for (const auto& [i, n] : callbacks) EXPECT_EQ(n, 1) << "call " << i;
  EXPECT_EQ(answered, 200);
  EXPECT_EQ(c.node(2)->handled, 200);
  EXPECT_EQ(c.node(1)->rpc.pending_calls(), 0u);
}

TEST(RpcEndpointTest, ASlowHandlerIsNotRunAgainByRetransmissions) {
  RpcCluster c(0, 0);
  int slow_runs = 0;
  c.sim().PostToNode(2, c.sim().now(), [&] {
    c.node(2)->rpc.Handle("slow", [&](PeerId, std::string body, RpcEndpoint::Reply reply) {
      ++slow_runs;
      c.node(2)->env.clock().After(world::Seconds(1), [reply, body] { reply(absl::OkStatus(), body); });
    });
  });
  c.RunFor(world::Millis(1));
  std::optional<absl::StatusOr<std::string>> out;
  c.sim().PostToNode(1, c.sim().now(), [&] {
    c.node(1)->rpc.Call(
        2, "slow", "x", world::Seconds(3), [&](absl::StatusOr<std::string> r) { out = std::move(r); },
        world::Millis(100));
  });
  c.RunFor(world::Seconds(2));
  ASSERT_TRUE(out && out->ok());
  EXPECT_EQ(**out, "x");
  EXPECT_EQ(slow_runs, 1);
}

}  // namespace
}  // namespace qdsim::rpc
