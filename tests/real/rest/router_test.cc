// The REST API end to end over real Nodes in the simulator, through RestRequest / RestResponse
// only: collections, points, search and query, payloads, aliases, cluster endpoints, and the error
// answers (404, 405, 409, 400, 422) a client gets.
#include <gtest/gtest.h>

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "real/rest/json_util.h"
#include "tests/real/rest/rest_cluster.h"

namespace qdsim::rest::testing {
namespace {

constexpr char kUuid[] = "550e8400-e29b-41d4-a716-446655440000";

Json BodyOf(const RestResponse& r) {
  Json body = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(body.is_discarded()) << r.body;
  return body;
}

// The `result` of a 200 answer (fails the test otherwise).
Json ResultOf(const RestResponse& r) {
  EXPECT_EQ(r.status, 200) << r.body;
  Json body = BodyOf(r);
  EXPECT_EQ(body["status"], "ok") << r.body;
  EXPECT_TRUE(body["time"].is_number()) << r.body;
  return body["result"];
}

// The error message of a failed answer with HTTP status `status`.
std::string ErrorOf(const RestResponse& r, int status) {
  EXPECT_EQ(r.status, status) << r.body;
  Json body = BodyOf(r);
  EXPECT_TRUE(body["time"].is_number()) << r.body;
  EXPECT_FALSE(body.contains("result")) << r.body;
  return body["status"]["error"].is_string() ? body["status"]["error"].get<std::string>() : "<no error>";
}

std::vector<Json> Ids(const Json& points) {
  std::vector<Json> ids;
  for (const Json& p : points) ids.push_back(p["id"]);
  return ids;
}

class RestRouterTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(cluster_.AwaitReady()); }

  // A 4-dimensional Dot collection with two shards of two replicas each.
  void CreateDocs() {
    ASSERT_EQ(ResultOf(cluster_.Call(1, "PUT", "/collections/docs",
                                     R"({"vectors": {"size": 4, "distance": "Dot"}, "shard_number": 2,
                                         "replication_factor": 2, "hnsw_config": {"m": 32}})")),
              true);
    AwaitGreen("docs");
  }

  // Runs until the collection reports green (every replica Active), as a client polls for it: a
  // write right after creation finds the new replicas still Initializing.
  void AwaitGreen(const std::string& name) {
    for (int i = 0; i < 100; ++i) {
      if (ResultOf(cluster_.Call(1, "GET", "/collections/" + name))["status"] == "green") return;
      cluster_.RunFor(world::Millis(100));
    }
    ADD_FAILURE() << name << " never became green";
  }

  // Seven points, four through the list form, three through the batch form.
  void UpsertDocs() {
    const std::string list = R"({"points": [
        {"id": 1, "vector": [1, 0, 0, 0], "payload": {"city": "Berlin", "n": 1}},
        {"id": 2, "vector": [0, 1, 0, 0], "payload": {"city": "London", "n": 2}},
        {"id": 3, "vector": [0, 0, 1, 0], "payload": {"city": "Berlin", "n": 3}},
        {"id": ")" + std::string(kUuid) +
                             R"(", "vector": [0.5, 0.5, 0, 0], "payload": {"city": "Paris", "n": 4}}]})";
    Json r = ResultOf(cluster_.Call(2, "PUT", "/collections/docs/points?wait=true", list));
    EXPECT_EQ(r["status"], "completed");
    EXPECT_TRUE(r["operation_id"].is_number_unsigned());
    const std::string batch = R"({"batch": {"ids": [4, 5, 6],
        "vectors": [[0, 0, 0, 1], [1, 1, 0, 0], [0.9, 0, 0.1, 0]],
        "payloads": [{"city": "Berlin", "n": 5}, {"city": "Rome"}, null]}})";
    EXPECT_EQ(ResultOf(cluster_.Call(3, "PUT", "/collections/docs/points?wait=true&ordering=weak",
                                     batch))["status"],
              "completed");
  }

  uint64_t Count(const std::string& body) {
    Json r = ResultOf(cluster_.Call(1, "POST", "/collections/docs/points/count", body));
    return r["count"].is_number_unsigned() ? r["count"].get<uint64_t>() : 0;
  }

  Json GetPoint(const std::string& id) {
    return ResultOf(cluster_.Call(2, "GET", "/collections/docs/points/" + id));
  }

  RestCluster cluster_{{.nodes = 3}};
};

