// PointTable: the semantics of each operation, validation, and the reads.
#include "node/shard/point_table.h"

#include <gtest/gtest.h>

#include "tests/node/shard/test_util.h"

namespace qdsim::shard {
namespace {

using testing::Dense;
using testing::Json;
using testing::MakePoint;
using testing::ParseFilter;
using testing::Sparse;
using testing::UpsertOp;

shardpb::ShardOperation Op(uint64_t seq, std::string_view text) {
  shardpb::ShardOperation op;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(std::string(text), &op)) << text;
  op.set_seq(seq);
  return op;
}

class PointTableTest : public ::testing::Test {
 protected:
  PointTableTest() : table_(testing::DenseConfig(2, Distance::kDot)) {
    Must(UpsertOp(1, {MakePoint(1, {1, 0}, R"({"a": {"b": 1}, "tag": "x"})"),
                      MakePoint(2, {0, 1}, R"({"tag": "y", "arr": [{"k": 1, "j": 2}, {"k": 3}]})"),
                      MakePoint(3, {1, 1}, R"({"tag": "x"})")}));
  }
  void Must(const shardpb::ShardOperation& op) {
    ASSERT_TRUE(table_.Validate(op).ok()) << table_.Validate(op);
    table_.Apply(op);
  }
  std::string Payload(uint64_t id) { return testing::CanonicalJson(table_.points().at(PointKey::Num(id)).payload); }
  uint64_t Version(uint64_t id) { return table_.points().at(PointKey::Num(id)).version; }

  PointTable table_;
};

TEST_F(PointTableTest, UpsertReplacesTheWholePoint) {
  Must(UpsertOp(2, {MakePoint(1, {5, 5}, R"({"new": true})")}));
  EXPECT_EQ(Payload(1), R"({"new":true})");
  EXPECT_EQ(table_.points().at(PointKey::Num(1)).vectors.at("").dense().values(0), 5);
  EXPECT_EQ(Version(1), 2u);
  EXPECT_EQ(Version(2), 1u);
}

TEST_F(PointTableTest, DeletesByIdAndByFilter) {
  Must(testing::DeleteOp(2, {2, 99}));
  EXPECT_EQ(table_.points().size(), 2u);
  Must(Op(3, R"(delete_by_filter { filter { must { field { key: "tag" match { value { keyword: "x" } } } } } })"));
  EXPECT_TRUE(table_.points().empty());
}

TEST_F(PointTableTest, SetPayloadMergesAtTopOrNestedKey) {
  Must(Op(2, R"(set_payload { selector { ids { ids { num: 1 } } } payload { fields { key: "tag" value { string_value: "z" } } } })"));
  EXPECT_EQ(Payload(1), R"({"a":{"b":1.000000},"tag":"z"})");
  Must(Op(3, R"(set_payload { selector { ids { ids { num: 1 } } } key: "a.c" payload { fields { key: "d" value { bool_value: true } } } })"));
  EXPECT_EQ(Payload(1), R"({"a":{"b":1.000000,"c":{"d":true}},"tag":"z"})");
  Must(Op(4, R"(set_payload { selector { ids { ids { num: 1 } } } key: "tag" payload { fields { key: "e" value { number_value: 1 } } } })"));
  EXPECT_EQ(Payload(1), R"({"a":{"b":1.000000,"c":{"d":true}},"tag":{"e":1.000000}})");
  EXPECT_EQ(Version(1), 4u);
}

TEST_F(PointTableTest, SetPayloadByFilterTouchesOnlyMatches) {
  Must(Op(2, R"(set_payload { selector { filter { must { field { key: "tag" match { value { keyword: "x" } } } } } } payload { fields { key: "hit" value { bool_value: true } } } })"));
  EXPECT_EQ(Payload(3), R"({"hit":true,"tag":"x"})");
  EXPECT_EQ(Version(3), 2u);
  EXPECT_EQ(Version(2), 1u);
}

TEST_F(PointTableTest, OverwriteDeleteKeysAndClear) {
  Must(Op(2, R"(overwrite_payload { selector { ids { ids { num: 1 } } } payload { fields { key: "only" value { null_value: NULL_VALUE } } } })"));
  EXPECT_EQ(Payload(1), R"({"only":null})");
  Must(Op(3, R"(delete_payload_keys { selector { ids { ids { num: 2 } } } keys: "arr.k" keys: "tag" })"));
  EXPECT_EQ(Payload(2), R"({"arr":[{"j":2.000000},{}]})");
  Must(Op(4, R"(clear_payload { selector { ids { ids { num: 2 } ids { num: 3 } } } })"));
  EXPECT_EQ(Payload(2), "{}");
  EXPECT_EQ(Payload(3), "{}");
}

TEST_F(PointTableTest, PayloadOpsOnMissingIdsAreNotFoundAndChangeNothing) {
  const auto op = Op(2, R"(clear_payload { selector { ids { ids { num: 1 } ids { num: 42 } } } })");
  const absl::Status s = table_.Validate(op);
  EXPECT_TRUE(absl::IsNotFound(s));
  EXPECT_EQ(s.message(), "No point with id 42 found");
}

TEST(PointTableVectorsTest, UpdateVectorsKeepsOtherVectorsAndPayload) {
  ShardConfig c;
  c.dense["a"] = {2, Distance::kDot};
  c.dense["b"] = {1, Distance::kEuclid};
  PointTable t(c);
  shardpb::Point p = MakePoint(1, {}, R"({"k": 1})");
  (*p.mutable_vectors()->mutable_vectors())["a"] = Dense({1, 2});
  (*p.mutable_vectors()->mutable_vectors())["b"] = Dense({3});
  auto up = UpsertOp(1, {p});
  ASSERT_TRUE(t.Validate(up).ok());
  t.Apply(up);
  shardpb::ShardOperation uv;
  uv.set_seq(2);
  shardpb::Point* q = uv.mutable_update_vectors()->add_points();
  *q->mutable_id() = NumId(1);
  (*q->mutable_vectors()->mutable_vectors())["b"] = Dense({9});
  ASSERT_TRUE(t.Validate(uv).ok());
  t.Apply(uv);
  const StoredPoint& s = t.points().at(PointKey::Num(1));
  EXPECT_EQ(s.vectors.at("a").dense().values(1), 2);
  EXPECT_EQ(s.vectors.at("b").dense().values(0), 9);
  EXPECT_EQ(s.payload.fields().at("k").number_value(), 1);
  EXPECT_EQ(s.version, 2u);
  *q->mutable_id() = NumId(2);
  EXPECT_TRUE(absl::IsNotFound(t.Validate(uv)));
}

TEST_F(PointTableTest, OneBadPointRejectsTheWholeUpsert) {
  const auto op = UpsertOp(2, {MakePoint(10, {1, 1}), MakePoint(11, {1, 1, 1})});
  const absl::Status s = table_.Validate(op);
  EXPECT_EQ(s.message(), "Wrong input: Vector dimension error: expected dim: 2, got 3");
  shardpb::ShardOperation empty;
  EXPECT_TRUE(absl::IsInvalidArgument(table_.Validate(empty)));
}

TEST_F(PointTableTest, RetrieveKeepsRequestOrderSkipsMissingAndDuplicates) {
  auto r = table_.Retrieve({NumId(3), NumId(99), NumId(1), NumId(3)}, true, WithVector{.all = true});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].id.num(), 3u);
  EXPECT_EQ((*r)[1].id.num(), 1u);
  ASSERT_TRUE((*r)[0].payload);
  ASSERT_TRUE((*r)[0].vectors);
  auto bare = table_.Retrieve({NumId(1)}, false, {});
  EXPECT_FALSE((*bare)[0].payload);
  EXPECT_FALSE((*bare)[0].vectors);
}

