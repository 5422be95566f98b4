#include "node/world/records.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace qdsim::world {
namespace {

TEST(RecordsTest, RoundTripsAndStopsAtATornTail) {
  std::string file;
  AppendRecord(file, 1, "hello");
  AppendRecord(file, 2, "");
  const size_t two_records = file.size();
  AppendRecord(file, 3, "world");
  file.resize(file.size() - 2);  // torn
  RecordReader reader(file);
  auto a = reader.Next();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->type, 1);
  EXPECT_EQ(a->payload, "hello");
  auto b = reader.Next();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->payload, "");
  EXPECT_FALSE(reader.Next());
  EXPECT_TRUE(reader.stopped_early());
  EXPECT_EQ(reader.valid_bytes(), two_records);
}

// Property: any truncation or single-bit corruption of a file of records leaves the reader returning
// an exact prefix of the records written (never garbage), stopping at the damage.
RC_GTEST_PROP(RecordsTest, DamageYieldsAPrefixOfWhatWasWritten,
              (std::vector<std::string> payloads, bool flip)) {
  std::string file;
  std::vector<size_t> ends;
  for (size_t i = 0; i < payloads.size(); ++i) {
    AppendRecord(file, static_cast<uint8_t>(i), payloads[i]);
    ends.push_back(file.size());
  }
  RC_PRE(!file.empty());
  const size_t at = *rc::gen::inRange<size_t>(0, file.size());
  std::string damaged = file;
  if (flip) {
    damaged[at] = static_cast<char>(damaged[at] ^ (1 << *rc::gen::inRange(0, 8)));
  } else {
    damaged.resize(at);
  }
  RecordReader reader(damaged);
  size_t i = 0;
  while (auto r = reader.Next()) {
    RC_ASSERT(i < payloads.size());
    RC_ASSERT(r->payload == payloads[i]);
    RC_ASSERT(r->type == static_cast<uint8_t>(i));
    ++i;
  }
  // Every record wholly before the damage is returned.
  size_t intact = 0;
  while (intact < ends.size() && ends[intact] <= at) ++intact;
  RC_ASSERT(i >= intact);
  RC_ASSERT(reader.valid_bytes() == (i == 0 ? 0 : ends[i - 1]));
}

}  // namespace
}  // namespace qdsim::world
