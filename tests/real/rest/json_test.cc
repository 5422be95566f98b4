// The JSON mapping on its own: bodies to node types, node types to Qdrant's answer shapes, and the
// error messages (and HTTP codes) a client sees for malformed or invalid input.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <iterator>

#include "absl/strings/match.h"
#include "google/protobuf/util/message_differencer.h"
#include "node/shard/point_id.h"
#include "real/rest/json_cluster.h"
#include "real/rest/json_collections.h"
#include "real/rest/json_filter.h"
#include "real/rest/json_points.h"
#include "real/rest/json_util.h"
#include "real/rest/query_params.h"

namespace qdsim::rest {
namespace {

Json J(const std::string& text) { return Json::parse(text); }

std::string Message(const absl::Status& s) { return std::string(s.message()); }

template <typename T>
std::string ErrorOf(const absl::StatusOr<T>& r) {
  return r.ok() ? "<ok>" : Message(r.status());
}

bool Same(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

// ---- Bodies and errors -------------------------------------------------------------------------

TEST(JsonBodyTest, MalformedJsonIsAFormatError) {
  absl::StatusOr<Json> r = ParseJsonBody("{\"points\": [1, 2", false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(RestHttpStatus(r.status()), 400);
  EXPECT_TRUE(absl::StartsWith(r.status().message(), "Format error in JSON body: parse error at line 1"))
      << r.status().message();
}

TEST(JsonBodyTest, EmptyBodyIsAnErrorUnlessAllFieldsAreOptional) {
  EXPECT_EQ(ErrorOf(ParseJsonBody("  \n", false)),
            "Format error in JSON body: EOF while parsing a value at line 1 column 0");
  absl::StatusOr<Json> r = ParseJsonBody("", true);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->is_object() && r->empty());
}

TEST(JsonBodyTest, DeepNestingIsRefusedBeforeParsing) {
  const std::string deep = std::string(200, '[') + std::string(200, ']');
  EXPECT_EQ(ErrorOf(ParseJsonBody(deep, false)),
            "Format error in JSON body: recursion limit exceeded at line 1 column 129");
  // Brackets inside strings do not count.
  EXPECT_TRUE(ParseJsonBody("{\"a\": \"" + std::string(500, '[') + "\"}", false).ok());
}

TEST(JsonBodyTest, HttpStatusOfErrors) {
  EXPECT_EQ(RestHttpStatus(ValidationError("limit", "value 0 invalid, must be 1 or larger")), 422);
  EXPECT_EQ(RestHttpStatus(FormatError("x")), 400);
  EXPECT_EQ(RestHttpStatus(absl::NotFoundError("Not found: Collection `x` doesn't exist!")), 404);
  EXPECT_EQ(RestHttpStatus(absl::AlreadyExistsError("Collection `x` already exists!")), 409);
  // The node's own validation messages are 422 as in Qdrant.
  EXPECT_EQ(RestHttpStatus(absl::InvalidArgumentError("Validation error: vectors.size: value 0 invalid")),
            422);
}

TEST(JsonBodyTest, Envelopes) {
  EXPECT_EQ(OkBody(Json(true), 0.5), R"({"result":true,"status":"ok","time":0.5})");
  EXPECT_EQ(ErrorBody("Not found: x", 0.25), R"({"status":{"error":"Not found: x"},"time":0.25})");
}

// ---- Point ids ---------------------------------------------------------------------------------

TEST(PointIdJsonTest, NumbersAndUuids) {
  EXPECT_TRUE(Same(*PointIdFromJson(J("42")), shard::NumId(42)));
  const shardpb::PointId uuid = *PointIdFromJson(Json("550E8400-e29b-41d4-a716-446655440000"));
  EXPECT_EQ(PointIdToJson(uuid), Json("550e8400-e29b-41d4-a716-446655440000"));
  // Qdrant's other UUID spellings name the same id.
  EXPECT_TRUE(Same(*PointIdFromJson(Json("550e8400e29b41d4a716446655440000")), uuid));
  EXPECT_TRUE(Same(*PointIdFromJson(Json("urn:uuid:550e8400-e29b-41d4-a716-446655440000")), uuid));
  EXPECT_EQ(Dump(PointIdToJson(shard::NumId(18446744073709551615ull))), "18446744073709551615");
}

TEST(PointIdJsonTest, WrongIdTypesAreRefusedWithQdrantsMessage) {
  const std::string tail = " is not a valid point ID, valid values are either an unsigned integer or a UUID";
  EXPECT_EQ(ErrorOf(PointIdFromJson(Json("abc"))), "Format error in JSON body: value abc" + tail);
  EXPECT_EQ(ErrorOf(PointIdFromJson(J("-1"))), "Format error in JSON body: value -1" + tail);
  EXPECT_EQ(ErrorOf(PointIdFromJson(J("1.5"))), "Format error in JSON body: value 1.5" + tail);
  EXPECT_EQ(ErrorOf(PointIdFromJson(J("true"))), "Format error in JSON body: value true" + tail);
  EXPECT_EQ(RestHttpStatus(PointIdFromJson(J("[1]")).status()), 400);
}

TEST(PointIdJsonTest, PathIds) {
  EXPECT_TRUE(Same(*PointIdFromPath("7"), shard::NumId(7)));
  EXPECT_EQ(ErrorOf(PointIdFromPath("x7")), "Wrong input: Can not recognize \"x7\" as point id");
}

// ---- Vectors and payloads ----------------------------------------------------------------------

TEST(VectorJsonTest, DefaultNamedAndSparse) {
  shardpb::NamedVectors single = *VectorStructFromJson(J("[0.5, 1, -2]"), "vector");
  ASSERT_EQ(single.vectors().size(), 1u);
  EXPECT_EQ(single.vectors().at("").dense().values_size(), 3);
  EXPECT_EQ(Dump(VectorsToJson(single)), "[0.5,1.0,-2.0]");

  shardpb::NamedVectors named = *VectorStructFromJson(
      J(R"({"text": {"indices": [3, 1], "values": [0.1, 0.2]}, "img": [1, 2]})"), "vector");
  EXPECT_EQ(named.vectors().at("text").sparse().indices_size(), 2);
  EXPECT_EQ(VectorsToJson(named), J(R"({"img":[1.0,2.0],"text":{"indices":[3,1],"values":[0.1,0.2]}})"));
}

TEST(VectorJsonTest, UnsupportedAndOutOfRangeVectors) {
  EXPECT_EQ(ErrorOf(VectorStructFromJson(J("[[1, 2], [3, 4]]"), "vector")),
            "Bad request: vector: multivectors are not supported");
  EXPECT_EQ(ErrorOf(VectorStructFromJson(J("[1e300]"), "vector")),
            "Format error in JSON body: vector[0]: invalid value: floating point `1e+300`, expected f32");
  EXPECT_EQ(ErrorOf(VectorStructFromJson(J("[1, \"x\"]"), "vector")),
            "Format error in JSON body: vector[1]: invalid type: string \"x\", expected f32");
  EXPECT_EQ(
      ErrorOf(VectorStructFromJson(J("5"), "vector")),
      "Format error in JSON body: vector: data did not match any variant of untagged enum VectorStruct");
}

TEST(VectorJsonTest, FloatsPrintAsTheirShortestDecimal) {
  EXPECT_EQ(Dump(FloatToJson(0.1f)), "0.1");
  EXPECT_EQ(Dump(FloatToJson(1.0f / 3.0f)), "0.33333334");
  EXPECT_EQ(Dump(FloatToJson(-2.0f)), "-2.0");
}

RC_GTEST_PROP(VectorJsonTest, EveryFiniteFloatSurvivesARoundTrip, ()) {
  const float x = *rc::gen::arbitrary<float>();
  RC_PRE(std::isfinite(x));
  const Json printed = J(Dump(FloatToJson(x)));  // through the text, as a client reads it
  absl::StatusOr<float> back = ToFloat(printed, "x");
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == x);
}

TEST(PayloadJsonTest, StructRoundTripKeepsIntegersIntegral) {
  const Json payload =
      J(R"({"city": "Berlin", "n": 5, "x": 1.5, "tags": ["a", null, true], "nested": {"a": {"b": -3}}})");
  google::protobuf::Struct s = *JsonToStruct(payload, "payload");
  EXPECT_EQ(StructToJson(s),
            J(R"({"city":"Berlin","n":5,"nested":{"a":{"b":-3}},"tags":["a",null,true],"x":1.5})"));
  EXPECT_EQ(ErrorOf(JsonToStruct(J("[1]"), "payload")),
            "Format error in JSON body: payload: invalid type: sequence, expected a map");
}

TEST(PayloadJsonTest, TooDeepPayloadsAreRefused) {
  std::string deep = "1";
  for (int i = 0; i < kMaxPayloadDepth + 1; ++i) deep = "{\"a\": " + deep + "}";
  EXPECT_FALSE(JsonToStruct(J(deep), "payload").ok());
}

TEST(PayloadJsonTest, SelectorsIncludeAndExcludeNestedPaths) {
  google::protobuf::Struct s = *JsonToStruct(J(R"({"a": {"b": 1, "c": 2}, "d": 3})"), "payload");
  EXPECT_EQ(SelectPayload(s, {true, {"a.b", "d", "missing"}, {}}), J(R"({"a":{"b":1},"d":3})"));
  EXPECT_EQ(SelectPayload(s, {true, {}, {"a.c"}}), J(R"({"a":{"b":1},"d":3})"));
  PayloadSelector fallback = *WithPayloadFromJson(nullptr, true);
  EXPECT_TRUE(fallback.enabled);
  EXPECT_TRUE(fallback.include.empty());
  const Json listed_json = J(R"(["a"])");
  PayloadSelector listed = *WithPayloadFromJson(&listed_json, false);
  EXPECT_TRUE(listed.enabled);
  EXPECT_EQ(listed.include, std::vector<std::string>{"a"});
  const Json excluded_json = J(R"({"exclude": ["b"]})");
  PayloadSelector excluded = *WithPayloadFromJson(&excluded_json, false);
  EXPECT_EQ(excluded.exclude, std::vector<std::string>{"b"});
  const Json bad_json = J(R"({"pick": ["b"]})");
  EXPECT_EQ(RestHttpStatus(WithPayloadFromJson(&bad_json, false).status()), 400);
}

// ---- Writes ------------------------------------------------------------------------------------

TEST(UpsertJsonTest, PointsAndBatchFormsGiveTheSameOperation) {
  absl::StatusOr<shardpb::ShardOperation> list = UpsertFromJson(J(R"({"points": [
      {"id": 1, "vector": [1, 0], "payload": {"k": "a"}},
      {"id": "550e8400-e29b-41d4-a716-446655440000", "vector": [0, 1]}]})"));
  absl::StatusOr<shardpb::ShardOperation> batch = UpsertFromJson(J(R"({"batch": {
      "ids": [1, "550e8400-e29b-41d4-a716-446655440000"], "vectors": [[1, 0], [0, 1]],
      "payloads": [{"k": "a"}, null]}})"));
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_TRUE(Same(*list, *batch));
  EXPECT_EQ(list->upsert().points_size(), 2);
}

