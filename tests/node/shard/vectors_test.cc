#include "node/shard/vectors.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/node/shard/test_util.h"

namespace qdsim::shard {
namespace {

using testing::Dense;
using testing::Sparse;

ShardConfig TwoVectors() {
  ShardConfig c;
  c.dense["image"] = {3, Distance::kEuclid};
  c.sparse.insert("text");
  return c;
}

TEST(VectorsTest, DimensionErrorUsesQdrantsMessage) {
  const absl::Status s = ValidateVector(TwoVectors(), "image", Dense({1, 2}));
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(s.message(), "Wrong input: Vector dimension error: expected dim: 3, got 2");
}

TEST(VectorsTest, UnknownNameUsesQdrantsMessage) {
  const absl::Status s = ValidateVector(TwoVectors(), "audio", Dense({1, 2, 3}));
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(s.message(), "Wrong input: Not existing vector name error: audio");
  EXPECT_EQ(ValidateVector(TwoVectors(), "", Dense({1, 2, 3})).message(),
            "Wrong input: Not existing vector name error: ");
}

TEST(VectorsTest, KindsAndValuesAreChecked) {
  const ShardConfig c = TwoVectors();
  EXPECT_TRUE(ValidateVector(c, "image", Dense({1, 2, 3})).ok());
  EXPECT_TRUE(ValidateVector(c, "text", Sparse({5, 1}, {1, 2})).ok());
  EXPECT_FALSE(ValidateVector(c, "image", Sparse({1}, {1})).ok());
  EXPECT_FALSE(ValidateVector(c, "text", Dense({1, 2, 3})).ok());
  EXPECT_FALSE(ValidateVector(c, "text", Sparse({1, 2}, {1})).ok());
  EXPECT_FALSE(ValidateVector(c, "text", Sparse({1, 1}, {1, 2})).ok());
  EXPECT_FALSE(ValidateVector(c, "image", Dense({1, NAN, 3})).ok());
  EXPECT_FALSE(ValidateVector(c, "image", Dense({1, INFINITY, 3})).ok());
}

TEST(VectorsTest, ConfigValidation) {
  ShardConfig c;
  c.dense["a"] = {0, Distance::kDot};
  EXPECT_FALSE(ValidateConfig(c).ok());
  c.dense["a"] = {2, Distance::kDot};
  c.sparse.insert("a");
  EXPECT_FALSE(ValidateConfig(c).ok());
}

TEST(VectorsTest, ScoresOfEachDistance) {
  const float a[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const float b[] = {9, 8, 7, 6, 5, 4, 3, 2, 1};
  EXPECT_FLOAT_EQ(DenseScore(Distance::kDot, a, b, 9), 165);
  EXPECT_FLOAT_EQ(DenseScore(Distance::kManhattan, a, b, 9), 40);
  EXPECT_FLOAT_EQ(DenseScore(Distance::kEuclid, a, b, 9), std::sqrt(240.0f));
  EXPECT_FLOAT_EQ(DenseScore(Distance::kEuclid, a, a, 9), 0);
}

TEST(VectorsTest, CosineNormalisesOnceAndZeroStaysZero) {
  const ShardConfig c = testing::DenseConfig(2, Distance::kCosine);
  shardpb::Vector v = Dense({3, 4});
  Canonicalize(c, "", v);
  EXPECT_FLOAT_EQ(v.dense().values(0), 0.6f);
  EXPECT_FLOAT_EQ(v.dense().values(1), 0.8f);
  shardpb::Vector again = v;
  Canonicalize(c, "", again);
  EXPECT_EQ(again.SerializeAsString(), v.SerializeAsString());
  shardpb::Vector zero = Dense({0, 0});
  Canonicalize(c, "", zero);
  EXPECT_EQ(zero.dense().values(0), 0);
}

TEST(VectorsTest, SparseIsSortedAndScoredOverSharedIndices) {
  shardpb::Vector a = Sparse({9, 1, 4}, {2, 3, 5});
  Canonicalize(TwoVectors(), "text", a);
  EXPECT_EQ(a.sparse().indices(0), 1u);
  EXPECT_EQ(a.sparse().values(0), 3);
  shardpb::Vector b = Sparse({4, 9, 20}, {10, 1, 7});
  Canonicalize(TwoVectors(), "text", b);
  EXPECT_FLOAT_EQ(SparseScore(a.sparse(), b.sparse()), 52);
  EXPECT_TRUE(SparseOverlap(a.sparse(), b.sparse()));
  EXPECT_FALSE(SparseOverlap(a.sparse(), Sparse({2, 3}, {1, 1}).sparse()));
}

}  // namespace
}  // namespace qdsim::shard
