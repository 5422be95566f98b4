// End-to-end tests: real qdnode processes on loopback (issue 5's list), checked the way the
// simulator's checkers check (agreement, no acknowledged write lost, replicas converge).
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/e2e/local_cluster.h"

namespace qdsim::e2e {
namespace {

using nlohmann::json;

// Every peer answers GET /cluster with the same peers, leader and term, and `n` peers.
bool Agree(LocalCluster& c, const std::vector<int>& peers, size_t n) {
  std::optional<json> first;
  for (int i : peers) {
    json info = c.ClusterInfo(i);
    if (info.is_null() || info["raft_info"]["leader"].is_null() || info["peers"].size() != n) return false;
    json key = {info["peers"], info["raft_info"]["leader"], info["raft_info"]["term"]};
    if (first && *first != key) return false;
    first = key;
  }
  return true;
}

std::string Points(uint64_t first, uint64_t count, int dim = 4) {
  json points = json::array();
  for (uint64_t id = first; id < first + count; ++id) {
    json v = json::array();
    for (int d = 0; d < dim; ++d) v.push_back(static_cast<double>((id * 7 + d * 3) % 11) / 10.0 + 0.05);
    points.push_back({{"id", id}, {"vector", v}, {"payload", {{"n", id}}}});
  }
  return json{{"points", points}}.dump();
}

// Upserts [first, first + count) through peer `via` in one request; true if acknowledged.
bool Upsert(LocalCluster& c, int via, uint64_t first, uint64_t count) {
  HttpResult r = Http(c.http_port(via), "PUT", "/collections/docs/points?wait=true", Points(first, count));
  const bool ok = r.status == 200 && r.json["result"]["status"] == "completed";
  if (!ok) std::cerr << "upsert of " << first << ".." << first + count << " via peer " << via << ": " << r.status << " "
                     << r.body << r.error << "\n";
  return ok;
}

bool CreateDocs(LocalCluster& c, int via, int shards, int rf, const std::string& name = "docs") {
  json body = {{"vectors", {{"size", 4}, {"distance", "Dot"}}}, {"shard_number", shards}, {"replication_factor", rf}};
  return Http(c.http_port(via), "PUT", "/collections/" + name, body.dump()).status == 200;
}

// Every replica of every shard Active and no transfer, as peer `via` sees it.
bool AllActive(LocalCluster& c, int via) {
  HttpResult r = Http(c.http_port(via), "GET", "/collections/docs/cluster", "", {}, milliseconds(3000));
  if (r.status != 200) return false;
  const json& info = r.json["result"];
  if (!info["shard_transfers"].empty()) return false;
  for (const auto* list : {&info["local_shards"], &info["remote_shards"]}) {
    for (const auto& s : *list) {
      if (s["state"] != "Active") return false;
    }
  }
  return true;
}

// Points counted in each local replica of peer `via`, by shard id.
std::map<int, uint64_t> LocalCounts(LocalCluster& c, int via) {
  std::map<int, uint64_t> out;
  HttpResult r = Http(c.http_port(via), "GET", "/collections/docs/cluster");
  for (const auto& s : r.json["result"]["local_shards"]) out[s["shard_id"].get<int>()] = s["points_count"].get<uint64_t>();
  return out;
}

// Ids of `ids` that peer `via` returns.
std::set<uint64_t> Retrieved(LocalCluster& c, int via, const std::set<uint64_t>& ids) {
  json body = {{"ids", json(std::vector<uint64_t>(ids.begin(), ids.end()))}, {"with_payload", false}};
  HttpResult r = Http(c.http_port(via), "POST", "/collections/docs/points", body.dump());
  std::set<uint64_t> out;
  if (r.status != 200) return out;
  for (const auto& p : r.json["result"]) out.insert(p["id"].get<uint64_t>());
  return out;
}

TEST(E2eTest, ThreePeersAgreeAndAFourthJoinsAsAVoter) {
  LocalCluster c("bootstrap");
  ASSERT_TRUE(c.Start(3)) << c.log(c.size());
  EXPECT_TRUE(WaitFor([&] { return Agree(c, {1, 2, 3}, 3); }, milliseconds(20000)))
      << c.ClusterInfo(1).dump() << "\n" << c.ClusterInfo(3).dump();
  ASSERT_EQ(c.AddPeer(), 4) << c.log(4);
  EXPECT_TRUE(WaitFor([&] { return Agree(c, {1, 2, 3, 4}, 4) && c.ClusterInfo(4)["raft_info"]["is_voter"] == true; },
                      milliseconds(20000)))
      << c.ClusterInfo(4).dump();
  for (int i = 1; i <= 4; ++i) {
    EXPECT_EQ(Http(c.http_port(i), "POST", "/cluster/recover", "").json["result"], true) << "peer " << i;
  }
  for (int i = 1; i <= 4; ++i) EXPECT_EQ(c.Terminate(i), 0) << "peer " << i << " exits cleanly on SIGTERM";
}

TEST(E2eTest, KilledPeerReturnsWithEveryAcknowledgedPoint) {
  LocalCluster c("kill9");
  ASSERT_TRUE(c.Start(3)) << c.log(c.size());
  ASSERT_TRUE(CreateDocs(c, 1, 3, 2));
  std::set<uint64_t> acked;
  for (uint64_t first = 0; first < 100; first += 20) {
    ASSERT_TRUE(Upsert(c, 1, first, 20));
    for (uint64_t id = first; id < first + 20; ++id) acked.insert(id);
  }
  c.Kill(3);
  // Writes and reads go on with one peer of three down (each shard keeps a replica).
  for (uint64_t first = 100; first < 200; first += 20) {
    const int via = first % 40 == 0 ? 1 : 2;
    if (Upsert(c, via, first, 20)) {
      for (uint64_t id = first; id < first + 20; ++id) acked.insert(id);
    }
  }
  EXPECT_GE(acked.size(), 180u) << "writes with one peer down";
  EXPECT_EQ(Retrieved(c, 2, acked), acked);
  ASSERT_TRUE(c.Restart(3)) << c.log(3);
  EXPECT_TRUE(WaitFor([&] { return AllActive(c, 3) && AllActive(c, 1); }, milliseconds(60000)))
      << Http(c.http_port(1), "GET", "/collections/docs/cluster").body;
  // Every replica holds every acknowledged point: the restarted peer answers from its own
  // replicas first, and the replicas of each shard hold as many points as each other.
  EXPECT_EQ(Retrieved(c, 3, acked), acked);
  std::map<int, std::set<uint64_t>> counts;
  for (int i = 1; i <= 3; ++i) {
    for (const auto& [shard, n] : LocalCounts(c, i)) counts[shard].insert(n);
  }
  uint64_t total = 0;
  for (const auto& [shard, n] : counts) {
    EXPECT_EQ(n.size(), 1u) << "replicas of shard " << shard << " differ";
    total += *n.begin();
  }
  EXPECT_EQ(total, acked.size());
}

TEST(E2eTest, TwoPeersOneDownKeepsPointOperationsAndRefusesCollectionOperations) {
  LocalCluster c("two_peers");
  ASSERT_TRUE(c.Start(2)) << c.log(c.size());
  ASSERT_TRUE(CreateDocs(c, 1, 2, 2));
  ASSERT_TRUE(Upsert(c, 1, 0, 10));
  c.Kill(2);
  EXPECT_TRUE(Upsert(c, 1, 10, 10)) << "point writes go on with one of two peers down";
  EXPECT_EQ(Retrieved(c, 1, {0, 5, 15}), (std::set<uint64_t>{0, 5, 15}));
  HttpResult create = Http(c.http_port(1), "PUT", "/collections/other?timeout=3",
                           json{{"vectors", {{"size", 4}, {"distance", "Dot"}}}}.dump());
  EXPECT_EQ(create.status, 408) << create.body;
  EXPECT_NE(create.body.find("within"), std::string::npos) << create.body;  // Qdrant's timeout messages
  ASSERT_TRUE(c.Restart(2)) << c.log(2);
  EXPECT_TRUE(WaitFor([&] { return CreateDocs(c, 1, 1, 2, "other"); }, milliseconds(30000)))
      << "collection operations work again once the peer is back";
}

TEST(E2eTest, PeerRestartedWithANewUriIsReachableAgain) {
  LocalCluster c("new_uri");
  ASSERT_TRUE(c.Start(3)) << c.log(c.size());
  c.Kill(2);
  ASSERT_TRUE(c.Restart(2, /*new_p2p_port=*/true)) << c.log(2);
  const std::string uri = absl::StrCat("http://127.0.0.1:", c.p2p_port(2), "/");
  const std::string id = std::to_string(c.ClusterInfo(2)["peer_id"].get<uint64_t>());
  EXPECT_TRUE(WaitFor([&] { return c.ClusterInfo(1)["peers"][id]["uri"] == uri; }, milliseconds(20000)))
      << c.ClusterInfo(1).dump();
  // The others reach it at the new address: a collection with a replica on every peer takes writes.
  ASSERT_TRUE(CreateDocs(c, 2, 1, 3));
  EXPECT_TRUE(Upsert(c, 3, 0, 10));
  EXPECT_TRUE(WaitFor([&] { return AllActive(c, 1) && LocalCounts(c, 2)[0] == 10; }, milliseconds(20000)));
}

TEST(E2eTest, BadInputGetsDocumentedErrorsAndTheNodeKeepsServing) {
  LocalCluster c("bad_input");
  ASSERT_TRUE(c.Start(1, {{"QDRANT__SERVICE__MAX_REQUEST_SIZE_MB", "1"}})) << c.log(1);
  ASSERT_TRUE(CreateDocs(c, 1, 1, 1));
  const uint16_t port = c.http_port(1);
  EXPECT_NE(RawHttp(port, "GARBAGE\r\n\r\n").find("HTTP/1.1 400"), std::string::npos);
  EXPECT_NE(RawHttp(port, "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n").find("HTTP/1.1 400"),
            std::string::npos);
  EXPECT_NE(RawHttp(port, "PUT /collections/docs/points HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n")
                .find("HTTP/1.1 413"),
            std::string::npos);
  HttpResult bad_json = Http(port, "PUT", "/collections/docs/points", "{\"points\": [");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_NE(bad_json.body.find("Format error in JSON body"), std::string::npos) << bad_json.body;
  HttpResult wrong_dim = Http(port, "PUT", "/collections/docs/points?wait=true",
                              R"({"points": [{"id": 1, "vector": [0.1, 0.2]}]})");
  EXPECT_EQ(wrong_dim.status, 400);
  EXPECT_NE(wrong_dim.body.find("Vector dimension error: expected dim: 4, got 2"), std::string::npos)
      << wrong_dim.body;
  HttpResult missing = Http(port, "GET", "/collections/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("Collection `nope` doesn't exist!"), std::string::npos) << missing.body;
  // Still serving, and nothing was lost.
  EXPECT_TRUE(Upsert(c, 1, 0, 5));
  EXPECT_EQ(Http(port, "POST", "/collections/docs/points/count", "{}").json["result"]["count"], 5);
  EXPECT_EQ(Http(port, "GET", "/healthz").status, 200);
}

TEST(E2eTest, ApiKeyIsRequiredWhenConfigured) {
  LocalCluster c("api_key");
  ASSERT_TRUE(c.Start(1, {{"QDRANT__SERVICE__API_KEY", "secret"}})) << c.log(1);
  const uint16_t port = c.http_port(1);
  EXPECT_EQ(Http(port, "GET", "/collections").status, 401);
  EXPECT_EQ(Http(port, "GET", "/collections", "", {{"api-key", "wrong"}}).status, 403);
  EXPECT_EQ(Http(port, "GET", "/collections", "", {{"api-key", "secret"}}).status, 200);
  EXPECT_EQ(Http(port, "GET", "/collections", "", {{"Authorization", "Bearer secret"}}).status, 200);
  EXPECT_EQ(Http(port, "GET", "/readyz").status, 200) << "health probes need no key";
}

// A joiner that gives no --uri: its bootstrap peer derives it from the connection and the p2p port
// (SPEC.md §2), and the others reach it there.
TEST(E2eTest, JoinerWithoutUriGetsOneDerived) {
  LocalCluster c("derived_uri");
  ASSERT_TRUE(c.Start(2)) << c.log(c.size());
  ASSERT_EQ(c.AddPeer({}, /*give_uri=*/false), 3) << c.log(3);
  const std::string id = std::to_string(c.ClusterInfo(3)["peer_id"].get<uint64_t>());
  EXPECT_EQ(c.ClusterInfo(1)["peers"][id]["uri"], absl::StrCat("http://127.0.0.1:", c.p2p_port(3), "/"));
  EXPECT_TRUE(WaitFor([&] { return Agree(c, {1, 2, 3}, 3) && c.ClusterInfo(3)["raft_info"]["is_voter"] == true; },
                      milliseconds(20000)));
  ASSERT_TRUE(CreateDocs(c, 1, 1, 3));
  EXPECT_TRUE(Upsert(c, 2, 0, 10));
  EXPECT_TRUE(WaitFor([&] { return LocalCounts(c, 3)[0] == 10; }, milliseconds(10000)));
}

// --reinit (disaster recovery): the last peer of three, its majority gone for good, restarts as
// the only voter with the cluster's metadata and data, and takes collection operations again.
TEST(E2eTest, ReinitMakesTheLastPeerTheOnlyVoter) {
  LocalCluster c("reinit");
  ASSERT_TRUE(c.Start(3)) << c.log(c.size());
  ASSERT_TRUE(CreateDocs(c, 1, 1, 3));
  ASSERT_TRUE(Upsert(c, 1, 0, 10));
  c.Kill(2);
  c.Kill(3);
  c.Kill(1);
  ASSERT_TRUE(c.Restart(1, false, {"--reinit"})) << c.log(1);
  json info = c.ClusterInfo(1);
  EXPECT_EQ(info["raft_info"]["leader"], info["peer_id"]) << info.dump();
  EXPECT_EQ(info["raft_info"]["is_voter"], true);
  EXPECT_EQ(Http(c.http_port(1), "POST", "/collections/docs/points/count", "{}").json["result"]["count"], 10);
  EXPECT_TRUE(CreateDocs(c, 1, 1, 1, "after")) << "metadata operations commit with the peer alone";
}

// Peer 3 is down while peers 4 and 5 join, and one of them comes to lead. Back, peer 3 hears from a
// leader its metadata does not know: without an address its answers go nowhere and the leader never
// brings it up to date. It learns the address from the leader's handshake (which advertises its
// --uri), or, from a joiner that gave no --uri, by asking the peers it knows (WhoIs, SPEC.md §2).
// Returns the log line that says how peer 3 learned it.
void LeaderJoinedWhileDown(bool joiners_give_uri, const std::string& learned_by) {
  LocalCluster c(joiners_give_uri ? "leader_joined" : "who_is");
  ASSERT_TRUE(c.Start(3)) << c.log(c.size());
  // Peer 3 is a voter: it has acknowledged (made durable) the metadata that names peers 1 and 2.
  ASSERT_TRUE(WaitFor([&] { return Agree(c, {1, 2, 3}, 3) && c.ClusterInfo(3)["raft_info"]["is_voter"] == true; },
                      milliseconds(30000)));
  c.Kill(3);
  ASSERT_EQ(c.AddPeer({}, joiners_give_uri), 4) << c.log(4);
  ASSERT_EQ(c.AddPeer({}, joiners_give_uri), 5) << c.log(5);
  auto id_of = [&](int i) { return c.ClusterInfo(i)["peer_id"].get<uint64_t>(); };
  std::map<uint64_t, int> index;
  for (int i : {1, 2, 4, 5}) index[id_of(i)] = i;
  ASSERT_TRUE(WaitFor([&] { return Agree(c, {1, 2, 4, 5}, 5) && c.ClusterInfo(5)["raft_info"]["is_voter"] == true; },
                      milliseconds(30000)))
      << c.ClusterInfo(5).dump();
  // While peer 1 or 2 leads, kill it and bring it back (three of five voters stay up): an election.
  int leader = 0;
  for (int attempt = 0; attempt < 20; ++attempt) {
    json info = c.ClusterInfo(5);
    if (info.is_null() || info["raft_info"]["leader"].is_null()) {
      WaitFor([] { return false; }, milliseconds(200));
      continue;
    }
    leader = index[info["raft_info"]["leader"].get<uint64_t>()];
    if (leader == 4 || leader == 5) break;
    c.Kill(leader);
    const json old = info["raft_info"]["leader"];
    WaitFor([&] {
      json now = c.ClusterInfo(5);
      return !now.is_null() && !now["raft_info"]["leader"].is_null() && now["raft_info"]["leader"] != old;
    }, milliseconds(20000));
    ASSERT_TRUE(c.Restart(leader)) << c.log(leader);
    leader = 0;
  }
  ASSERT_TRUE(leader == 4 || leader == 5) << "no joiner came to lead";
  ASSERT_FALSE(c.LogContains(3, learned_by));
  ASSERT_TRUE(c.Restart(3)) << c.log(3);
  EXPECT_TRUE(WaitFor([&] { return Agree(c, {1, 2, 3, 4, 5}, 5); }, milliseconds(30000)))
      << c.ClusterInfo(3).dump() << "\n" << c.log(3);
  EXPECT_TRUE(c.LogContains(3, learned_by)) << c.log(3);
}

TEST(E2eTest, PeerDownWhileTheLeaderJoinedLearnsItsAddressFromItsHandshake) {
  LeaderJoinedWhileDown(/*joiners_give_uri=*/true, "(its handshake)");
}

TEST(E2eTest, PeerDownWhileTheLeaderJoinedWithoutUriLearnsItsAddressByWhoIs) {
  LeaderJoinedWhileDown(/*joiners_give_uri=*/false, "(WhoIs)");
}

}  // namespace
}  // namespace qdsim::e2e