TEST_F(RestRouterTest, ServiceEndpoints) {
  RestResponse root = cluster_.Call(1, "GET", "/");
  EXPECT_EQ(root.status, 200);
  EXPECT_EQ(root.body, R"({"title":"qdrant - vector search engine","version":"1.19.0"})");
  RestResponse healthz = cluster_.Call(1, "GET", "/healthz");
  EXPECT_EQ(healthz.status, 200);
  EXPECT_EQ(healthz.content_type, "text/plain");
  EXPECT_EQ(cluster_.Call(2, "GET", "/livez").status, 200);
  EXPECT_EQ(cluster_.Call(3, "GET", "/readyz").body, "all shards are ready");
  Json telemetry = ResultOf(cluster_.Call(1, "GET", "/telemetry"));
  EXPECT_EQ(telemetry["app"]["version"], "1.19.0");
  EXPECT_EQ(telemetry["id"], "1");
  EXPECT_EQ(ErrorOf(cluster_.Call(1, "GET", "/no/such/thing"), 404), "Not found: no endpoint /no/such/thing");
  EXPECT_EQ(ErrorOf(cluster_.Call(1, "DELETE", "/collections"), 405),
            "Method DELETE is not allowed for /collections");
}

TEST_F(RestRouterTest, CollectionLifecycle) {
  CreateDocs();
  EXPECT_EQ(
      ErrorOf(cluster_.Call(2, "PUT", "/collections/docs", R"({"vectors": {"size": 4, "distance": "Dot"}})"),
              409),
      "Collection `docs` already exists!");
  EXPECT_EQ(ResultOf(cluster_.Call(3, "GET", "/collections")),
            Json::parse(R"({"collections": [{"name": "docs"}]})"));
  EXPECT_EQ(ResultOf(cluster_.Call(3, "GET", "/collections/docs/exists"))["exists"], true);
  EXPECT_EQ(ResultOf(cluster_.Call(3, "GET", "/collections/nope/exists"))["exists"], false);

  Json info = ResultOf(cluster_.Call(2, "GET", "/collections/docs"));
  EXPECT_EQ(info["status"], "green");
  EXPECT_EQ(info["optimizer_status"], "ok");
  EXPECT_EQ(info["points_count"], 0);
  // One segment per local replica.
  EXPECT_EQ(info["segments_count"],
            ResultOf(cluster_.Call(2, "GET", "/collections/docs/cluster"))["local_shards"].size());
  const Json& params = info["config"]["params"];
  EXPECT_EQ(params["vectors"], Json::parse(R"({"size": 4, "distance": "Dot"})"));
  EXPECT_EQ(params["shard_number"], 2);
  EXPECT_EQ(params["replication_factor"], 2);
  EXPECT_EQ(params["write_consistency_factor"], 1);
  EXPECT_EQ(params["on_disk_payload"], true);
  EXPECT_EQ(info["config"]["hnsw_config"]["m"], 32);  // echoed as given
  EXPECT_EQ(info["config"]["hnsw_config"]["ef_construct"], 100);
  EXPECT_TRUE(info["config"]["optimizer_config"].is_object());
  EXPECT_TRUE(info["config"]["wal_config"].is_object());
  EXPECT_TRUE(info["config"]["quantization_config"].is_null());
  EXPECT_EQ(info["payload_schema"], Json::object());

  EXPECT_EQ(
      ResultOf(cluster_.Call(1, "PATCH", "/collections/docs", R"({"params": {"replication_factor": 3}})")),
      true);
  EXPECT_EQ(ResultOf(cluster_.Call(3, "GET", "/collections/docs"))["config"]["params"]["replication_factor"],
            3);
  EXPECT_EQ(
      ErrorOf(cluster_.Call(1, "PATCH", "/collections/docs", R"({"params": {"replication_factor": 0}})"),
              422),
      "Validation error in JSON body: [params.replication_factor: value 0 invalid, must be 1 or larger]");

  EXPECT_EQ(ResultOf(cluster_.Call(2, "DELETE", "/collections/docs")), true);
  EXPECT_EQ(ResultOf(cluster_.Call(2, "DELETE", "/collections/docs")), false);
  EXPECT_EQ(ErrorOf(cluster_.Call(1, "GET", "/collections/docs"), 404),
            "Not found: Collection `docs` doesn't exist!");
  EXPECT_EQ(ErrorOf(cluster_.Call(1, "POST", "/collections/docs/points/count", "{}"), 404),
            "Not found: Collection `docs` doesn't exist!");
}

