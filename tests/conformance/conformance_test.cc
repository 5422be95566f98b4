// Sim/real conformance: the same scenario steps, through Qdrant's REST API, against real Nodes in
// the simulator (RestCluster, virtual time) and against real qdnode processes on loopback
// (LocalCluster), with identical checks:
//
//   create a collection (3 shards, RF 2, 8-dim Dot) -> upsert 200 points in batches -> kill peer 3
//   -> upsert 100 more through peers 1 and 2 -> the replicas on peer 3 are marked Dead -> query
//   (top-10, with and without filters) against a brute-force oracle over the acknowledged points,
//   count, retrieve -> restart peer 3 -> every replica Active everywhere, no transfers -> the same
//   checks through peer 3, and the replicas of each shard hold the same number of points.
//
// Every answer a step gets is also reduced to its JSON "shape" (keys and value types, not values)
// and recorded with its HTTP status, plus the value itself where the API makes it deterministic
// (error messages, the collection's config); the two worlds must record the same at every step
// (AnswersHaveTheSameShapeInBothWorlds).
//
// The scenario only uses peer indices 1..3 (never peer ids, which differ between the worlds) and
// waits by polling with Settle() between polls (virtual time in the simulator, sleep for real).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/local_cluster.h"
#include "tests/real/rest/rest_cluster.h"

namespace qdsim::conformance {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------------
// The drivers.

struct Answer {
  int status = 0;    // HTTP status; 0 if no answer came
  json body;         // the body parsed, or null
  std::string raw;   // the body as received (or why there was none), for messages
};

class ClusterDriver {
 public:
  virtual ~ClusterDriver() = default;
  virtual std::string name() const = 0;
  // Brings up 3 peers, each ready; false (with Diagnostics) if that failed.
  virtual bool Start() = 0;
  // `method target` (a path with an optional query) with `body` (bytes as given) to peer 1..3.
  virtual Answer Send(int peer, const std::string& method, const std::string& target, const std::string& body) = 0;
  // The same with a JSON body (null: no body).
  Answer Request(int peer, const std::string& method, const std::string& target, const json& body = nullptr) {
    return Send(peer, method, target, body.is_null() ? "" : body.dump());
  }
  virtual void Kill(int peer) = 0;        // abrupt: memory lost, unsynced disk state at risk
  virtual bool Restart(int peer) = 0;     // from the peer's storage
  virtual void Settle(milliseconds d) = 0;  // let time pass (virtual or real)
  // What helps to understand a failure (process logs for real peers).
  virtual std::string Diagnostics(int peer) { return ""; }

  // GET /readyz answers 200, polled every 100 ms for at most `limit`.
  bool WaitReady(int peer, milliseconds limit = milliseconds(60000)) {
    return Poll([&] { return Request(peer, "GET", "/readyz").status == 200; }, limit);
  }
  // Polls `done` with Settle(100 ms) in between, for at most `limit` of the driver's time.
  bool Poll(const std::function<bool()>& done, milliseconds limit) {
    for (milliseconds waited(0); waited < limit; waited += milliseconds(100)) {
      if (done()) return true;
      Settle(milliseconds(100));
    }
    return done();
  }
};

// Three real Nodes in the simulator, each behind a RestRouter.
class SimDriver : public ClusterDriver {
 public:
  std::string name() const override { return "sim"; }
  bool Start() override {
    // QDSIM_CONFORMANCE_SEED=n runs the simulated world with another seed (default 1).
    const char* seed = std::getenv("QDSIM_CONFORMANCE_SEED");
    cluster_ = std::make_unique<rest::testing::RestCluster>(rest::testing::RestCluster::Options{
        .nodes = 3, .seed = seed != nullptr ? std::strtoull(seed, nullptr, 10) : 1});
    if (!cluster_->AwaitReady()) return false;
    for (int i = 1; i <= 3; ++i) {
      if (!WaitReady(i)) return false;
    }
    return true;
  }
  Answer Send(int peer, const std::string& method, const std::string& target, const std::string& body) override {
    rest::RestResponse r = cluster_->Call(static_cast<world::PeerId>(peer), method, target, body);
    Answer a;
    a.status = r.status;
    a.raw = r.body;
    a.body = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (a.body.is_discarded()) a.body = nullptr;
    return a;
  }
  void Kill(int peer) override { cluster_->sim().Crash(static_cast<world::PeerId>(peer)); }
  bool Restart(int peer) override {
    cluster_->sim().Restart(static_cast<world::PeerId>(peer));
    return cluster_->node(static_cast<world::PeerId>(peer)) != nullptr;
  }
  void Settle(milliseconds d) override { cluster_->RunFor(world::Millis(d.count())); }