TEST(UpsertJsonTest, NamedBatchVectorsAndSizeMismatch) {
  absl::StatusOr<shardpb::ShardOperation> op = UpsertFromJson(J(R"({"batch": {"ids": [1, 2], "vectors": {
      "img": [[1], [2]],
      "text": [{"indices": [1], "values": [1]}, {"indices": [], "values": []}]}}})"));
  ASSERT_TRUE(op.ok()) << op.status();
  EXPECT_TRUE(op->upsert().points(1).vectors().vectors().at("text").has_sparse());
  absl::StatusOr<shardpb::ShardOperation> bad =
      UpsertFromJson(J(R"({"batch": {"ids": [1, 2], "vectors": [[1]]}})"));
  EXPECT_EQ(RestHttpStatus(bad.status()), 422);
  EXPECT_EQ(ErrorOf(bad),
            "Validation error in JSON body: [batch: number of vectors (1) must equal the number of ids (2)]");
}

TEST(UpsertJsonTest, ShapeErrors) {
  EXPECT_EQ(
      ErrorOf(UpsertFromJson(J(R"({"pts": []})"))),
      "Format error in JSON body: data did not match any variant of untagged enum PointInsertOperations");
  EXPECT_EQ(ErrorOf(UpsertFromJson(J(R"({"points": [{"id": 1}]})"))),
            "Format error in JSON body: points[0]: missing field `vector`");
  EXPECT_EQ(ErrorOf(UpsertFromJson(J(R"({"points": [{"id": "x", "vector": [1]}]})"))),
            "Format error in JSON body: value x is not a valid point ID, valid values are either an unsigned "
            "integer or a UUID");
  EXPECT_EQ(ErrorOf(UpsertFromJson(J(R"([1])"))),
            "Format error in JSON body: invalid type: sequence, expected struct PointInsertOperations");
}