TEST_F(PointTableTest, ScrollPagesWithFilterAndNextOffset) {
  ScrollRequest req;
  req.limit = 1;
  req.filter = ParseFilter(R"(must { field { key: "tag" match { value { keyword: "x" } } } })");
  auto page = table_.Scroll(req);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->points.size(), 1u);
  EXPECT_EQ(page->points[0].id.num(), 1u);
  ASSERT_TRUE(page->next_page_offset);
  EXPECT_EQ(page->next_page_offset->num(), 3u);
  req.offset = page->next_page_offset;
  page = table_.Scroll(req);
  EXPECT_EQ(page->points[0].id.num(), 3u);
  EXPECT_FALSE(page->next_page_offset);
  req.limit = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(table_.Scroll(req).status()));
}

TEST_F(PointTableTest, CountWithAndWithoutFilter) {
  EXPECT_EQ(*table_.Count(nullptr), 3u);
  const auto f = ParseFilter(R"(must { field { key: "arr.k" range { gte: 3 } } })");
  EXPECT_EQ(*table_.Count(&f), 1u);
  const auto bad = ParseFilter(R"(must { })");
  EXPECT_TRUE(absl::IsInvalidArgument(table_.Count(&bad).status()));
}

TEST_F(PointTableTest, SearchRanksTiesByIdAndHonoursOffsetAndFilter) {
  // Query (1, 1) with Dot: point 3 scores 2, points 1 and 2 tie at 1.
  SearchRequest req{.vector_name = "", .query = Dense({1, 1}), .limit = 3};
  auto hits = table_.Search(req);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 3u);
  EXPECT_EQ((*hits)[0].id.num(), 3u);
  EXPECT_EQ((*hits)[1].id.num(), 1u);
  EXPECT_EQ((*hits)[2].id.num(), 2u);
  EXPECT_EQ((*hits)[0].score, 2);
  EXPECT_EQ((*hits)[0].version, 1u);
  req.offset = 1;
  req.limit = 1;
  EXPECT_EQ((*table_.Search(req))[0].id.num(), 1u);
  req.offset = 0;
  req.limit = 10;
  req.filter = ParseFilter(R"(must { field { key: "tag" match { value { keyword: "y" } } } })");
  hits = table_.Search(req);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].id.num(), 2u);
  req.filter.reset();
  req.score_threshold = 1.5f;
  EXPECT_EQ(table_.Search(req)->size(), 1u);
  req.offset = 100;
  EXPECT_TRUE(table_.Search(req)->empty());
}