 private:
  std::unique_ptr<rest::testing::RestCluster> cluster_;
};

// Three qdnode processes on loopback.
class RealDriver : public ClusterDriver {
 public:
  RealDriver() : cluster_("conformance") {}
  std::string name() const override { return "real"; }
  bool Start() override { return cluster_.Start(3); }
  Answer Send(int peer, const std::string& method, const std::string& target, const std::string& body) override {
    e2e::HttpResult r = e2e::Http(cluster_.http_port(peer), method, target, body);
    return Answer{r.status, r.json, r.error.empty() ? r.body : r.error};
  }
  void Kill(int peer) override { cluster_.Kill(peer); }
  bool Restart(int peer) override { return cluster_.Restart(peer); }
  void Settle(milliseconds d) override { std::this_thread::sleep_for(d); }
  std::string Diagnostics(int peer) override {
    return peer >= 1 && peer <= cluster_.size() ? cluster_.log(peer) : "";
  }

 private:
  e2e::LocalCluster cluster_;
};

std::unique_ptr<ClusterDriver> MakeDriver(const std::string& name) {
  if (name == "sim") return std::make_unique<SimDriver>();
  return std::make_unique<RealDriver>();
}

// ---------------------------------------------------------------------------------------------
// Shapes: an answer with its values reduced to their types.

// Object members whose contents depend on the runtime, not on the API (the transport's failures
// are never recorded by the simulator's RestCluster): reduced to their own type only.
const std::set<std::string>& OpaquePaths() {
  static const auto* paths = new std::set<std::string>{"result.message_send_failures"};
  return *paths;
}

bool AllDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// null/bool/integer/float/string; an array becomes the sorted list of its elements' distinct shapes
// ([] if empty); an object keeps its keys (keys that are numbers, i.e. peer ids, become "<id>")
// with their values' shapes.
json Shape(const json& v, const std::string& path = "") {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "bool";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "integer";
    case json::value_t::number_float: return "float";
    case json::value_t::string: return "string";
    case json::value_t::array: {
      std::set<std::string> distinct;
      for (const json& e : v) distinct.insert(Shape(e, path + "[]").dump());
      json out = json::array();
      for (const std::string& s : distinct) out.push_back(json::parse(s));
      return out;
    }
    case json::value_t::object: {
      if (OpaquePaths().count(path) > 0) return "object";
      json out = json::object();
      for (const auto& [key, value] : v.items()) {
        const std::string k = AllDigits(key) ? "<id>" : key;
        json s = Shape(value, path.empty() ? k : path + "." + k);
        if (out.contains(k) && out[k] != s) s = json{{"<differing>", {out[k], s}}};
        out[k] = std::move(s);
      }
      return out;
    }
    default: return "other";
  }
}

// Step label -> {"http": status, "shape": Shape(body), "value"?: the deterministic part}.
using Shapes = std::map<std::string, json>;

// ---------------------------------------------------------------------------------------------
// The data and the oracle.

constexpr int kDim = 8;
constexpr char kCollection[] = "/collections/conf";

struct Point {
  uint64_t id = 0;
  std::array<float, kDim> vector{};
  json payload;
};

uint64_t SplitMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A value in [-1, 1) with three decimals, the same in both worlds.
float Component(uint64_t seed, int d) {
  const uint64_t r = SplitMix(seed * 131 + static_cast<uint64_t>(d));
  return static_cast<float>(static_cast<int>(r % 2000) - 1000) / 1000.0f;
}

Point MakePoint(uint64_t id) {
  Point p;
  p.id = id;
  for (int d = 0; d < kDim; ++d) p.vector[d] = Component(id, d);
  p.payload = {{"n", id}, {"group", id % 5}, {"tag", id % 2 == 0 ? "even" : "odd"}};
  return p;
}

json VectorJson(const std::array<float, kDim>& v) {
  json out = json::array();
  for (float f : v) out.push_back(static_cast<double>(f));
  return out;
}

double Dot(const std::array<float, kDim>& a, const std::array<float, kDim>& b) {
  double s = 0;
  for (int d = 0; d < kDim; ++d) s += static_cast<double>(a[d]) * static_cast<double>(b[d]);
  return s;
}

struct Filter {
  std::string name;
  json body;                                   // null: no filter
  std::function<bool(const Point&)> matches;
};