TEST_F(RestRouterTest, CreateCollectionErrors) {
  EXPECT_EQ(
      ErrorOf(cluster_.Call(1, "PUT", "/collections/bad", R"({"vectors": {"size": 0, "distance": "Dot"}})"),
              422),
      "Validation error in JSON body: [vectors.size: value 0 invalid, must be 1 or larger]");
  EXPECT_EQ(
      ErrorOf(cluster_.Call(1, "PUT", "/collections/bad", R"({"vectors": {"size": 4, "distance": "L2"}})"),
              400),
      "Format error in JSON body: vectors.distance: unknown variant `L2`, expected one of `Cosine`, "
      "`Euclid`, "
      "`Dot`, `Manhattan`");
  EXPECT_TRUE(absl::StartsWith(ErrorOf(cluster_.Call(1, "PUT", "/collections/bad", R"({"vectors": )"), 400),
                               "Format error in JSON body: "));
  EXPECT_EQ(ResultOf(cluster_.Call(1, "GET", "/collections")), Json::parse(R"({"collections": []})"));
}

TEST_F(RestRouterTest, UpsertRetrieveAndScroll) {
  CreateDocs();
  UpsertDocs();
  Json one = GetPoint("1");
  EXPECT_EQ(one["id"], 1);
  EXPECT_EQ(one["payload"], Json::parse(R"({"city": "Berlin", "n": 1})"));
  EXPECT_EQ(one["vector"], Json::parse("[1.0, 0.0, 0.0, 0.0]"));
  EXPECT_EQ(GetPoint(kUuid)["payload"]["city"], "Paris");
  EXPECT_EQ(ErrorOf(cluster_.Call(1, "GET", "/collections/docs/points/99"), 404),
            "Not found: Point with id 99 does not exists!");
  EXPECT_EQ(ErrorOf(cluster_.Call(1, "GET", "/collections/docs/points/abc"), 400),
            "Wrong input: Can not recognize \"abc\" as point id");

  Json records =
      ResultOf(cluster_.Call(3, "POST", "/collections/docs/points",
                             R"({"ids": [6, ")" + std::string(kUuid) + R"(", 99], "with_vector": true})"));
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0]["id"], 6);
  EXPECT_EQ(records[0]["payload"], Json::object());  // a null payload in the batch: an empty one
  EXPECT_EQ(records[0]["vector"], Json::parse("[0.9, 0.0, 0.1, 0.0]"));
  EXPECT_EQ(records[1]["id"], kUuid);

  // Pages of three visit every point once, numeric ids first, then UUIDs.
  std::vector<Json> seen;
  Json offset = nullptr;
  for (int page = 0; page < 5; ++page) {
    Json body = Json::object({{"limit", 3}, {"with_payload", false}});
    if (!offset.is_null()) body["offset"] = offset;
    Json r = ResultOf(cluster_.Call(1 + page % 3, "POST", "/collections/docs/points/scroll", Dump(body)));
    for (const Json& p : r["points"]) {
      EXPECT_TRUE(p["payload"].is_null());
      seen.push_back(p["id"]);
    }
    offset = r["next_page_offset"];
    if (offset.is_null()) break;
  }
  EXPECT_EQ(Dump(Json(seen)), Dump(Json::parse(R"([1, 2, 3, 4, 5, 6, ")" + std::string(kUuid) + R"("])")));

  EXPECT_EQ(Count("{}"), 7u);
  EXPECT_EQ(Count(R"({"filter": {"must": [{"key": "n", "range": {"gte": 2}}]}, "exact": true})"), 4u);
  EXPECT_EQ(Count(R"({"filter": {"should": [{"key": "city", "match": {"any": ["Rome", "Paris"]}}],
                                  "must_not": {"has_id": [5]}}})"),
            1u);
}