TEST_F(PointTableTest, SearchRejectsBadQueries) {
  SearchRequest req{.vector_name = "", .query = Dense({1, 1, 1}), .limit = 3};
  EXPECT_EQ(table_.Search(req).status().message(),
            "Wrong input: Vector dimension error: expected dim: 2, got 3");
  req.vector_name = "other";
  EXPECT_EQ(table_.Search(req).status().message(), "Wrong input: Not existing vector name error: other");
  req.vector_name = "";
  req.query = Dense({1, 1});
  req.limit = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(table_.Search(req).status()));
}

TEST(PointTableSearchTest, DistancesRankLowerFirstAndThresholdIsAnUpperBound) {
  PointTable t(testing::DenseConfig(1, Distance::kEuclid));
  auto up = UpsertOp(1, {MakePoint(1, {0}), MakePoint(2, {3}), MakePoint(3, {-1})});
  t.Apply(up);
  SearchRequest req{.vector_name = "", .query = Dense({0}), .limit = 3, .score_threshold = 2.0f};
  auto hits = t.Search(req);
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[0].id.num(), 1u);
  EXPECT_EQ((*hits)[1].id.num(), 3u);
  EXPECT_EQ((*hits)[1].score, 1);
}

TEST(PointTableSearchTest, CosineScoresAreDotsOfNormalisedVectors) {
  PointTable t(testing::DenseConfig(2, Distance::kCosine));
  t.Apply(UpsertOp(1, {MakePoint(1, {10, 0}), MakePoint(2, {1, 1})}));
  auto hits = t.Search({.vector_name = "", .query = Dense({3, 0}), .limit = 2});
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_FLOAT_EQ((*hits)[0].score, 1.0f);
  EXPECT_NEAR((*hits)[1].score, std::sqrt(0.5), 1e-6);
}

TEST(PointTableSearchTest, SparseSearchAndVectorSelection) {
  ShardConfig c;
  c.dense["d"] = {1, Distance::kDot};
  c.sparse.insert("s");
  PointTable t(c);
  shardpb::Point a = MakePoint(1, {});
  (*a.mutable_vectors()->mutable_vectors())["s"] = Sparse({3, 1}, {2, 1});
  (*a.mutable_vectors()->mutable_vectors())["d"] = Dense({1});
  shardpb::Point b = MakePoint(2, {});
  (*b.mutable_vectors()->mutable_vectors())["s"] = Sparse({7}, {5});
  shardpb::Point none = MakePoint(3, {});  // no vectors at all
  t.Apply(UpsertOp(1, {a, b, none}));
  SearchRequest req{.vector_name = "s", .query = Sparse({1, 3, 9}, {1, 1, 1}), .limit = 5,
                    .with_vector = WithVector{.names = {"d"}}};
  auto hits = t.Search(req);
  ASSERT_TRUE(hits.ok()) << hits.status();
  ASSERT_EQ(hits->size(), 1u);  // point 2 shares no index; point 3 has no sparse vector
  EXPECT_EQ((*hits)[0].score, 3);
  ASSERT_TRUE((*hits)[0].vectors);
  EXPECT_EQ((*hits)[0].vectors->vectors().size(), 1u);
  EXPECT_TRUE((*hits)[0].vectors->vectors().contains("d"));
  EXPECT_FALSE((*hits)[0].payload);
  req.query = Dense({1});
  EXPECT_TRUE(absl::IsInvalidArgument(t.Search(req).status()));
}

TEST(PointTableScrollTest, UuidsFollowNumbers) {
  PointTable t(testing::DenseConfig(1, Distance::kDot));
  shardpb::Point u = MakePoint(0, {1});
  *u.mutable_id() = UuidId(*ParseUuid("00000000-0000-0000-0000-000000000000"));
  t.Apply(UpsertOp(1, {u, MakePoint(UINT64_MAX, {1}), MakePoint(5, {1})}));
  auto page = t.Scroll({.limit = 10});
  ASSERT_EQ(page->points.size(), 3u);
  EXPECT_EQ(page->points[0].id.num(), 5u);
  EXPECT_EQ(page->points[1].id.num(), UINT64_MAX);
  EXPECT_TRUE(page->points[2].id.has_uuid());
}

}  // namespace
}  // namespace qdsim::shard
