#include "node/shard/point_id.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace qdsim::shard {
namespace {

TEST(PointIdTest, UuidParsesCaseInsensitivelyAndFormatsLowercase) {
  auto u = ParseUuid("550E8400-E29B-41d4-A716-446655440000");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ((*u)[0], 0x55);
  EXPECT_EQ((*u)[15], 0x00);
  EXPECT_EQ(FormatUuid(*u), "550e8400-e29b-41d4-a716-446655440000");
}

TEST(PointIdTest, MalformedUuidsAreRejected) {
  for (const char* text : {"", "550e8400e29b41d4a716446655440000", "550e8400-e29b-41d4-a716-44665544000",
                           "550e8400-e29b-41d4-a716-4466554400000", "550e8400_e29b-41d4-a716-446655440000",
                           "g50e8400-e29b-41d4-a716-446655440000"}) {
    EXPECT_FALSE(ParseUuid(text).ok()) << text;
  }
}

TEST(PointIdTest, ParsePointIdTakesNumbersOrUuids) {
  EXPECT_EQ(ParsePointId("42")->num(), 42u);
  EXPECT_EQ(ParsePointId("18446744073709551615")->num(), UINT64_MAX);
  EXPECT_TRUE(ParsePointId("550e8400-e29b-41d4-a716-446655440000")->has_uuid());
  EXPECT_FALSE(ParsePointId("18446744073709551616").ok());
  EXPECT_FALSE(ParsePointId("-1").ok());
  EXPECT_FALSE(ParsePointId("").ok());
}

TEST(PointIdTest, NumbersSortBeforeUuidsAndUuidsByBytes) {
  const PointKey big = PointKey::Num(UINT64_MAX);
  const PointKey small = PointKey::Num(3);
  const PointKey u0 = PointKey::FromUuid(*ParseUuid("00000000-0000-0000-0000-000000000001"));
  const PointKey u1 = PointKey::FromUuid(*ParseUuid("ff000000-0000-0000-0000-000000000000"));
  EXPECT_LT(small, big);
  EXPECT_LT(big, u0);
  EXPECT_LT(u0, u1);
}

TEST(PointIdTest, InvalidProtoIdsAreRejected) {
  EXPECT_TRUE(absl::IsInvalidArgument(PointKey::From(shardpb::PointId()).status()));
  shardpb::PointId id;
  id.set_uuid("abc");
  EXPECT_TRUE(absl::IsInvalidArgument(PointKey::From(id).status()));
  EXPECT_EQ(FormatPointId(id), "<invalid id>");
}

RC_GTEST_PROP(PointIdTest, UuidRoundTrips, (std::array<uint8_t, 16> bytes)) {
  const std::string text = FormatUuid(bytes);
  RC_ASSERT(*ParseUuid(text) == bytes);
  RC_ASSERT(PointKey::From(*ParsePointId(text))->uuid == bytes);
}

}  // namespace
}  // namespace qdsim::shard