TEST_F(RestRouterTest, SearchAndQuery) {
  CreateDocs();
  UpsertDocs();
  // Dot scores against [1, 0, 0, 0]: 1 -> 1, 5 -> 1, 6 -> 0.9, uuid -> 0.5, the rest 0.
  Json hits = ResultOf(cluster_.Call(1, "POST", "/collections/docs/points/search",
                                     R"({"vector": [1, 0, 0, 0], "limit": 3, "with_payload": ["city"]})"));
  EXPECT_EQ(Dump(Json(Ids(hits))), "[1,5,6]");
  EXPECT_EQ(hits[0]["score"], 1.0);
  EXPECT_EQ(hits[2]["score"], 0.9);
  EXPECT_EQ(hits[0]["payload"], Json::parse(R"({"city": "Berlin"})"));  // only the listed key
  EXPECT_TRUE(hits[0]["version"].is_number_unsigned());
  EXPECT_FALSE(hits[0].contains("vector"));

  Json filtered = ResultOf(cluster_.Call(2, "POST", "/collections/docs/points/search",
                                         R"({"vector": [1, 0, 0, 0], "top": 2, "filter": {
                                               "must": [{"key": "city", "match": {"value": "Berlin"}}]}})"));
  EXPECT_EQ(Dump(Json(Ids(filtered))), "[1,3]");  // equal scores (0) in id order
  EXPECT_FALSE(filtered[0].contains("payload"));

  Json query = ResultOf(cluster_.Call(3, "POST", "/collections/docs/points/query",
                                      R"({"query": {"nearest": [1, 0, 0, 0]}, "limit": 2, "offset": 1,
                                          "with_vector": true, "score_threshold": 0.6})"));
  EXPECT_EQ(Dump(Json(Ids(query["points"]))), "[5,6]");
  EXPECT_EQ(query["points"][0]["vector"], Json::parse("[1.0, 1.0, 0.0, 0.0]"));

  // By point id: the nearest to point 1's vector, point 1 itself left out.
  Json by_id =
      ResultOf(cluster_.Call(1, "POST", "/collections/docs/points/query", R"({"query": 1, "limit": 3})"));
  EXPECT_EQ(Dump(Json(Ids(by_id["points"]))), "[5,6,\"" + std::string(kUuid) + "\"]");
  // No query: matching points in id order.
  Json ordered = ResultOf(cluster_.Call(1, "POST", "/collections/docs/points/query",
                                        R"({"filter": {"must": {"key": "city", "match": {"value": "Berlin"}}},
                                            "limit": 2, "offset": 1})"));
  EXPECT_EQ(Dump(Json(Ids(ordered["points"]))), "[3,4]");

  Json batch = ResultOf(cluster_.Call(2, "POST", "/collections/docs/points/search/batch",
                                      R"({"searches": [{"vector": [0, 1, 0, 0], "limit": 1},
                                                       {"vector": [0, 0, 0, 1], "limit": 1}]})"));
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0][0]["id"], 2);  // 2 and 5 both score 1: the lower id first
  EXPECT_EQ(batch[1][0]["id"], 4);
  Json query_batch = ResultOf(
      cluster_.Call(3, "POST", "/collections/docs/points/query/batch",
                    R"({"searches": [{"query": [0, 0, 1, 0], "limit": 1}, {"query": 4, "limit": 1}]})"));
  EXPECT_EQ(query_batch[0]["points"][0]["id"], 3);
  EXPECT_EQ(query_batch[1]["points"].size(), 1u);

  EXPECT_EQ(ErrorOf(cluster_.Call(1, "POST", "/collections/docs/points/query", R"({"query": 404})"), 404),
            "Not found: No point with id 404 found");
}