TEST(WriteJsonTest, DeleteAndPayloadOperations) {
  shardpb::ShardOperation del = *DeletePointsFromJson(J(R"({"points": [1, 2]})"));
  EXPECT_EQ(del.delete_points().ids_size(), 2);
  shardpb::ShardOperation by_filter =
      *DeletePointsFromJson(J(R"({"filter": {"must": {"key": "k", "match": {"value": 1}}}})"));
  EXPECT_EQ(by_filter.delete_by_filter().filter().must_size(), 1);

  shardpb::ShardOperation set =
      *SetPayloadFromJson(J(R"({"payload": {"x": 1}, "points": [3], "key": "a.b"})"));
  EXPECT_EQ(set.set_payload().key(), "a.b");
  EXPECT_EQ(set.set_payload().selector().ids().ids(0).num(), 3u);
  EXPECT_EQ(ErrorOf(SetPayloadFromJson(J(R"({"payload": {"x": 1}})"))),
            "Format error in JSON body: Either list of point ids or filter must be provided");
  EXPECT_EQ(ErrorOf(SetPayloadFromJson(J(R"({"points": [1]})"))),
            "Format error in JSON body: missing field `payload`");

  shardpb::ShardOperation overwrite = *OverwritePayloadFromJson(J(R"({"payload": {}, "filter": {}})"));
  EXPECT_TRUE(overwrite.overwrite_payload().selector().has_filter());
  shardpb::ShardOperation keys = *DeletePayloadFromJson(J(R"({"keys": ["a", "b.c"], "points": [1]})"));
  EXPECT_EQ(keys.delete_payload_keys().keys_size(), 2);
  shardpb::ShardOperation clear = *ClearPayloadFromJson(J(R"({"points": [1]})"));
  EXPECT_TRUE(clear.has_clear_payload());
  shardpb::ShardOperation vectors =
      *UpdateVectorsFromJson(J(R"({"points": [{"id": 1, "vector": {"img": [1]}}]})"));
  EXPECT_EQ(vectors.update_vectors().points(0).vectors().vectors().count("img"), 1u);
}

