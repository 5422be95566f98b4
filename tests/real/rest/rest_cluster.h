// RestCluster: real Nodes in the simulator, each behind its own RestRouter, for tests that speak
// to the cluster only through RestRequest / RestResponse. Every node is an initial voter; a request
// is posted to one node's logical thread and the simulation runs (in virtual time) until its
// answer arrives.
//
//   RestCluster cluster({.nodes = 3});
//   ASSERT_TRUE(cluster.AwaitReady());
//   RestResponse r = cluster.Call(1, "PUT", "/collections/docs", R"({"vectors": {...}})");
//   EXPECT_EQ(r.status, 200);
//
// Thread-safety: none (the simulator is single-threaded).
#ifndef QDSIM_TESTS_REAL_REST_REST_CLUSTER_H_
#define QDSIM_TESTS_REAL_REST_REST_CLUSTER_H_

#include <memory>
#include <string>

#include "node/node.h"
#include "real/rest/router.h"
#include "sim/simulation.h"

namespace qdsim::rest::testing {

using world::PeerId;

class RestCluster : public sim::NodeKind {
 public:
  struct Options {
    uint32_t nodes = 3;
    bool cluster_enabled = true;  // false: standalone routers (GET /cluster is "disabled")
    uint64_t seed = 1;
  };
  // One node's incarnation: the Node and the router in front of it (destroyed first).
  struct Member : sim::SimNode {
    std::unique_ptr<Node> node;
    std::unique_ptr<RestRouter> router;
  };

  explicit RestCluster(Options options);

  std::unique_ptr<sim::SimNode> Boot(PeerId id, world::Env& env) override;
  std::vector<std::string> CheckNames() const override { return {}; }
  std::unique_ptr<sim::Checker> MakeChecker(std::string_view) override { return nullptr; }

  sim::Simulation& sim() { return *sim_; }
  void RunFor(world::Duration d) { sim_->scheduler().RunUntil(sim_->now() + d); }
  // The live Node of `id`, or null.
  Node* node(PeerId id);

  // Runs until a leader is known everywhere and every peer has registered its URI (at most
  // `limit` of virtual time); false if that did not happen.
  bool AwaitReady(world::Duration limit = world::Seconds(30));

  // Sends `method target` (a path with an optional "?k=v&…" query) with `body` to node `via` and
  // runs until it answers, at most `limit`; status 0 if it never did.
  RestResponse Call(PeerId via, const std::string& method, const std::string& target,
                    const std::string& body = "", world::Duration limit = world::Seconds(30));

  // What GET /cluster reports as the runtime's extras.
  ClusterExtras extras;

 private:
  Options options_;
  std::unique_ptr<sim::Simulation> sim_;
};

}  // namespace qdsim::rest::testing

#endif  // QDSIM_TESTS_REAL_REST_REST_CLUSTER_H_