TEST_F(RestRouterTest, DeletesAndPayloadOperations) {
  CreateDocs();
  UpsertDocs();
  EXPECT_EQ(ResultOf(cluster_.Call(1, "POST", "/collections/docs/points/delete?wait=true",
                                   R"({"points": [2]})"))["status"],
            "completed");
  EXPECT_EQ(ResultOf(cluster_.Call(
                2, "POST", "/collections/docs/points/delete?wait=true",
                R"({"filter": {"must": [{"key": "city", "match": {"value": "Rome"}}]}})"))["status"],
            "completed");
  EXPECT_EQ(Count("{}"), 5u);

  ResultOf(cluster_.Call(3, "POST", "/collections/docs/points/payload?wait=true",
                         R"({"payload": {"color": "red"}, "points": [1]})"));
  ResultOf(cluster_.Call(3, "POST", "/collections/docs/points/payload?wait=true",
                         R"({"payload": {"x": 1}, "points": [1], "key": "meta"})"));
  EXPECT_EQ(GetPoint("1")["payload"],
            Json::parse(R"({"city": "Berlin", "color": "red", "meta": {"x": 1}, "n": 1})"));

  ResultOf(cluster_.Call(1, "PUT", "/collections/docs/points/payload?wait=true",
                         R"({"payload": {"only": true}, "points": [3]})"));
  EXPECT_EQ(GetPoint("3")["payload"], Json::parse(R"({"only": true})"));

  ResultOf(
      cluster_.Call(2, "POST", "/collections/docs/points/payload/delete?wait=true",
                    R"({"keys": ["n"], "filter": {"must": {"key": "city", "match": {"value": "Berlin"}}}})"));
  EXPECT_EQ(GetPoint("4")["payload"], Json::parse(R"({"city": "Berlin"})"));
  EXPECT_FALSE(GetPoint("1")["payload"].contains("n"));

  ResultOf(
      cluster_.Call(1, "POST", "/collections/docs/points/payload/clear?wait=true", R"({"points": [4]})"));
  EXPECT_EQ(GetPoint("4")["payload"], Json::object());

  ResultOf(cluster_.Call(3, "PUT", "/collections/docs/points/vectors?wait=true",
                         R"({"points": [{"id": 1, "vector": [0, 0, 0, 2]}]})"));
  EXPECT_EQ(GetPoint("1")["vector"], Json::parse("[0.0, 0.0, 0.0, 2.0]"));

  Json batch =
      ResultOf(cluster_.Call(1, "POST", "/collections/docs/points/batch?wait=true", R"({"operations": [
      {"upsert": {"points": [{"id": 10, "vector": [1, 1, 1, 1], "payload": {"a": 1}}]}},
      {"set_payload": {"payload": {"b": 2}, "points": [10]}},
      {"delete": {"points": [6]}}]})"));
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch[2]["status"], "completed");
  EXPECT_EQ(GetPoint("10")["payload"], Json::parse(R"({"a": 1, "b": 2})"));
  EXPECT_EQ(Count("{}"), 5u);

  // A payload operation naming a missing point fails as in Qdrant.
  EXPECT_EQ(ErrorOf(cluster_.Call(1, "POST", "/collections/docs/points/payload?wait=true",
                                  R"({"payload": {"a": 1}, "points": [777]})"),
                    404),
            "No point with id 777 found");
}

TEST_F(RestRouterTest, WriteErrors) {
  CreateDocs();
  EXPECT_EQ(ErrorOf(cluster_.Call(1, "PUT", "/collections/docs/points?wait=true",
                                  R"({"points": [{"id": 9, "vector": [1, 2, 3]}]})"),
                    400),
            "Wrong input: Vector dimension error: expected dim: 4, got 3");
  EXPECT_EQ(ErrorOf(cluster_.Call(1, "PUT", "/collections/docs/points?wait=true",
                                  R"({"points": [{"id": -3, "vector": [1, 2, 3, 4]}]})"),
                    400),
            "Format error in JSON body: value -3 is not a valid point ID, valid values are either an "
            "unsigned integer "
            "or a UUID");
  EXPECT_TRUE(absl::StartsWith(
      ErrorOf(cluster_.Call(2, "PUT", "/collections/docs/points", R"({"points": [{"id": 1, "vector": [1, 2)"),
              400),
      "Format error in JSON body: parse error"));
  EXPECT_EQ(
      ErrorOf(cluster_.Call(2, "POST", "/collections/docs/points/count",
                            R"({"filter": {"must": [{"key": "a", "matches": {"value": 1}}]}})"),
              422),
      "Validation error in JSON body: [filter.must[0]: At least one field condition must be specified]");
  EXPECT_EQ(
      ErrorOf(cluster_.Call(2, "POST", "/collections/docs/points/scroll",
                            R"({"filter": {"must": [{"unknown_condition": {"key": "a"}}]}})"),
              400),
      "Format error in JSON body: filter.must[0]: data did not match any variant of untagged enum Condition");
  EXPECT_EQ(ErrorOf(cluster_.Call(3, "PUT", "/collections/docs/points?wait=maybe", R"({"points": []})"), 400),
            "Deserialize error in query parameters: wait: provided string was not `true` or `false` (got "
            "\"maybe\")");
  EXPECT_EQ(ErrorOf(cluster_.Call(3, "POST", "/collections/docs/points/scroll", R"({"limit": 0})"), 422),
            "Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]");
  EXPECT_EQ(ErrorOf(cluster_.Call(3, "PUT", "/collections/nope/points?wait=true", R"({"points": []})"), 404),
            "Not found: Collection `nope` doesn't exist!");
}