const std::vector<Filter>& Filters() {
  static const auto* filters = new std::vector<Filter>{
      {"none", nullptr, [](const Point&) { return true; }},
      {"group2", {{"must", {{{"key", "group"}, {"match", {{"value", 2}}}}}}},
       [](const Point& p) { return p.id % 5 == 2; }},
      {"range_even",
       {{"must", {{{"key", "n"}, {"range", {{"gte", 40}, {"lt", 260}}}}}},
        {"must_not", {{{"key", "tag"}, {"match", {{"value", "odd"}}}}}}},
       [](const Point& p) { return p.id >= 40 && p.id < 260 && p.id % 2 == 0; }},
  };
  return *filters;
}

constexpr double kScoreTolerance = 1e-4;
constexpr size_t kTopK = 10;

// ---------------------------------------------------------------------------------------------
// The scenario. Every check is the same code for both drivers.

class Scenario {
 public:
  Scenario(ClusterDriver& driver, Shapes& shapes) : d_(driver), shapes_(shapes) {}

  void Run() {
    ASSERT_TRUE(d_.Start()) << "cluster did not start\n" << d_.Diagnostics(1) << d_.Diagnostics(3);
    Answer cluster = Step("cluster", 1, "GET", "/cluster");
    ASSERT_EQ(cluster.status, 200) << cluster.raw;
    ASSERT_TRUE(cluster.body["result"]["peers"].is_object()) << cluster.raw;
    EXPECT_EQ(cluster.body["result"]["peers"].size(), 3u) << cluster.raw;
    for (int i = 1; i <= 3; ++i) {
      Answer info = d_.Request(i, "GET", "/cluster");
      ASSERT_EQ(info.status, 200) << info.raw;
      peer_ids_[i] = info.body["result"]["peer_id"];
    }

    // Create, and wait for every replica to be Active (a client polls for green the same way).
    const json create = {{"vectors", {{"size", kDim}, {"distance", "Dot"}}},
                         {"shard_number", 3},
                         {"replication_factor", 2}};
    Answer created = Step("create", 1, "PUT", kCollection, create, "/result");
    ASSERT_EQ(created.status, 200) << created.raw;
    EXPECT_EQ(created.body["result"], true) << created.raw;
    ASSERT_TRUE(AllActiveEverywhere({1, 2, 3})) << ClusterInfo(1).raw;
    Step("collection_info", 1, "GET", kCollection, nullptr, "/result/config");
    Step("collection_cluster", 1, "GET", ClusterPath(), nullptr, "/result/shard_count");
    // Error answers: the same status and message in both worlds.
    Step("error/create_again", 2, "PUT", kCollection, create, "/status/error");
    Step("error/missing_collection", 2, "GET", "/collections/nope", nullptr, "/status/error");
    Step("error/wrong_dimension", 3, "PUT", std::string(kCollection) + "/points?wait=true",
         {{"points", {{{"id", 1}, {"vector", {0.5, 0.5}}}}}}, "/status/error");
    StepRaw("error/bad_json", 1, "POST", std::string(kCollection) + "/points/count", "{\"exact\": tru",
            "/status/error");

    // 200 points in batches of 25, through every peer in turn.
    for (uint64_t first = 0; first < 200; first += 25) Upsert(1 + static_cast<int>(first / 25) % 3, first, 25);
    EXPECT_EQ(acked_.size(), 200u);
    Check(1, "healthy/peer1");

    // Peer 3 goes away; writes go on through peers 1 and 2 (every shard keeps a replica).
    d_.Kill(3);
    for (uint64_t first = 200; first < 300; first += 25) Upsert(first % 50 == 0 ? 1 : 2, first, 25);
    EXPECT_EQ(acked_.size(), 300u);
    EXPECT_TRUE(d_.Poll([&] { return ReplicasOfPeerAre(1, 3, "Dead"); }, milliseconds(30000)))
        << "the replicas on the killed peer are marked Dead\n" << ClusterInfo(1).raw;
    Step("collection_cluster_degraded", 1, "GET", ClusterPath());
    Step("cluster_degraded", 2, "GET", "/cluster");
    Step("collection_info_degraded", 2, "GET", kCollection, nullptr, "/result/config");
    Check(1, "degraded/peer1");
    Check(2, "degraded/peer2");

    // Peer 3 returns, recovers its replicas by transfer, and answers like the others.
    ASSERT_TRUE(d_.Restart(3)) << d_.Diagnostics(3);
    ASSERT_TRUE(d_.WaitReady(3)) << d_.Diagnostics(3);
    EXPECT_TRUE(AllActiveEverywhere({1, 2, 3}))
        << ClusterInfo(1).raw << "\n" << ClusterInfo(3).raw << "\n" << d_.Diagnostics(3);
    Step("collection_cluster_recovered", 3, "GET", ClusterPath());
    Step("cluster_recovered", 3, "GET", "/cluster");
    Step("collection_info_recovered", 3, "GET", kCollection, nullptr, "/result/config");
    Check(3, "recovered/peer3");
    ReplicasConverged();
  }

