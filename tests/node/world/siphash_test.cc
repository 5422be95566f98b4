#include "node/world/siphash.h"

#include <string>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace qdsim::world {
namespace {

// Reference vectors of SipHash-2-4 (vectors.h of the reference implementation): key 00..0f,
// message 00..(n-1).
TEST(SipHashTest, MatchesReferenceVectors) {
  const uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
  std::string msg;
  SipHasher24 empty(k0, k1);
  EXPECT_EQ(empty.Finish(), 0x726fdb47dd0e0e31ULL);
  for (int i = 0; i < 15; ++i) msg.push_back(static_cast<char>(i));
  SipHasher24 fifteen(k0, k1);
  fifteen.Write(msg);
  EXPECT_EQ(fifteen.Finish(), 0xa129ca6149be45e5ULL);  // the paper's worked example
  SipHasher24 one(k0, k1);
  one.Write(std::string(1, '\0'));
  EXPECT_EQ(one.Finish(), 0x74f839c593dc67fdULL);
}

RC_GTEST_PROP(SipHashTest, StreamingEqualsOneShot, (std::string a, std::string b)) {
  SipHasher24 whole, parts;
  whole.Write(a + b);
  parts.Write(a);
  parts.Write(b);
  RC_ASSERT(whole.Finish() == parts.Finish());
}

}  // namespace
}  // namespace qdsim::world