TEST_F(RestRouterTest, WaitFalseIsAcknowledgedAndLandsLater) {
  CreateDocs();
  Json r = ResultOf(cluster_.Call(1, "PUT", "/collections/docs/points",
                                  R"({"points": [{"id": 1, "vector": [1, 0, 0, 0]}]})"));
  EXPECT_EQ(r["status"], "acknowledged");
  cluster_.RunFor(world::Seconds(1));
  EXPECT_EQ(GetPoint("1")["id"], 1);
}

// Payload indexes are acknowledged (filters are exact scans here): applications that create them
// at start-up run unchanged; a bad request or an unknown collection is still refused.
TEST_F(RestRouterTest, PayloadIndexIsAcknowledged) {
  CreateDocs();
  Json r = ResultOf(cluster_.Call(1, "PUT", "/collections/docs/index?wait=true",
                                  R"({"field_name": "city", "field_schema": "keyword"})"));
  EXPECT_EQ(r["status"], "completed");
  EXPECT_EQ(ResultOf(cluster_.Call(2, "DELETE", "/collections/docs/index/city"))["status"], "acknowledged");
  EXPECT_NE(ErrorOf(cluster_.Call(1, "PUT", "/collections/docs/index", R"({"field_schema": "keyword"})"), 400)
                .find("field_name"),
            std::string::npos);
  ErrorOf(cluster_.Call(1, "PUT", "/collections/nope/index", R"({"field_name": "city"})"), 404);
}

TEST_F(RestRouterTest, Aliases) {
  CreateDocs();
  UpsertDocs();
  EXPECT_EQ(ResultOf(cluster_.Call(
                1, "POST", "/collections/aliases",
                R"({"actions": [{"create_alias": {"collection_name": "docs", "alias_name": "live"}}]})")),
            true);
  EXPECT_EQ(ResultOf(cluster_.Call(2, "GET", "/aliases")),
            Json::parse(R"({"aliases": [{"alias_name": "live", "collection_name": "docs"}]})"));
  EXPECT_EQ(ResultOf(cluster_.Call(3, "GET", "/collections/docs/aliases"))["aliases"].size(), 1u);
  // Point endpoints resolve the alias.
  EXPECT_EQ(ResultOf(cluster_.Call(3, "POST", "/collections/live/points/count", "{}"))["count"], 7);
  EXPECT_EQ(ResultOf(cluster_.Call(3, "GET", "/collections/live"))["points_count"], 7);

  EXPECT_EQ(ResultOf(cluster_.Call(
                1, "POST", "/collections/aliases",
                R"({"actions": [{"rename_alias": {"old_alias_name": "live", "new_alias_name": "prod"}}]})")),
            true);
  EXPECT_EQ(ResultOf(cluster_.Call(2, "GET", "/aliases")),
            Json::parse(R"({"aliases": [{"alias_name": "prod", "collection_name": "docs"}]})"));
  EXPECT_EQ(
      ErrorOf(cluster_.Call(
                  1, "POST", "/collections/aliases",
                  R"({"actions": [{"rename_alias": {"old_alias_name": "gone", "new_alias_name": "x"}}]})"),
              404),
      "Not found: Alias `gone` doesn't exist!");
  EXPECT_EQ(ResultOf(cluster_.Call(1, "POST", "/collections/aliases",
                                   R"({"actions": [{"delete_alias": {"alias_name": "prod"}}]})")),
            true);
  EXPECT_EQ(ResultOf(cluster_.Call(2, "GET", "/aliases"))["aliases"].size(), 0u);
  EXPECT_EQ(ErrorOf(cluster_.Call(2, "GET", "/collections/nope/aliases"), 404),
            "Not found: Collection `nope` doesn't exist!");
}