 private:
  std::string ClusterPath() const { return std::string(kCollection) + "/cluster"; }
  Answer ClusterInfo(int peer) { return d_.Request(peer, "GET", ClusterPath()); }

  // A request whose answer's status and shape are recorded under `label`, and, where the API
  // makes it deterministic, the value at `value` (a JSON pointer into the answer).
  Answer Step(const std::string& label, int peer, const std::string& method, const std::string& target,
              const json& body = nullptr, const std::string& value = "") {
    return StepRaw(label, peer, method, target, body.is_null() ? "" : body.dump(), value);
  }
  Answer StepRaw(const std::string& label, int peer, const std::string& method, const std::string& target,
                 const std::string& body, const std::string& value) {
    Answer a = d_.Send(peer, method, target, body);
    json& record = shapes_[label];
    record = {{"http", a.status}, {"shape", Shape(a.body)}};
    if (!value.empty()) {
      const json::json_pointer pointer(value);
      record["value"] = a.body.is_object() && a.body.contains(pointer) ? a.body[pointer] : json("<absent>");
    }
    return a;
  }

  void Upsert(int via, uint64_t first, uint64_t count) {
    json points = json::array();
    for (uint64_t id = first; id < first + count; ++id) {
      Point p = MakePoint(id);
      points.push_back({{"id", id}, {"vector", VectorJson(p.vector)}, {"payload", p.payload}});
    }
    const json body = {{"points", points}};
    const std::string target = std::string(kCollection) + "/points?wait=true";
    // Upserts are idempotent, so a client retries; the first refusal is still a failure (with one
    // peer of three down every shard keeps an Active replica, and write_consistency_factor is 1).
    for (int attempt = 0; attempt < 3; ++attempt) {
      Answer a = first == 0 && attempt == 0 ? Step("upsert", via, "PUT", target, body)
                                            : d_.Request(via, "PUT", target, body);
      if (a.status == 200 && a.body["result"]["status"] == "completed") {
        for (uint64_t id = first; id < first + count; ++id) acked_[id] = MakePoint(id);
        return;
      }
      ADD_FAILURE() << d_.name() << ": upsert of " << first << ".." << first + count - 1 << " via peer " << via
                    << " (attempt " << attempt + 1 << "): " << a.status << " " << a.raw;
      d_.Settle(milliseconds(1000));
    }
  }

  // Every replica of every shard Active and no transfer, as each of `peers` sees it, and each shard
  // with its two replicas.
  bool AllActiveEverywhere(const std::vector<int>& peers) {
    return d_.Poll(
        [&] {
          for (int peer : peers) {
            Answer a = ClusterInfo(peer);
            if (a.status != 200) return false;
            const json& info = a.body["result"];
            if (!info["shard_transfers"].is_array() || !info["shard_transfers"].empty()) return false;
            std::map<int, int> replicas;
            for (const char* list : {"local_shards", "remote_shards"}) {
              if (!info[list].is_array()) return false;
              for (const json& s : info[list]) {
                if (s["state"] != "Active") return false;
                ++replicas[s["shard_id"].get<int>()];
              }
            }
            if (replicas != std::map<int, int>{{0, 2}, {1, 2}, {2, 2}}) return false;
          }
          return true;
        },
        milliseconds(60000));
  }

  // Every replica peer `via` lists on peer `owner` is in `state` (and there is at least one).
  bool ReplicasOfPeerAre(int via, int owner, const std::string& state) {
    Answer a = ClusterInfo(via);
    if (a.status != 200) return false;
    int seen = 0;
    for (const json& s : a.body["result"]["remote_shards"]) {
      if (s["peer_id"] != peer_ids_[owner]) continue;
      ++seen;
      if (s["state"] != state) return false;
    }
    return seen > 0;
  }

