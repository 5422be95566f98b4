#include "tests/real/rest/rest_cluster.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace qdsim::rest::testing {
namespace {

// "/a/b?x=1&y" -> path segments {"a", "b"} and query {{"x", "1"}, {"y", ""}} (no percent-decoding:
// tests write plain targets).
RestRequest Parse(const std::string& method, const std::string& target, const std::string& body) {
  RestRequest request;
  request.method = method;
  request.body = body;
  const size_t question = target.find('?');
  const std::string path = target.substr(0, question);
  for (absl::string_view segment : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    request.path_segments.emplace_back(segment);
  }
  if (question != std::string::npos) {
    for (absl::string_view pair : absl::StrSplit(target.substr(question + 1), '&', absl::SkipEmpty())) {
      std::pair<std::string, std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
      request.query.push_back(std::move(kv));
    }
  }
  return request;
}

}  // namespace

RestCluster::RestCluster(Options options) : options_(options) {
  sim::Simulation::Config config;
  config.nodes = options.nodes;
  config.links.assign(options.nodes * options.nodes,
                      sim::SimNetwork::LinkParams{world::Millis(2), 500, 0, 0, 0});
  config.node_params.assign(options.nodes, sim::Simulation::NodeParams{{}, world::Millis(2)});
  sim_ = std::make_unique<sim::Simulation>(config, options.seed, *this);
  for (PeerId id = 1; id <= options.nodes; ++id) sim_->Boot(id);
}

std::unique_ptr<sim::SimNode> RestCluster::Boot(PeerId id, world::Env& env) {
  auto member = std::make_unique<Member>();
  Node::Options o;
  o.uri = absl::StrCat("http://node", id, ":6335/");
  for (PeerId v = 1; v <= options_.nodes; ++v) o.raft.initial_voters.push_back(v);
  absl::StatusOr<std::unique_ptr<Node>> node = Node::Open(env, std::move(o));
  if (!node.ok()) return member;
  member->node = *std::move(node);
  RestRouter::Options r;
  r.cluster_enabled = options_.cluster_enabled;
  r.now_seconds = [&env] { return world::ToSeconds(env.clock().Now()); };
  r.wall_micros = [&env] { return env.clock().WallMicros(); };
  r.cluster_extras = [this] { return extras; };
  member->router = std::make_unique<RestRouter>(*member->node, std::move(r));
  return member;
}

Node* RestCluster::node(PeerId id) {
  auto* m = static_cast<Member*>(sim_->node(id));
  return m == nullptr ? nullptr : m->node.get();
}

bool RestCluster::AwaitReady(world::Duration limit) {
  const world::Instant until = sim_->now() + limit;
  while (sim_->now() < until) {
    bool ready = true;
    for (PeerId id = 1; id <= options_.nodes; ++id) {
      Node* n = node(id);
      ready = ready && n != nullptr && n->Ready() && n->ClusterStatus().peers.size() == options_.nodes;
    }
    if (ready) return true;
    RunFor(world::Millis(100));
  }
  return false;
}

RestResponse RestCluster::Call(PeerId via, const std::string& method, const std::string& target,
                               const std::string& body, world::Duration limit) {
  auto answer = std::make_shared<std::optional<RestResponse>>();
  auto calls = std::make_shared<int>(0);
  sim_->PostToNode(via, sim_->now(),
                   [this, via, answer, calls, request = Parse(method, target, body)]() mutable {
                     auto* m = static_cast<Member*>(sim_->node(via));
                     if (m == nullptr || m->router == nullptr) return;
                     m->router->Handle(std::move(request), [answer, calls](RestResponse r) {
                       ++*calls;
                       *answer = std::move(r);
                     });
                   });
  const world::Instant until = sim_->now() + limit;
  while (!answer->has_value() && sim_->now() < until) RunFor(world::Millis(5));
  RunFor(world::Millis(1));  // a second answer, if any, would arrive by now
  if (*calls > 1) return RestResponse{-1, absl::StrCat("answered ", *calls, " times")};
  return answer->has_value() ? **answer : RestResponse{0, "no answer"};
}

}  // namespace qdsim::rest::testing