TEST_F(RestRouterTest, ClusterStatus) {
  cluster_.extras.last_update = "2024-05-01T12:00:00.000000Z";
  cluster_.extras.message_send_failures["http://node3:6335/"] = {4, "connection refused",
                                                                 "2024-05-01T11:59:59.000000Z"};
  Json status = ResultOf(cluster_.Call(2, "GET", "/cluster"));
  EXPECT_EQ(status["status"], "enabled");
  EXPECT_EQ(status["peer_id"], 2);
  EXPECT_EQ(status["peers"],
            Json::parse(R"({"1": {"uri": "http://node1:6335/"}, "2": {"uri": "http://node2:6335/"},
                                             "3": {"uri": "http://node3:6335/"}})"));
  const Json& raft = status["raft_info"];
  EXPECT_TRUE(raft["term"].is_number_unsigned());
  EXPECT_TRUE(raft["commit"].is_number_unsigned());
  EXPECT_TRUE(raft["leader"].is_number_unsigned());
  EXPECT_TRUE(raft["role"] == "Leader" || raft["role"] == "Follower") << raft;
  EXPECT_EQ(raft["is_voter"], true);
  EXPECT_EQ(
      status["consensus_thread_status"],
      Json::parse(R"({"consensus_thread_status": "working", "last_update": "2024-05-01T12:00:00.000000Z"})"));
  EXPECT_EQ(status["message_send_failures"]["http://node3:6335/"]["count"], 4);
  // Recovery asks the leader for a snapshot (the leader itself has nothing to recover from).
  for (PeerId via = 1; via <= 3; ++via) {
    EXPECT_EQ(ResultOf(cluster_.Call(via, "POST", "/cluster/recover")), true) << "via " << via;
  }
}

TEST_F(RestRouterTest, CollectionClusterInfoAndOperations) {
  CreateDocs();
  UpsertDocs();
  Json info = ResultOf(cluster_.Call(1, "GET", "/collections/docs/cluster"));
  EXPECT_EQ(info["peer_id"], 1);
  EXPECT_EQ(info["shard_count"], 2);
  EXPECT_EQ(info["local_shards"].size() + info["remote_shards"].size(), 4u);  // 2 shards x 2 replicas
  for (const Json& s : info["local_shards"]) {
    EXPECT_EQ(s["state"], "Active");
    EXPECT_TRUE(s["points_count"].is_number_unsigned());
  }
  EXPECT_EQ(info["shard_transfers"], Json::array());

  // Replicate shard 0 to the peer that lacks it.
  std::set<uint64_t> holders;
  for (const Json& s : info["local_shards"]) {
    if (s["shard_id"] == 0) holders.insert(1);
  }
  for (const Json& s : info["remote_shards"]) {
    if (s["shard_id"] == 0) holders.insert(s["peer_id"].get<uint64_t>());
  }
  ASSERT_EQ(holders.size(), 2u);
  uint64_t target = 1;
  while (holders.count(target)) ++target;
  const std::string replicate = absl::StrCat(R"({"replicate_shard": {"shard_id": 0, "from_peer_id": )",
                                             *holders.begin(), R"(, "to_peer_id": )", target, "}}");
  EXPECT_EQ(ResultOf(cluster_.Call(2, "POST", "/collections/docs/cluster", replicate)), true);
  cluster_.RunFor(world::Seconds(10));
  Json after = ResultOf(cluster_.Call(static_cast<PeerId>(target), "GET", "/collections/docs/cluster"));
  EXPECT_EQ(after["local_shards"].size() + after["remote_shards"].size(), 5u);
  EXPECT_EQ(after["shard_transfers"], Json::array());
  EXPECT_EQ(Count("{}"), 7u);

  EXPECT_TRUE(absl::StartsWith(ErrorOf(cluster_.Call(1, "POST", "/collections/docs/cluster",
                                                     R"({"drop_replica": {"shard_id": 1, "peer_id": 99}})"),
                                       404),
                               "Not found: peer 99 holds no replica of shard 1"));
  EXPECT_EQ(ErrorOf(cluster_.Call(1, "POST", "/collections/docs/cluster", "{}"), 400),
            "Format error in JSON body: data did not match any variant of untagged enum ClusterOperations");
  EXPECT_EQ(ErrorOf(cluster_.Call(1, "DELETE", "/cluster/peer/2"), 400),
            "Cannot remove peer 2 as there are shards on it");
  EXPECT_EQ(ErrorOf(cluster_.Call(1, "DELETE", "/cluster/peer/two"), 400),
            "Deserialize error in path parameters: can not parse \"two\" to a u64");
}

