// Filter semantics, table-driven: each row is a payload, a filter (text-format Protobuf) and whether
// the point (id 7) passes.
#include "node/shard/filter.h"

#include <gtest/gtest.h>

#include "tests/node/shard/test_util.h"

namespace qdsim::shard {
namespace {

using testing::Json;
using testing::ParseFilter;

struct Row {
  const char* name;
  const char* payload;
  const char* filter;
  bool passes;
};

class FilterTableTest : public ::testing::TestWithParam<Row> {};

TEST_P(FilterTableTest, Evaluates) {
  const Row& row = GetParam();
  const shardpb::Filter filter = ParseFilter(row.filter);
  ASSERT_TRUE(ValidateFilter(filter).ok()) << ValidateFilter(filter);
  EXPECT_EQ(FilterMatches(filter, PointKey::Num(7), Json(row.payload)), row.passes)
      << row.payload << "\n" << row.filter;
}

constexpr char kCity[] =
    R"({"city": {"name": "Berlin", "pop": 3.6}, "tags": ["a", "b"], "n": 5, "f": 2.5,)"
    R"( "ok": true, "nul": null, "empty": [], "items": [{"k": 1}, {"k": 2, "z": null}],)"
    R"( "deep": {"arr": [{"x": {"y": "q"}}]}})";

const Row kRows[] = {
    {"keyword_match", kCity, R"(must { field { key: "city.name" match { value { keyword: "Berlin" } } } })", true},
    {"keyword_mismatch", kCity, R"(must { field { key: "city.name" match { value { keyword: "berlin" } } } })", false},
    {"integer_matches_whole_number", kCity, R"(must { field { key: "n" match { value { integer: 5 } } } })", true},
    {"integer_never_matches_fraction", kCity, R"(must { field { key: "f" match { value { integer: 2 } } } })", false},
    {"integer_does_not_match_string", R"({"n": "5"})", R"(must { field { key: "n" match { value { integer: 5 } } } })", false},
    {"bool_match", kCity, R"(must { field { key: "ok" match { value { boolean: true } } } })", true},
    {"bool_mismatch", kCity, R"(must { field { key: "ok" match { value { boolean: false } } } })", false},
    {"array_any_element", kCity, R"(must { field { key: "tags" match { value { keyword: "b" } } } })", true},
    {"array_of_objects_nested", kCity, R"(must { field { key: "items.k" match { value { integer: 2 } } } })", true},
    {"deep_through_array", kCity, R"(must { field { key: "deep.arr.x.y" match { value { keyword: "q" } } } })", true},
    {"missing_key_no_match", kCity, R"(must { field { key: "nope" match { value { keyword: "x" } } } })", false},
    {"match_any_hit", kCity, R"(must { field { key: "tags" match { any { keywords: ["z", "a"] } } } })", true},
    {"match_any_miss", kCity, R"(must { field { key: "tags" match { any { keywords: ["z"] } } } })", false},
    {"match_any_integers", kCity, R"(must { field { key: "n" match { any { integers: [4, 5] } } } })", true},
    {"except_hit", kCity, R"(must { field { key: "city.name" match { except { keywords: ["Paris"] } } } })", true},
    {"except_miss", kCity, R"(must { field { key: "city.name" match { except { keywords: ["Berlin"] } } } })", false},
    {"except_array_one_outside", kCity, R"(must { field { key: "tags" match { except { keywords: ["a"] } } } })", true},
    {"except_array_all_inside", kCity, R"(must { field { key: "tags" match { except { keywords: ["a", "b"] } } } })", false},
    {"except_missing_key", kCity, R"(must { field { key: "nope" match { except { keywords: ["a"] } } } })", false},
    {"range_inclusive", kCity, R"(must { field { key: "n" range { gte: 5 lte: 5 } } })", true},
    {"range_exclusive", kCity, R"(must { field { key: "n" range { gt: 5 } } })", false},
    {"range_fraction", kCity, R"(must { field { key: "city.pop" range { gt: 3 lt: 4 } } })", true},
    {"range_ignores_strings", R"({"n": "5"})", R"(must { field { key: "n" range { gte: 0 } } })", false},
    {"range_any_array_element", R"({"n": [1, 10]})", R"(must { field { key: "n" range { gt: 5 } } })", true},
    {"range_element_must_satisfy_all_bounds", R"({"n": [1, 10]})", R"(must { field { key: "n" range { gt: 2 lt: 9 } } })", false},
    {"match_and_range_both", kCity, R"(must { field { key: "n" match { value { integer: 5 } } range { lt: 5 } } })", false},
    {"is_empty_missing", kCity, R"(must { is_empty { key: "nope" } })", true},
    {"is_empty_null", kCity, R"(must { is_empty { key: "nul" } })", true},
    {"is_empty_empty_array", kCity, R"(must { is_empty { key: "empty" } })", true},
    {"is_empty_value", kCity, R"(must { is_empty { key: "n" } })", false},
    {"is_empty_nonempty_array", kCity, R"(must { is_empty { key: "tags" } })", false},
    {"is_null_null", kCity, R"(must { is_null { key: "nul" } })", true},
    {"is_null_missing", kCity, R"(must { is_null { key: "nope" } })", false},
    {"is_null_empty_array", kCity, R"(must { is_null { key: "empty" } })", false},
    {"is_null_nested_in_array", kCity, R"(must { is_null { key: "items.z" } })", true},
    {"has_id_hit", kCity, R"(must { has_id { ids { num: 3 } ids { num: 7 } } })", true},
    {"has_id_miss", kCity, R"(must { has_id { ids { num: 3 } } })", false},
    {"must_not_excludes", kCity, R"(must_not { has_id { ids { num: 7 } } })", false},
    {"must_not_keeps", kCity, R"(must_not { is_null { key: "n" } })", true},
    {"should_one_of", kCity, R"(should { has_id { ids { num: 1 } } } should { is_null { key: "nul" } })", true},
    {"should_none", kCity, R"(should { has_id { ids { num: 1 } } } should { is_null { key: "n" } })", false},
    {"empty_filter_passes", kCity, "", true},
    {"must_and_should", kCity, R"(must { is_null { key: "nul" } } should { has_id { ids { num: 1 } } })", false},
    {"min_should_met", kCity,
     R"(min_should { conditions { is_null { key: "nul" } } conditions { has_id { ids { num: 7 } } } conditions { is_null { key: "n" } } min_count: 2 })", true},
    {"min_should_unmet", kCity,
     R"(min_should { conditions { is_null { key: "nul" } } conditions { is_null { key: "n" } } min_count: 2 })", false},
    {"nested_filter", kCity,
     R"(must { filter { should { is_null { key: "n" } } should { field { key: "tags" match { value { keyword: "a" } } } } } })", true},
    {"nested_must_not", kCity,
     R"(must_not { filter { must { is_null { key: "nul" } } must { has_id { ids { num: 7 } } } } })", false},
};

INSTANTIATE_TEST_SUITE_P(Rows, FilterTableTest, ::testing::ValuesIn(kRows),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(FilterTest, UuidHasId) {
  const Uuid u = *ParseUuid("550e8400-e29b-41d4-a716-446655440000");
  shardpb::Filter f;
  *f.add_must()->mutable_has_id()->add_ids() = UuidId(u);
  EXPECT_TRUE(FilterMatches(f, PointKey::FromUuid(u), {}));
  EXPECT_FALSE(FilterMatches(f, PointKey::Num(0), {}));
}

TEST(FilterTest, MalformedFiltersAreRejected) {
  for (const char* text : {R"(must { })", R"(must { field { key: "a" } })",
                           R"(must { field { match { value { keyword: "x" } } } })",
                           R"(must { field { key: "a" match { } } })", R"(should { is_empty { } })",
                           R"(must { has_id { ids { uuid: "short" } } })",
                           R"(must { filter { must_not { is_null { } } } })"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ValidateFilter(ParseFilter(text)))) << text;
  }
}

TEST(FilterTest, DeepNestingIsRejected) {
  shardpb::Filter f;
  shardpb::Filter* at = &f;
  for (int i = 0; i < 40; ++i) at = at->add_must()->mutable_filter();
  EXPECT_TRUE(absl::IsInvalidArgument(ValidateFilter(f)));
}

}  // namespace
}  // namespace qdsim::shard
