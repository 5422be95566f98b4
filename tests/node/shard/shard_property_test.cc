// Properties of the shard store that must hold for every input: exact search equals a brute-force
// oracle, scroll pages partition the matching points in id order, WAL recovery after any damage
// yields exactly a prefix of the acknowledged ops, snapshots round-trip, re-applied seqs change
// nothing, and rejected ops leave no trace.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>

#include "node/shard/filter.h"
#include "node/shard/shard_store.h"
#include "node/shard/wal.h"
#include "tests/node/shard/test_util.h"

namespace qdsim::shard {
namespace {

using testing::ApplyNow;
using testing::Dump;
using testing::MemDisk;

constexpr char kDir[] = "s";
constexpr char kWal[] = "s/wal";

// Small integer components make exact ties common and Dot/Euclid/Manhattan scores exact in float.
std::vector<float> GenVector(uint32_t dim) {
  std::vector<float> v;
  for (uint32_t i = 0; i < dim; ++i) v.push_back(static_cast<float>(*rc::gen::inRange(-3, 4)));
  return v;
}

shardpb::PointId GenId() {
  if (*rc::gen::inRange(0, 5) == 0) {
    Uuid u{};
    u[15] = static_cast<uint8_t>(*rc::gen::inRange(0, 4));
    u[0] = static_cast<uint8_t>(*rc::gen::inRange(0, 2) * 0x80);
    return UuidId(u);
  }
  return NumId(*rc::gen::inRange<uint64_t>(0, 40));
}

shardpb::Point GenPoint(uint32_t dim) {
  shardpb::Point p;
  *p.mutable_id() = GenId();
  (*p.mutable_vectors()->mutable_vectors())[""] = testing::Dense(GenVector(dim));
  (*p.mutable_payload()->mutable_fields())["g"].set_number_value(*rc::gen::inRange(0, 3));
  return p;
}

std::optional<shardpb::Filter> GenFilter() {
  if (*rc::gen::inRange(0, 2) == 0) return std::nullopt;
  shardpb::Filter f;
  auto* field = f.add_must()->mutable_field();
  field->set_key("g");
  field->mutable_match()->mutable_value()->set_integer(*rc::gen::inRange(0, 3));
  return f;
}

double OracleScore(Distance d, const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double x = a[i], y = b[i];
    s += d == Distance::kDot ? x * y : d == Distance::kManhattan ? std::fabs(x - y) : (x - y) * (x - y);
  }
  return d == Distance::kEuclid ? std::sqrt(s) : s;
}

// Runs a random search on `table` and compares it with a brute-force ranking of its points.
void CheckSearch(const PointTable& table, Distance distance, uint32_t dim) {
  SearchRequest req;
  req.query = testing::Dense(GenVector(dim));
  req.limit = *rc::gen::inRange<size_t>(1, 12);
  req.offset = *rc::gen::inRange<size_t>(0, 6);
  req.filter = GenFilter();
  if (*rc::gen::inRange(0, 3) == 0) req.score_threshold = static_cast<float>(*rc::gen::inRange(-10, 10));
  auto hits = table.Search(req);
  RC_ASSERT(hits.ok());

  // Oracle: score every matching point, sort by closeness then id, cut.
  shardpb::Vector q = req.query;
  Canonicalize(table.config(), "", q);
  const bool higher = HigherIsBetter(distance);
  std::vector<std::pair<PointKey, float>> all;
  for (const auto& [key, p] : table.points()) {
    if (req.filter && !FilterMatches(*req.filter, key, p.payload)) continue;
    const auto& v = p.vectors.at("").dense().values();
    float score;
    if (distance == Distance::kCosine) {
      score = DenseScore(distance, v.data(), q.dense().values().data(), dim);
    } else {
      score = static_cast<float>(OracleScore(distance, {v.begin(), v.end()},
                                             {q.dense().values().begin(), q.dense().values().end()}));
    }
    if (req.score_threshold && (higher ? score < *req.score_threshold : score > *req.score_threshold)) continue;
    all.emplace_back(key, score);
  }
  std::stable_sort(all.begin(), all.end(), [&](const auto& a, const auto& b) {
    if (a.second != b.second) return higher ? a.second > b.second : a.second < b.second;
    return a.first < b.first;
  });
  std::vector<std::pair<PointKey, float>> expected;
  for (size_t i = req.offset; i < all.size() && expected.size() < req.limit; ++i) expected.push_back(all[i]);
  RC_ASSERT(hits->size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    RC_ASSERT(*PointKey::From((*hits)[i].id) == expected[i].first);
    RC_ASSERT((*hits)[i].score == expected[i].second);
  }
}

void CheckSearchAgainstOracle(Distance distance) {
  const uint32_t dim = *rc::gen::inRange<uint32_t>(1, 10);
  PointTable table(testing::DenseConfig(dim, distance));
  std::vector<shardpb::Point> points = *rc::gen::container<std::vector<shardpb::Point>>(
      *rc::gen::inRange(0, 40), rc::gen::exec([dim] { return GenPoint(dim); }));
  shardpb::ShardOperation op;
  op.set_seq(1);
  op.mutable_upsert();
  for (auto& p : points) *op.mutable_upsert()->add_points() = p;
  RC_ASSERT(table.Validate(op).ToString() == "OK");
  table.Apply(op);
  CheckSearch(table, distance, dim);
}

RC_GTEST_PROP(ShardSearchProperty, DotEqualsOracle, ()) { CheckSearchAgainstOracle(Distance::kDot); }
RC_GTEST_PROP(ShardSearchProperty, CosineEqualsOracle, ()) { CheckSearchAgainstOracle(Distance::kCosine); }
RC_GTEST_PROP(ShardSearchProperty, EuclidEqualsOracle, ()) { CheckSearchAgainstOracle(Distance::kEuclid); }
RC_GTEST_PROP(ShardSearchProperty, ManhattanEqualsOracle, ()) { CheckSearchAgainstOracle(Distance::kManhattan); }

shardpb::Vector GenSparse() {
  std::vector<uint32_t> idx;
  std::vector<float> val;
  for (uint32_t i = 0; i < 8; ++i) {
    if (*rc::gen::inRange(0, 3) == 0) {
      idx.push_back(i);
      val.push_back(static_cast<float>(*rc::gen::inRange(-3, 4)));
    }
  }
  std::reverse(idx.begin(), idx.end());  // unsorted input is accepted and sorted on insert
  std::reverse(val.begin(), val.end());
  return testing::Sparse(idx, val);
}

RC_GTEST_PROP(ShardSearchProperty, SparseEqualsOracle, ()) {
  ShardConfig config;
  config.sparse.insert("s");
  PointTable table(config);
  shardpb::ShardOperation op;
  op.set_seq(1);
  const int n = *rc::gen::inRange(0, 30);
  for (int i = 0; i < n; ++i) {
    shardpb::Point* p = op.mutable_upsert()->add_points();
    *p->mutable_id() = NumId(static_cast<uint64_t>(i));
    (*p->mutable_vectors()->mutable_vectors())["s"] = GenSparse();
  }
  table.Apply(op);
  const shardpb::Vector query = GenSparse();
  const size_t limit = *rc::gen::inRange<size_t>(1, 10);
  auto hits = table.Search({.vector_name = "s", .query = query, .limit = limit});
  RC_ASSERT(hits.ok());
  std::vector<std::pair<double, uint64_t>> all;  // (-score, id): ascending = best first
  for (const auto& [key, p] : table.points()) {
    const auto& v = p.vectors.at("s").sparse();
    bool overlap = false;
    double dot = 0;
    for (int i = 0; i < v.indices_size(); ++i) {
      for (int j = 0; j < query.sparse().indices_size(); ++j) {
        if (v.indices(i) == query.sparse().indices(j)) {
          overlap = true;
          dot += static_cast<double>(v.values(i)) * query.sparse().values(j);
        }
      }
    }
    if (overlap) all.emplace_back(-dot, key.num);
  }
  std::sort(all.begin(), all.end());
  RC_ASSERT(hits->size() == std::min(limit, all.size()));
  for (size_t i = 0; i < hits->size(); ++i) {
    RC_ASSERT((*hits)[i].id.num() == all[i].second);
    RC_ASSERT((*hits)[i].score == static_cast<float>(-all[i].first));
  }
}

RC_GTEST_PROP(ShardScrollProperty, PagesCoverEveryMatchingPointOnceInIdOrder, ()) {
  PointTable table(testing::DenseConfig(1, Distance::kDot));
  shardpb::ShardOperation op;
  op.set_seq(1);
  const int n = *rc::gen::inRange(0, 50);
  for (int i = 0; i < n; ++i) *op.mutable_upsert()->add_points() = GenPoint(1);
  table.Apply(op);
  ScrollRequest req;
  req.limit = *rc::gen::inRange<size_t>(1, 8);
  req.filter = GenFilter();
  std::vector<PointKey> seen;
  for (int pages = 0;; ++pages) {
    RC_ASSERT(pages <= n + 1);
    auto page = table.Scroll(req);
    RC_ASSERT(page.ok());
    RC_ASSERT(page->points.size() <= req.limit);
    for (const auto& r : page->points) seen.push_back(*PointKey::From(r.id));
    if (!page->next_page_offset) break;
    RC_ASSERT(page->points.size() == req.limit);
    req.offset = page->next_page_offset;
  }
  std::vector<PointKey> expected;
  for (const auto& [key, p] : table.points()) {
    if (!req.filter || FilterMatches(*req.filter, key, p.payload)) expected.push_back(key);
  }
  RC_ASSERT(seen == expected);
}

// A random valid operation (valid whatever the state: no id selectors that could miss).
shardpb::ShardOperation GenOp(uint64_t seq) {
  shardpb::ShardOperation op;
  op.set_seq(seq);
  switch (*rc::gen::inRange(0, 5)) {
    case 0:
    case 1:
      for (int i = *rc::gen::inRange(1, 4); i > 0; --i) *op.mutable_upsert()->add_points() = GenPoint(2);
      break;
    case 2:
      for (int i = *rc::gen::inRange(1, 4); i > 0; --i) *op.mutable_delete_points()->add_ids() = GenId();
      break;
    case 3: {
      auto* set = op.mutable_set_payload();
      set->mutable_selector()->mutable_filter();
      if (auto f = GenFilter()) *set->mutable_selector()->mutable_filter() = *f;
      (*set->mutable_payload()->mutable_fields())["h"].set_string_value(std::to_string(seq));
      break;
    }
    default:
      if (auto f = GenFilter()) *op.mutable_delete_by_filter()->mutable_filter() = *f;
      else *op.mutable_clear_payload()->mutable_selector()->mutable_filter() = shardpb::Filter();
      break;
  }
  return op;
}

ShardConfig Config2() { return testing::DenseConfig(2, Distance::kDot); }

RC_GTEST_PROP(ShardWalProperty, DamagedWalRecoversExactlyAPrefix, ()) {
  MemDisk disk;
  auto store = *ShardStore::Open(disk, kDir, Config2());
  std::vector<std::string> states = {Dump(store->table())};  // state after op i (seq i)
  std::vector<size_t> ends = {0};                            // WAL size after op i
  const int n = *rc::gen::inRange(1, 12);
  for (int i = 1; i <= n; ++i) {
    RC_ASSERT(ApplyNow(*store, disk, GenOp(static_cast<uint64_t>(i))).ok());
    states.push_back(Dump(store->table()));
    ends.push_back(disk.files()[kWal].size());
  }
  std::string& wal = disk.files()[kWal];
  const size_t at = *rc::gen::inRange<size_t>(0, wal.size());
  if (*rc::gen::inRange(0, 2) == 0) {
    wal.resize(at);
  } else {
    wal[at] = static_cast<char>(wal[at] ^ (1 << *rc::gen::inRange(0, 8)));
  }
  auto recovered = ShardStore::Open(disk, kDir, Config2());
  RC_ASSERT(recovered.ok());
  // Every op whose record lies wholly before the damage survives; nothing after it does.
  const size_t kept = static_cast<size_t>(std::upper_bound(ends.begin(), ends.end(), at) - ends.begin()) - 1;
  RC_ASSERT((*recovered)->last_seq() == kept);
  RC_ASSERT(Dump((*recovered)->table()) == states[kept]);
  RC_ASSERT(disk.files()[kWal].size() == ends[kept]);
  // Recovery is idempotent.
  auto again = ShardStore::Open(disk, kDir, Config2());
  RC_ASSERT(again.ok());
  RC_ASSERT((*again)->recovery().dropped_tail_bytes == 0u);
  RC_ASSERT(Dump((*again)->table()) == states[kept]);
}

RC_GTEST_PROP(ShardWalProperty, SnapshotPlusWalRoundTrips, ()) {
  MemDisk disk;
  auto store = *ShardStore::Open(disk, kDir, Config2());
  const int n = *rc::gen::inRange(1, 15);
  for (int i = 1; i <= n; ++i) {
    RC_ASSERT(ApplyNow(*store, disk, GenOp(static_cast<uint64_t>(i))).ok());
    if (*rc::gen::inRange(0, 4) == 0) RC_ASSERT(testing::SnapshotNow(*store, disk).ok());
  }
  auto recovered = ShardStore::Open(disk, kDir, Config2());
  RC_ASSERT(recovered.ok());
  RC_ASSERT((*recovered)->last_seq() == static_cast<uint64_t>(n));
  RC_ASSERT(Dump((*recovered)->table()) == Dump(store->table()));
}

RC_GTEST_PROP(ShardWalProperty, ReappliedSeqsChangeNothing, ()) {
  MemDisk disk;
  auto store = *ShardStore::Open(disk, kDir, Config2());
  std::vector<shardpb::ShardOperation> ops;
  const int n = *rc::gen::inRange(1, 10);
  for (int i = 1; i <= n; ++i) {
    ops.push_back(GenOp(static_cast<uint64_t>(i)));
    RC_ASSERT(ApplyNow(*store, disk, ops.back()).ok());
  }
  const std::string state = Dump(store->table());
  const std::string wal = disk.files()[kWal];
  for (int i = *rc::gen::inRange(1, 6); i > 0; --i) {
    const auto& op = ops[*rc::gen::inRange<size_t>(0, ops.size())];
    RC_ASSERT(ApplyNow(*store, disk, op).ok());
    RC_ASSERT(ApplyNow(*store, disk, GenOp(op.seq())).ok());  // a different op at an old seq too
  }
  RC_ASSERT(Dump(store->table()) == state);
  RC_ASSERT(disk.files()[kWal] == wal);
}

RC_GTEST_PROP(ShardWalProperty, RejectedOpsLeaveNoTrace, ()) {
  MemDisk disk;
  auto store = *ShardStore::Open(disk, kDir, Config2());
  for (int i = 1; i <= 3; ++i) RC_ASSERT(ApplyNow(*store, disk, GenOp(static_cast<uint64_t>(i))).ok());
  const std::string state = Dump(store->table());
  const std::string wal = disk.files()[kWal];
  shardpb::ShardOperation bad;
  bad.set_seq(4);
  const int n = *rc::gen::inRange(1, 6);
  const int broken = *rc::gen::inRange(0, n);
  for (int i = 0; i < n; ++i) {
    shardpb::Point p = GenPoint(2);
    auto& vectors = *p.mutable_vectors()->mutable_vectors();
    if (i == broken && *rc::gen::inRange(0, 2) == 0) {
      vectors[""] = testing::Dense(GenVector(*rc::gen::element<uint32_t>(1u, 3u)));  // wrong size
    } else if (i == broken) {
      vectors["nope"] = testing::Dense({1, 2});  // unknown name
    }
    *bad.mutable_upsert()->add_points() = p;
  }
  const absl::Status s = ApplyNow(*store, disk, bad);
  RC_ASSERT(absl::IsInvalidArgument(s));
  RC_ASSERT(Dump(store->table()) == state);
  RC_ASSERT(disk.files()[kWal] == wal);
  RC_ASSERT(store->last_seq() == 3u);
}

// The search index follows every kind of change: upserts over existing ids, vector updates,
// deletes by id and by filter.
RC_GTEST_PROP(ShardSearchProperty, SearchStaysExactThroughMixedOps, ()) {
  PointTable table(Config2());
  const int n = *rc::gen::inRange(1, 25);
  for (int i = 1; i <= n; ++i) {
    shardpb::ShardOperation op = GenOp(static_cast<uint64_t>(i));
    if (*rc::gen::inRange(0, 4) == 0 && !table.points().empty()) {
      op.Clear();
      op.set_seq(static_cast<uint64_t>(i));
      auto it = table.points().begin();
      std::advance(it, *rc::gen::inRange<size_t>(0, table.points().size()));
      shardpb::Point* p = op.mutable_update_vectors()->add_points();
      *p->mutable_id() = it->first.ToProto();
      (*p->mutable_vectors()->mutable_vectors())[""] = testing::Dense(GenVector(2));
    }
    RC_ASSERT(table.Validate(op).ok());
    table.Apply(op);
  }
  CheckSearch(table, Distance::kDot, 2);
}

}  // namespace
}  // namespace qdsim::shard
