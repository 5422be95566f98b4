#include "node/world/crc32c.h"

#include <string>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace qdsim::world {
namespace {

TEST(Crc32cTest, MatchesStandardCheckValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
}

RC_GTEST_PROP(Crc32cTest, ExtendEqualsWhole, (std::string a, std::string b)) {
  RC_ASSERT(Crc32cExtend(Crc32c(a), b) == Crc32c(a + b));
}

RC_GTEST_PROP(Crc32cTest, DetectsEverySingleBitFlip, (std::string data)) {
  RC_PRE(!data.empty());
  const auto bit = *rc::gen::inRange<size_t>(0, data.size() * 8);
  std::string flipped = data;
  flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
  RC_ASSERT(Crc32c(flipped) != Crc32c(data));
}

}  // namespace
}  // namespace qdsim::world