  // The checks of one moment, through peer `via`: queries against the oracle, counts, retrieval.
  void Check(int via, const std::string& label) {
    SCOPED_TRACE(d_.name() + " " + label);
    for (int q = 0; q < 4; ++q) {
      std::array<float, kDim> query{};
      for (int dd = 0; dd < kDim; ++dd) query[dd] = Component(1'000'000 + q, dd);
      for (const Filter& f : Filters()) {
        json body = {{"query", VectorJson(query)}, {"limit", kTopK}, {"with_payload", true}};
        if (!f.body.is_null()) body["filter"] = f.body;
        const std::string what = absl::StrCat("query ", q, " filter ", f.name);
        Answer a = q == 0 ? Step(label + "/query/" + f.name, via, "POST", std::string(kCollection) + "/points/query", body)
                          : d_.Request(via, "POST", std::string(kCollection) + "/points/query", body);
        ASSERT_EQ(a.status, 200) << what << ": " << a.raw;
        CheckTopK(a.body["result"]["points"], query, f, what);
      }
    }
    for (const Filter& f : Filters()) {
      json body = {{"exact", true}};
      if (!f.body.is_null()) body["filter"] = f.body;
      Answer a = Step(label + "/count/" + f.name, via, "POST", std::string(kCollection) + "/points/count", body);
      ASSERT_EQ(a.status, 200) << a.raw;
      const size_t expected = std::count_if(acked_.begin(), acked_.end(), [&](const auto& e) { return f.matches(e.second); });
      EXPECT_EQ(a.body["result"]["count"], expected) << "count with filter " << f.name << ": " << a.raw;
    }
    json ids = json::array();
    for (const auto& [id, p] : acked_) ids.push_back(id);
    Answer a = Step(label + "/retrieve", via, "POST", std::string(kCollection) + "/points",
                    {{"ids", ids}, {"with_payload", true}, {"with_vector", true}});
    ASSERT_EQ(a.status, 200) << a.raw;
    std::set<uint64_t> got;
    for (const json& p : a.body["result"]) {
      const uint64_t id = p["id"].get<uint64_t>();
      got.insert(id);
      auto it = acked_.find(id);
      if (it == acked_.end()) continue;
      EXPECT_EQ(p["payload"], it->second.payload) << "payload of " << id;
      ASSERT_TRUE(p["vector"].is_array() && p["vector"].size() == kDim) << p.dump();
      for (int dd = 0; dd < kDim; ++dd) {
        EXPECT_NEAR(p["vector"][dd].get<double>(), it->second.vector[dd], 1e-6) << "vector of " << id;
      }
    }
    std::set<uint64_t> want;
    for (const auto& [id, p] : acked_) want.insert(id);
    EXPECT_EQ(got, want) << "retrieve every acknowledged point";
  }