TEST(WriteJsonTest, BatchOperations) {
  absl::StatusOr<std::vector<shardpb::ShardOperation>> ops = BatchUpdateFromJson(J(R"({"operations": [
      {"upsert": {"points": [{"id": 1, "vector": [1]}]}},
      {"set_payload": {"payload": {"a": 1}, "points": [1]}},
      {"delete": {"points": [1]}}]})"));
  ASSERT_TRUE(ops.ok()) << ops.status();
  ASSERT_EQ(ops->size(), 3u);
  EXPECT_TRUE((*ops)[0].has_upsert());
  EXPECT_TRUE((*ops)[1].has_set_payload());
  EXPECT_TRUE((*ops)[2].has_delete_points());
  EXPECT_TRUE(absl::StartsWith(ErrorOf(BatchUpdateFromJson(J(R"({"operations": [{"frobnicate": {}}]})"))),
                               "Format error in JSON body: operations[0]: unknown variant `frobnicate`"));
}

// ---- Filters -----------------------------------------------------------------------------------

TEST(FilterJsonTest, EveryConditionParsesAndRoundTrips) {
  const Json filter = J(R"({
      "must": [{"key": "city", "match": {"value": "Berlin"}},
               {"key": "n", "range": {"gte": 1, "lt": 5.5}},
               {"key": "tags", "match": {"any": ["a", "b"]}},
               {"key": "code", "match": {"except": [1, 2]}},
               {"key": "flag", "match": {"value": true}},
               {"has_id": [1, "550e8400-e29b-41d4-a716-446655440000"]}],
      "should": {"is_empty": {"key": "a.b"}},
      "must_not": [{"is_null": {"key": "x"}}, {"must": [{"key": "y", "match": {"value": -4}}]}],
      "min_should": {"conditions": [{"key": "k", "is_empty": false}], "min_count": 1}})");
  absl::StatusOr<shardpb::Filter> f = FilterFromJson(filter, "filter");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->must_size(), 6);
  EXPECT_EQ(f->must(1).field().range().gte(), 1);
  EXPECT_EQ(f->must(3).field().match().except().integers_size(), 2);
  EXPECT_EQ(f->must_not(1).filter().must(0).field().match().value().integer(), -4);
  // The `is_empty: false` flag is "not empty".
  EXPECT_EQ(f->min_should().conditions(0).filter().must_not(0).is_empty().key(), "k");
  absl::StatusOr<shardpb::Filter> again = FilterFromJson(FilterToJson(*f), "filter");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(Same(*f, *again));
}