TEST(RestStandaloneTest, ClusterManagementIsDisabled) {
  RestCluster cluster({.nodes = 1, .cluster_enabled = false});
  ASSERT_TRUE(cluster.AwaitReady());
  EXPECT_EQ(ResultOf(cluster.Call(1, "GET", "/cluster")), Json::parse(R"({"status": "disabled"})"));
  EXPECT_EQ(ErrorOf(cluster.Call(1, "DELETE", "/cluster/peer/1?force=true"), 405),
            "Distributed deployment is disabled.");
  EXPECT_EQ(ErrorOf(cluster.Call(1, "POST", "/cluster/recover"), 405), "Distributed deployment is disabled.");
  ASSERT_EQ(ResultOf(cluster.Call(1, "PUT", "/collections/solo",
                                  R"({"vectors": {"img": {"size": 2, "distance": "Euclid"}},
                                                                    "sparse_vectors": {"words": {}}})")),
            true);
  EXPECT_EQ(ErrorOf(cluster.Call(1, "POST", "/collections/solo/cluster",
                                 R"({"drop_replica": {"shard_id": 0, "peer_id": 1}})"),
                    405),
            "Distributed deployment is disabled.");
  Json info = ResultOf(cluster.Call(1, "GET", "/collections/solo"));
  EXPECT_EQ(info["config"]["params"]["shard_number"], 1);
  EXPECT_EQ(info["config"]["params"]["vectors"],
            Json::parse(R"({"img": {"size": 2, "distance": "Euclid"}})"));
  EXPECT_EQ(info["config"]["params"]["sparse_vectors"], Json::parse(R"({"words": {}})"));

  ResultOf(cluster.Call(1, "PUT", "/collections/solo/points?wait=true", R"({"points": [
      {"id": 1, "vector": {"img": [0, 0], "words": {"indices": [1, 7], "values": [1, 2]}}},
      {"id": 2, "vector": {"img": [3, 4], "words": {"indices": [7], "values": [5]}}}]})"));
  Json near = ResultOf(cluster.Call(1, "POST", "/collections/solo/points/search",
                                    R"({"vector": {"name": "img", "vector": [3, 3]}, "limit": 1})"));
  EXPECT_EQ(near[0]["id"], 2);
  EXPECT_EQ(near[0]["score"], 1.0);  // Euclid: a distance
  Json sparse =
      ResultOf(cluster.Call(1, "POST", "/collections/solo/points/query",
                            R"({"query": {"indices": [7], "values": [1]}, "using": "words", "limit": 2,
                                          "with_vector": ["words"]})"));
  EXPECT_EQ(Dump(Json(Ids(sparse["points"]))), "[2,1]");
  EXPECT_EQ(sparse["points"][0]["score"], 5.0);
  EXPECT_EQ(sparse["points"][0]["vector"], Json::parse(R"({"words": {"indices": [7], "values": [5.0]}})"));
  EXPECT_EQ(
      ErrorOf(cluster.Call(1, "POST", "/collections/solo/points/search", R"({"vector": [1, 1], "limit": 1})"),
              400),
      "Wrong input: Not existing vector name error: ");
}

}  // namespace
}  // namespace qdsim::rest::testing