  // `points` is the true top-k over the acknowledged points that match `f`: the same scores in the
  // same order, and the same ids except among points whose scores tie with the k-th.
  void CheckTopK(const json& points, const std::array<float, kDim>& query, const Filter& f, const std::string& what) {
    std::vector<std::pair<double, uint64_t>> oracle;
    for (const auto& [id, p] : acked_) {
      if (f.matches(p)) oracle.emplace_back(Dot(query, p.vector), id);
    }
    std::sort(oracle.begin(), oracle.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    const size_t k = std::min(kTopK, oracle.size());
    ASSERT_TRUE(points.is_array()) << what << ": " << points.dump();
    ASSERT_EQ(points.size(), k) << what << ": " << points.dump();
    std::set<uint64_t> ids;
    for (size_t i = 0; i < k; ++i) {
      const json& hit = points[i];
      const uint64_t id = hit["id"].get<uint64_t>();
      const double score = hit["score"].get<double>();
      EXPECT_NEAR(score, oracle[i].first, kScoreTolerance) << what << ": rank " << i;
      EXPECT_TRUE(ids.insert(id).second) << what << ": id " << id << " twice";
      auto it = acked_.find(id);
      if (it == acked_.end()) {
        ADD_FAILURE() << what << ": id " << id << " was never acknowledged";
        continue;
      }
      EXPECT_TRUE(f.matches(it->second)) << what << ": id " << id << " does not match the filter";
      EXPECT_NEAR(score, Dot(query, it->second.vector), kScoreTolerance) << what << ": score of " << id;
      EXPECT_EQ(hit["payload"], it->second.payload) << what << ": payload of " << id;
    }
    // Points clearly above the k-th score are all there.
    if (k > 0) {
      for (size_t i = 0; i < oracle.size() && oracle[i].first > oracle[k - 1].first + kScoreTolerance; ++i) {
        EXPECT_EQ(ids.count(oracle[i].second), 1u) << what << ": missing id " << oracle[i].second;
      }
    }
  }

  // The replicas of each shard hold as many points as each other, and one replica per shard adds
  // up to the acknowledged points.
  void ReplicasConverged() {
    std::map<int, std::set<uint64_t>> counts;
    for (int i = 1; i <= 3; ++i) {
      Answer a = ClusterInfo(i);
      ASSERT_EQ(a.status, 200) << a.raw;
      for (const json& s : a.body["result"]["local_shards"]) {
        counts[s["shard_id"].get<int>()].insert(s["points_count"].get<uint64_t>());
      }
    }
    EXPECT_EQ(counts.size(), 3u);
    uint64_t total = 0;
    for (const auto& [shard, n] : counts) {
      EXPECT_EQ(n.size(), 1u) << d_.name() << ": replicas of shard " << shard << " differ";
      total += *n.begin();
    }
    EXPECT_EQ(total, acked_.size()) << d_.name() << ": points over the shards";
  }

  ClusterDriver& d_;
  Shapes& shapes_;
  std::map<uint64_t, Point> acked_;
  std::map<int, json> peer_ids_;
};

// Scenario shapes by driver name, for the runs of this process.
std::map<std::string, Shapes>& Recorded() {
  static auto* recorded = new std::map<std::string, Shapes>;
  return *recorded;
}

void RunScenario(const std::string& driver_name) {
  std::unique_ptr<ClusterDriver> driver = MakeDriver(driver_name);
  Shapes shapes;
  Scenario(*driver, shapes).Run();
  std::cerr << driver_name << ": " << shapes.size() << " steps recorded\n";
  if (std::getenv("QDSIM_CONFORMANCE_DUMP") != nullptr) {
    for (const auto& [label, s] : shapes) std::cerr << "  " << label << " " << s.dump() << "\n";
  }
  Recorded()[driver_name] = std::move(shapes);
}

// ---------------------------------------------------------------------------------------------
// The tests.

class ConformanceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ConformanceTest, KillQueryRestartRecover) { RunScenario(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Worlds, ConformanceTest, ::testing::Values("sim", "real"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// Both worlds answer every step with the same status and the same shape. Reuses the runs the
// parameterized tests made in this process (ctest runs each test in its own process, so there it
// runs both scenarios itself).
TEST(ConformanceShapes, AnswersHaveTheSameShapeInBothWorlds) {
  for (const char* name : {"sim", "real"}) {
    if (Recorded().count(name) == 0) RunScenario(name);
  }
  const Shapes& sim = Recorded()["sim"];
  const Shapes& real = Recorded()["real"];
  EXPECT_GE(sim.size(), 20u) << "the simulated scenario recorded too few steps";
  std::set<std::string> labels;
  for (const auto& [label, s] : sim) labels.insert(label);
  for (const auto& [label, s] : real) labels.insert(label);
  for (const std::string& label : labels) {
    auto s = sim.find(label);
    auto r = real.find(label);
    if (s == sim.end() || r == real.end()) {
      ADD_FAILURE() << label << ": answered only in " << (s == sim.end() ? "real" : "sim");
      continue;
    }
    EXPECT_EQ(s->second, r->second) << label << "\nsim:  " << s->second.dump() << "\nreal: " << r->second.dump();
  }
}

TEST(ConformanceShapes, ShapeKeepsKeysAndTypesOnly) {
  const json a = json::parse(R"({"result": {"points": [{"id": 1, "score": 0.5}, {"id": 7, "score": 2.5}],
                                            "peers": {"12": {"uri": "x"}, "99": {"uri": "y"}}},
                                 "status": "ok", "time": 0.001})");
  const json b = json::parse(R"({"result": {"points": [{"id": 3, "score": 1.5}],
                                            "peers": {"5": {"uri": "z"}}},
                                 "status": "ok", "time": 3.0})");
  EXPECT_EQ(Shape(a), Shape(b));
  EXPECT_EQ(Shape(a)["result"]["points"], json::parse(R"([{"id": "integer", "score": "float"}])"));
  EXPECT_NE(Shape(a), Shape(json::parse(R"({"result": {"points": [], "peers": {}}, "status": "ok", "time": 1.0})")));
  EXPECT_NE(Shape(json::parse(R"({"count": 1})")), Shape(json::parse(R"({"count": "1"})")));
}

}  // namespace
}  // namespace qdsim::conformance