TEST(FilterJsonTest, UnknownConditionsAndFieldsAreFormatErrors) {
  EXPECT_EQ(
      ErrorOf(FilterFromJson(J(R"({"must": [{"frobnicate": 1}]})"), "filter")),
      "Format error in JSON body: filter.must[0]: data did not match any variant of untagged enum Condition");
  EXPECT_EQ(
      ErrorOf(FilterFromJson(J(R"({"mustn't": []})"), "filter")),
      "Format error in JSON body: filter: unknown field `mustn't`, expected one of `should`, `min_should`, "
      "`must`, `must_not`");
  EXPECT_EQ(ErrorOf(FilterFromJson(J(R"({"must": [{"key": "x", "match": {"value": 1.5}}]})"), "filter")),
            "Format error in JSON body: filter.must[0].match.value: data did not match any variant of "
            "untagged enum "
            "ValueVariants");
  absl::StatusOr<shardpb::Filter> no_condition = FilterFromJson(J(R"({"must": [{"key": "x"}]})"), "filter");
  EXPECT_EQ(RestHttpStatus(no_condition.status()), 422);
  EXPECT_EQ(ErrorOf(FilterFromJson(J(R"({"must": [{"key": "x", "geo_radius": {}}]})"), "filter")),
            "Bad request: filter.must[0]: `geo_radius` conditions are not supported");
  EXPECT_EQ(ErrorOf(FilterFromJson(J(R"({"must": [{"nested": {"key": "a", "filter": {}}}]})"), "filter")),
            "Bad request: filter.must[0]: `nested` conditions are not supported");
}

// ---- Reads -------------------------------------------------------------------------------------

TEST(ReadJsonTest, ScrollDefaultsAndLimits) {
  ScrollBody s = *ScrollFromJson(Json::object());
  EXPECT_EQ(s.request.limit, 10u);
  EXPECT_TRUE(s.request.with_payload);
  EXPECT_FALSE(s.request.with_vector.all);
  EXPECT_FALSE(s.request.offset.has_value());
  ScrollBody paged =
      *ScrollFromJson(J(R"({"offset": 7, "limit": 3, "with_payload": false, "with_vector": ["img"]})"));
  EXPECT_EQ(paged.request.offset->num(), 7u);
  EXPECT_EQ(paged.request.with_vector.names.count("img"), 1u);
  absl::StatusOr<ScrollBody> zero = ScrollFromJson(J(R"({"limit": 0})"));
  EXPECT_EQ(ErrorOf(zero), "Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]");
  EXPECT_EQ(RestHttpStatus(zero.status()), 422);
}

TEST(ReadJsonTest, RetrieveAndCount) {
  RetrieveBody r = *RetrieveFromJson(J(R"({"ids": [1, 2], "with_vector": true})"));
  EXPECT_EQ(r.ids.size(), 2u);
  EXPECT_TRUE(r.payload.enabled);
  EXPECT_TRUE(r.with_vector.all);
  EXPECT_EQ(ErrorOf(RetrieveFromJson(Json::object())), "Format error in JSON body: missing field `ids`");
  EXPECT_TRUE(CountFromJson(J(R"({"exact": true})"))->has_value() == false);
  EXPECT_TRUE(CountFromJson(J(R"({"filter": {"must": []}})"))->has_value());
}

TEST(ReadJsonTest, LegacySearchForms) {
  SearchBody plain = *SearchFromJson(J(R"({"vector": [1, 2], "limit": 3})"));
  EXPECT_EQ(plain.request.vector_name, "");
  EXPECT_EQ(plain.request.limit, 3u);
  EXPECT_FALSE(plain.payload.enabled);
  SearchBody named = *SearchFromJson(J(R"({"vector": {"name": "img", "vector": [1]}, "top": 2, "offset": 1,
      "with_payload": ["a"], "with_vectors": true, "score_threshold": 0.5, "params": {"hnsw_ef": 128}})"));
  EXPECT_EQ(named.request.vector_name, "img");
  EXPECT_EQ(named.request.limit, 2u);
  EXPECT_EQ(named.request.offset, 1u);
  EXPECT_EQ(*named.request.score_threshold, 0.5f);
  EXPECT_TRUE(named.request.with_payload);
  EXPECT_TRUE(named.request.with_vector.all);
  SearchBody sparse = *SearchFromJson(
      J(R"({"vector": {"name": "t", "vector": {"indices": [1], "values": [2]}}, "limit": 1})"));
  EXPECT_TRUE(sparse.request.query.has_sparse());
  EXPECT_EQ(ErrorOf(SearchFromJson(J(R"({"vector": [1]})"))),
            "Format error in JSON body: missing field `limit`");
  EXPECT_EQ(RestHttpStatus(SearchFromJson(J(R"({"vector": [1], "limit": 0})")).status()), 422);
}

TEST(ReadJsonTest, QueryForms) {
  SearchBody list = *QueryFromJson(J(R"({"query": [1, 2]})"));
  EXPECT_EQ(list.kind, SearchBody::Kind::kVector);
  EXPECT_EQ(list.request.limit, 10u);
  SearchBody nearest = *QueryFromJson(J(R"({"query": {"nearest": [1]}, "using": "img", "limit": 4})"));
  EXPECT_EQ(nearest.request.vector_name, "img");
  SearchBody sparse = *QueryFromJson(J(R"({"query": {"indices": [1], "values": [1]}, "using": "t"})"));
  EXPECT_TRUE(sparse.request.query.has_sparse());
  SearchBody by_id = *QueryFromJson(J(R"({"query": 17})"));
  EXPECT_EQ(by_id.kind, SearchBody::Kind::kPointId);
  EXPECT_EQ(by_id.query_id->num(), 17u);
  SearchBody none = *QueryFromJson(J(R"({"filter": {"must": []}})"));
  EXPECT_EQ(none.kind, SearchBody::Kind::kIdOrder);
  EXPECT_EQ(ErrorOf(QueryFromJson(J(R"({"query": {"fusion": "rrf"}})"))),
            "Bad request: query: `fusion` queries are not supported");
  EXPECT_EQ(ErrorOf(QueryFromJson(J(R"({"prefetch": [{"query": [1]}]})"))),
            "Bad request: prefetch is not supported");
  std::vector<SearchBody> batch = *QueryBatchFromJson(J(R"({"searches": [{"query": [1]}, {"query": 2}]})"));
  EXPECT_EQ(batch.size(), 2u);
}

TEST(ReadJsonTest, AnswerShapes) {
  shard::PointRecord record;
  record.id = shard::NumId(3);
  EXPECT_EQ(RecordToJson(record, {}), J(R"({"id":3,"payload":null,"vector":null})"));
  shard::ScoredPoint hit;
  hit.id = *PointIdFromJson(Json("550e8400-e29b-41d4-a716-446655440000"));
  hit.score = 0.25f;
  hit.version = 9;
  EXPECT_EQ(ScoredPointToJson(hit, {}),
            J(R"({"id":"550e8400-e29b-41d4-a716-446655440000","version":9,"score":0.25})"));
  shard::ScrollPage page;
  page.next_page_offset = shard::NumId(4);
  EXPECT_EQ(ScrollPageToJson(page, {}), J(R"({"points":[],"next_page_offset":4})"));
  EXPECT_EQ(UpdateResultToJson({7, api::UpdateResult::Status::kAcknowledged}),
            J(R"({"operation_id":7,"status":"acknowledged"})"));
}

// ---- Collections and cluster -------------------------------------------------------------------

TEST(CollectionJsonTest, CreateSingleVectorWithEchoedFields) {
  absl::StatusOr<api::CreateCollection> c = CreateCollectionFromJson("docs", J(R"({
      "vectors": {"size": 4, "distance": "Cosine", "on_disk": true},
      "shard_number": 3, "replication_factor": 2, "hnsw_config": {"m": 32}, "on_disk_payload": false,
      "optimizers_config": {"indexing_threshold": 0}, "unknown_field": 1})"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name, "docs");
  EXPECT_FALSE(c->params.named_vectors());
  EXPECT_EQ(c->params.vectors(0).size(), 4u);
  EXPECT_EQ(c->params.vectors(0).distance(), consensuspb::COSINE);
  EXPECT_EQ(c->params.shard_number(), 3u);
  EXPECT_EQ(c->params.write_consistency_factor(), 1u);

  api::CollectionInfo info;
  info.params = c->params;
  info.points_count = 5;
  info.segments_count = 2;
  const Json out = CollectionInfoToJson(info);
  EXPECT_EQ(out["status"], "green");
  EXPECT_EQ(out["optimizer_status"], "ok");
  EXPECT_EQ(out["points_count"], 5);
  EXPECT_EQ(out["config"]["params"]["vectors"], J(R"({"size":4,"distance":"Cosine","on_disk":true})"));
  EXPECT_EQ(out["config"]["params"]["on_disk_payload"], false);
  EXPECT_EQ(out["config"]["hnsw_config"]["m"], 32);
  EXPECT_EQ(out["config"]["hnsw_config"]["ef_construct"], 100);
  EXPECT_EQ(out["config"]["optimizer_config"]["indexing_threshold"], 0);
  EXPECT_TRUE(out["config"]["quantization_config"].is_null());
  EXPECT_TRUE(out["payload_schema"].is_object());
  EXPECT_FALSE(Dump(out).find("unknown_field") != std::string::npos);
}

TEST(CollectionJsonTest, CreateNamedAndSparse) {
  api::CreateCollection c = *CreateCollectionFromJson("docs", J(R"({
      "vectors": {"text": {"size": 2, "distance": "Dot"}, "img": {"size": 3, "distance": "Manhattan"}},
      "sparse_vectors": {"bm": {}}})"));
  EXPECT_TRUE(c.params.named_vectors());
  ASSERT_EQ(c.params.vectors_size(), 2);
  EXPECT_EQ(c.params.vectors(0).name(), "img");  // sorted, as the metadata keeps them
  EXPECT_EQ(c.params.sparse_vectors(0).name(), "bm");
  EXPECT_EQ(c.params.shard_number(), 0u);  // one per peer
  EXPECT_EQ(CollectionParamsToJson(c.params)["vectors"],
            J(R"({"img":{"size":3,"distance":"Manhattan"},"text":{"size":2,"distance":"Dot"}})"));
  EXPECT_EQ(CollectionParamsToJson(c.params)["sparse_vectors"], J(R"({"bm":{}})"));
}

TEST(CollectionJsonTest, CreateErrors) {
  EXPECT_EQ(
      ErrorOf(CreateCollectionFromJson("d", J(R"({"vectors": {"size": 4, "distance": "cosine"}})"))),
      "Format error in JSON body: vectors.distance: unknown variant `cosine`, expected one of `Cosine`, "
      "`Euclid`, `Dot`, `Manhattan`");
  absl::StatusOr<api::CreateCollection> zero =
      CreateCollectionFromJson("d", J(R"({"vectors": {"size": 0, "distance": "Dot"}})"));
  EXPECT_EQ(ErrorOf(zero),
            "Validation error in JSON body: [vectors.size: value 0 invalid, must be 1 or larger]");
  EXPECT_EQ(RestHttpStatus(zero.status()), 422);
  EXPECT_EQ(RestHttpStatus(CreateCollectionFromJson("d", J(R"({"replication_factor": 0})")).status()), 422);
}

TEST(CollectionJsonTest, UpdateAndAliases) {
  api::UpdateCollection u =
      *UpdateCollectionFromJson("d", J(R"({"params": {"replication_factor": 3}, "optimizers_config": {}})"));
  EXPECT_EQ(*u.replication_factor, 3u);
  EXPECT_FALSE(u.write_consistency_factor.has_value());
  std::vector<AliasChange> changes = *AliasActionsFromJson(J(R"({"actions": [
      {"create_alias": {"collection_name": "c", "alias_name": "a"}},
      {"rename_alias": {"old_alias_name": "a", "new_alias_name": "b"}},
      {"delete_alias": {"alias_name": "b"}}]})"));
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[1].kind, AliasChange::Kind::kRename);
  EXPECT_EQ(changes[1].new_alias, "b");
  consensuspb::Alias a;
  a.set_alias("a");
  a.set_collection("c");
  EXPECT_EQ(AliasesToJson({a}, ""), J(R"({"aliases":[{"alias_name":"a","collection_name":"c"}]})"));
  EXPECT_EQ(AliasesToJson({a}, "other"), J(R"({"aliases":[]})"));
}

TEST(ClusterJsonTest, ClusterStatusShape) {
  api::ClusterStatus s;
  s.peer_id = 7;
  s.peers = {{7, "http://a:6335/"}, {12, "http://b:6335/"}};
  s.term = 3;
  s.commit = 40;
  s.role = "Follower";
  ClusterExtras extras;
  extras.last_update = Rfc3339(1700000000123456);
  extras.message_send_failures["http://b:6335/"] = {2, "connection refused", Rfc3339(1700000000000000)};
  const Json out = ClusterStatusToJson(s, extras);
  EXPECT_EQ(out["peers"], J(R"({"7":{"uri":"http://a:6335/"},"12":{"uri":"http://b:6335/"}})"));
  EXPECT_EQ(
      out["raft_info"],
      J(R"({"term":3,"commit":40,"pending_operations":0,"leader":null,"role":"Follower","is_voter":false})"));
  EXPECT_EQ(out["consensus_thread_status"],
            J(R"({"consensus_thread_status":"working","last_update":"2023-11-14T22:13:20.123456Z"})"));
  EXPECT_EQ(out["message_send_failures"]["http://b:6335/"]["count"], 2);
  EXPECT_EQ(ClusterDisabledJson(), J(R"({"status":"disabled"})"));
}

TEST(ClusterJsonTest, CollectionClusterOperations) {
  api::CollectionClusterUpdate move = *CollectionClusterUpdateFromJson(
      "d", J(R"({"move_shard": {"shard_id": 1, "from_peer_id": 2, "to_peer_id": 3}})"));
  ASSERT_TRUE(std::holds_alternative<api::MoveShard>(move.operation));
  EXPECT_EQ(std::get<api::MoveShard>(move.operation).method, "stream_records");
  api::CollectionClusterUpdate replicate = *CollectionClusterUpdateFromJson(
      "d",
      J(R"({"replicate_shard": {"shard_id": 0, "from_peer_id": 2, "to_peer_id": 3, "method": "snapshot"}})"));
  EXPECT_EQ(std::get<api::ReplicateShard>(replicate.operation).method, "snapshot");
  api::CollectionClusterUpdate drop =
      *CollectionClusterUpdateFromJson("d", J(R"({"drop_replica": {"shard_id": 0, "peer_id": 2}})"));
  EXPECT_EQ(std::get<api::DropReplica>(drop.operation).peer_id, 2u);
  EXPECT_TRUE(std::holds_alternative<api::AbortTransfer>(
      CollectionClusterUpdateFromJson(
          "d", J(R"({"abort_transfer": {"shard_id": 0, "from_peer_id": 1, "to_peer_id": 2}})"))
          ->operation));
  EXPECT_EQ(ErrorOf(CollectionClusterUpdateFromJson("d", J(R"({"drop_replica": {"shard_id": 0, "peer_id": 2},
      "move_shard": {"shard_id": 1, "from_peer_id": 2, "to_peer_id": 3}})"))),
            "Format error in JSON body: only one operation is allowed, got `move_shard` and `drop_replica`");
  EXPECT_EQ(ErrorOf(CollectionClusterUpdateFromJson("d", Json::object())),
            "Format error in JSON body: data did not match any variant of untagged enum ClusterOperations");
  EXPECT_EQ(ErrorOf(CollectionClusterUpdateFromJson("d", J(R"({"drop_replica": {"shard_id": 0}})"))),
            "Format error in JSON body: drop_replica: missing field `peer_id`");
}

// ---- Every parser over random bodies --------------------------------------------------------

// Builds a JSON value from `bytes`, with object keys drawn from the names the parsers look for, so
// random bodies reach deep into the parsers instead of failing at the first field.
class RandomBody {
 public:
  explicit RandomBody(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}

  Json Value(int depth) {
    static const char* kKeys[] = {"points",
                                  "batch",
                                  "ids",
                                  "id",
                                  "vector",
                                  "vectors",
                                  "payload",
                                  "payloads",
                                  "filter",
                                  "must",
                                  "should",
                                  "must_not",
                                  "min_should",
                                  "conditions",
                                  "min_count",
                                  "key",
                                  "match",
                                  "value",
                                  "any",
                                  "except",
                                  "range",
                                  "gt",
                                  "lte",
                                  "has_id",
                                  "is_empty",
                                  "is_null",
                                  "limit",
                                  "top",
                                  "offset",
                                  "with_payload",
                                  "with_vector",
                                  "query",
                                  "nearest",
                                  "using",
                                  "indices",
                                  "values",
                                  "name",
                                  "size",
                                  "distance",
                                  "searches",
                                  "operations",
                                  "upsert",
                                  "delete",
                                  "actions",
                                  "create_alias",
                                  "alias_name",
                                  "collection_name",
                                  "move_shard",
                                  "shard_id",
                                  "from_peer_id",
                                  "to_peer_id",
                                  "peer_id",
                                  "params",
                                  "replication_factor",
                                  "include",
                                  ""};
    static const char* kStrings[] = {"Dot", "Cosine", "a", "550e8400-e29b-41d4-a716-446655440000",
                                     "",    "none"};
    const uint8_t kind = Next() % (depth >= 6 ? 6 : 8);
    switch (kind) {
      case 0:
        return nullptr;
      case 1:
        return Next() % 2 == 0;
      case 2:
        return static_cast<uint64_t>(Next());
      case 3:
        return -static_cast<int64_t>(Next()) - 1;
      case 4:
        return static_cast<double>(Next()) / 7.0;
      case 5:
        return kStrings[Next() % std::size(kStrings)];
      case 6: {
        Json list = Json::array();
        for (int n = Next() % 4; n > 0; --n) list.push_back(Value(depth + 1));
        return list;
      }
      default: {
        Json object = Json::object();
        for (int n = Next() % 4; n > 0; --n) object[kKeys[Next() % std::size(kKeys)]] = Value(depth + 1);
        return object;
      }
    }
  }

 private:
  uint8_t Next() { return pos_ < bytes_.size() ? bytes_[pos_++] : 0; }
  std::vector<uint8_t> bytes_;
  size_t pos_ = 0;
};

RC_GTEST_PROP(EveryParserTest, NeverThrowsAndFiltersAndVectorsRoundTrip, ()) {
  RandomBody random(*rc::gen::container<std::vector<uint8_t>>(rc::gen::arbitrary<uint8_t>()));
  const Json body = random.Value(0);
  // Any exception escaping a parser fails the property.
  (void)UpsertFromJson(body);
  (void)DeletePointsFromJson(body);
  (void)SetPayloadFromJson(body);
  (void)OverwritePayloadFromJson(body);
  (void)DeletePayloadFromJson(body);
  (void)ClearPayloadFromJson(body);
  (void)UpdateVectorsFromJson(body);
  (void)BatchUpdateFromJson(body);
  (void)RetrieveFromJson(body);
  (void)ScrollFromJson(body);
  (void)CountFromJson(body);
  (void)SearchFromJson(body);
  (void)QueryFromJson(body);
  (void)SearchBatchFromJson(body);
  (void)QueryBatchFromJson(body);
  (void)UpdateCollectionFromJson("c", body);
  (void)AliasActionsFromJson(body);
  (void)CollectionClusterUpdateFromJson("c", body);
  if (auto create = CreateCollectionFromJson("c", body); create.ok()) {
    api::CollectionInfo info;
    info.params = create->params;
    RC_ASSERT(CollectionInfoToJson(info)["config"]["params"].is_object());
  }
  if (body.is_object() && body.contains("filter")) {
    if (auto f = FilterFromJson(body["filter"], "filter"); f.ok()) {
      auto again = FilterFromJson(FilterToJson(*f), "filter");
      RC_ASSERT(again.ok());
      RC_ASSERT(Same(*f, *again));
    }
  }
  if (body.is_object() && body.contains("vector")) {
    if (auto v = VectorStructFromJson(body["vector"], "vector"); v.ok()) {
      auto again = VectorStructFromJson(J(Dump(VectorsToJson(*v))), "vector");
      RC_ASSERT(again.ok());
      RC_ASSERT(Same(*v, *again));
    }
  }
}

// ---- Query parameters --------------------------------------------------------------------------

TEST(QueryParamsTest, WriteAndReadParams) {
  WriteParams defaults = *ParseWriteParams({});
  EXPECT_FALSE(defaults.wait);
  EXPECT_EQ(defaults.ordering, replication::WriteOrdering::kWeak);
  WriteParams w = *ParseWriteParams({{"wait", "true"}, {"ordering", "strong"}, {"timeout", "5"}});
  EXPECT_TRUE(w.wait);
  EXPECT_EQ(w.ordering, replication::WriteOrdering::kStrong);
  EXPECT_EQ(*w.timeout, world::Seconds(5));
  EXPECT_EQ(RestHttpStatus(ParseWriteParams({{"wait", "yes"}}).status()), 400);
  EXPECT_EQ(RestHttpStatus(ParseWriteParams({{"ordering", "sideways"}}).status()), 400);
  api::ReadOptions r = *ParseReadParams({{"consistency", "majority"}});
  EXPECT_EQ(r.consistency.kind, replication::ReadConsistency::Kind::kMajority);
  EXPECT_EQ(ParseReadParams({{"consistency", "2"}})->consistency.count, 2u);
  EXPECT_FALSE(ParseReadParams({{"timeout", "-1"}}).ok());
}

}  // namespace
}  // namespace qdsim::rest
