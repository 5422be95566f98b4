// PointReader in the simulator: reads route to the shards that own the ids, pages and top-k merge
// across shards exactly (against a brute-force oracle), a failed replica is replaced by another,
// read consistency keeps only what enough replicas agree on, and errors come back with Qdrant's
// messages.
#include "node/replication/point_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "node/collection/hash_ring.h"
#include "node/collection/routing.h"
#include "node/replication/replica_service.h"
#include "node/shard/point_id.h"
#include "node/shard/vectors.h"
#include "tests/node/consensus/consensus_cluster.h"

namespace qdsim::replication {
namespace {

using consensus::testing::ConsensusCluster;
using sim::PeerId;

constexpr world::Duration kTimeout = world::Millis(500);

struct Parts {
  explicit Parts(ConsensusCluster::Node& node)
      : shards(node.env, node.consensus),
        service(node.env.transport().Self(), *node.rpc, shards),
        reader(node.env.transport().Self(), *node.rpc, node.consensus, shards) {}
  collection::LocalShards shards;
  ReplicaService service;
  PointReader reader;
};

Parts& P(ConsensusCluster& c, PeerId id) { return *static_cast<Parts*>(c.node(id)->extra.get()); }

// A 3-peer cluster with collection "docs" of 2-dimensional vectors.
std::unique_ptr<ConsensusCluster> Cluster(uint32_t shards, uint32_t rf,
                                          consensuspb::Distance distance = consensuspb::DOT) {
  auto c = std::make_unique<ConsensusCluster>(
      3, /*seed=*/11, [](ConsensusCluster::Node& node) { node.extra = std::make_shared<Parts>(node); });
  EXPECT_TRUE(c->RegisterPeers());
  consensuspb::Operation create = consensus::testing::CreateCollectionOp("docs", shards, rf);
  create.mutable_create_collection()->mutable_params()->mutable_vectors(0)->set_distance(distance);
  EXPECT_TRUE(c->ProposeAndWait(1, create)->ok());
  c->RunFor(world::Seconds(2));
  return c;
}

const consensuspb::ShardInfo& ShardInfo(ConsensusCluster& c, uint32_t shard) {
  return c.node(1)->consensus.metadata().FindCollection("docs")->shards(static_cast<int>(shard));
}

std::vector<PeerId> ReplicaPeers(ConsensusCluster& c, uint32_t shard) {
  std::vector<PeerId> peers;
  for (const auto& r : ShardInfo(c, shard).replicas()) peers.push_back(r.peer_id());
  return peers;
}

// A point with vector `v` and payload {"n": id, "tag": tag}.
shardpb::Point MakePoint(uint64_t id, float x, float y, const std::string& tag = "a") {
  shardpb::Point p;
  p.mutable_id()->set_num(id);
  auto* v = (*p.mutable_vectors()->mutable_vectors())[""].mutable_dense();
  v->add_values(x);
  v->add_values(y);
  (*p.mutable_payload()->mutable_fields())["n"].set_number_value(static_cast<double>(id));
  (*p.mutable_payload()->mutable_fields())["tag"].set_string_value(tag);
  return p;
}

// Applies `op` to `peer`'s replica of `shard` and runs until it is durable.
void ApplyTo(ConsensusCluster& c, PeerId peer, uint32_t shard, const shardpb::ShardOperation& op) {
  std::optional<absl::StatusOr<uint64_t>> out;
  c.sim().PostToNode(peer, c.sim().now(), [&, peer, shard, op] {
    P(c, peer).service.ApplyLocal("docs", shard, op, [&](absl::StatusOr<uint64_t> r) { out = r; });
  });
  for (int i = 0; i < 300 && !out; ++i) c.RunFor(world::Millis(10));
  ASSERT_TRUE(out.has_value() && out->ok()) << (out ? out->status().ToString() : "no answer");
}

// Writes `points` to every replica of the shard that owns each.
void WriteEverywhere(ConsensusCluster& c, const std::vector<shardpb::Point>& points) {
  shardpb::ShardOperation op;
  for (const auto& p : points) *op.mutable_upsert()->add_points() = p;
  const auto* docs = c.node(1)->consensus.metadata().FindCollection("docs");
  const uint32_t shard_count = static_cast<uint32_t>(docs->shards_size());
  const collection::HashRing ring = collection::HashRing::Fair(shard_count);
  for (const auto& [shard, part] : collection::SplitByShard(op, ring, shard_count)) {
    for (PeerId peer : ReplicaPeers(c, shard)) ApplyTo(c, peer, shard, part);
  }
}

// Runs a read started on peer `via` until it calls back.
template <typename T, typename Start>
absl::StatusOr<T> ReadAndWait(ConsensusCluster& c, PeerId via, Start start) {
  auto out = std::make_shared<std::optional<absl::StatusOr<T>>>();
  c.sim().PostToNode(via, c.sim().now(), [&c, via, start, out] {
    start(P(c, via).reader, [out](absl::StatusOr<T> r) {
      EXPECT_FALSE(out->has_value()) << "called back twice";
      *out = std::move(r);
    });
  });
  for (int i = 0; i < 1000 && !out->has_value(); ++i) c.RunFor(world::Millis(10));
  return out->has_value() ? **out : absl::InternalError("no answer");
}

ReadConsistency Consistency(std::string_view text) { return *ParseReadConsistency(text); }

absl::StatusOr<std::vector<shard::PointRecord>> Retrieve(ConsensusCluster& c, PeerId via, std::vector<uint64_t> ids,
                                                         std::string_view consistency = "1",
                                                         shard::WithVector with_vector = {},
                                                         const std::string& collection = "docs") {
  std::vector<shardpb::PointId> pids;
  for (uint64_t id : ids) pids.push_back(shard::NumId(id));
  return ReadAndWait<std::vector<shard::PointRecord>>(c, via, [=](PointReader& r, auto done) {
    r.Retrieve(collection, pids, /*with_payload=*/true, with_vector, Consistency(consistency), kTimeout, done);
  });
}

absl::StatusOr<shard::ScrollPage> Scroll(ConsensusCluster& c, PeerId via, shard::ScrollRequest request,
                                         std::string_view consistency = "1") {
  return ReadAndWait<shard::ScrollPage>(c, via, [=](PointReader& r, auto done) {
    r.Scroll("docs", request, Consistency(consistency), kTimeout, done);
  });
}

absl::StatusOr<uint64_t> Count(ConsensusCluster& c, PeerId via, std::optional<shardpb::Filter> filter = {},
                               std::string_view consistency = "1") {
  return ReadAndWait<uint64_t>(c, via, [=](PointReader& r, auto done) {
    r.Count("docs", filter, Consistency(consistency), kTimeout, done);
  });
}

absl::StatusOr<std::vector<shard::ScoredPoint>> Search(ConsensusCluster& c, PeerId via, shard::SearchRequest request,
                                                       std::string_view consistency = "1") {
  return ReadAndWait<std::vector<shard::ScoredPoint>>(c, via, [=](PointReader& r, auto done) {
    r.Search("docs", request, Consistency(consistency), kTimeout, done);
  });
}

template <typename Records>
std::vector<uint64_t> Ids(const Records& records) {
  std::vector<uint64_t> ids;
  for (const auto& r : records) ids.push_back(r.id.num());
  return ids;
}

shard::SearchRequest Query(float x, float y, size_t limit, size_t offset = 0) {
  shard::SearchRequest q;
  q.query.mutable_dense()->add_values(x);
  q.query.mutable_dense()->add_values(y);
  q.limit = limit;
  q.offset = offset;
  return q;
}

// Points 1..n on a small grid, so that many share a vector (and a score).
std::vector<shardpb::Point> GridPoints(uint64_t n) {
  std::vector<shardpb::Point> points;
  for (uint64_t id = 1; id <= n; ++id) {
    points.push_back(MakePoint(id, static_cast<float>(id % 5) - 2.0f, static_cast<float>((id * 7) % 4) - 1.5f));
  }
  return points;
}

// "n < limit".
shardpb::Filter NBelow(double limit) {
  shardpb::Filter f;
  auto* field = f.add_must()->mutable_field();
  field->set_key("n");
  field->mutable_range()->set_lt(limit);
  return f;
}

TEST(PointReaderTest, RetrieveAnswersAcrossShardsInRequestOrder) {
  auto c = Cluster(3, 2);
  WriteEverywhere(*c, GridPoints(30));
  const collection::HashRing ring = collection::HashRing::Fair(3);
  std::set<uint32_t> shards;
  for (uint64_t id : {25, 3, 17, 1}) shards.insert(ring.ShardOfNumber(id));
  ASSERT_GT(shards.size(), 1u) << "the ids should span shards";
  for (PeerId via = 1; via <= 3; ++via) {
    auto records = Retrieve(*c, via, {25, 3, 999, 3, 17, 1});
    ASSERT_TRUE(records.ok()) << records.status();
    EXPECT_EQ(Ids(*records), (std::vector<uint64_t>{25, 3, 17, 1})) << "via " << via;
    EXPECT_EQ((*records)[0].payload->fields().at("n").number_value(), 25);
    EXPECT_FALSE((*records)[0].vectors.has_value()) << "vectors not requested";
  }
  auto with_vectors = Retrieve(*c, 2, {4}, "all", {.all = true});
  ASSERT_TRUE(with_vectors.ok()) << with_vectors.status();
  ASSERT_EQ(with_vectors->size(), 1u);
  EXPECT_EQ((*with_vectors)[0].vectors->vectors().at("").dense().values_size(), 2);
  auto none = Retrieve(*c, 1, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(PointReaderTest, ScrollPagesVisitEveryPointOnceInIdOrder) {
  auto c = Cluster(3, 2);
  std::vector<shardpb::Point> points;
  for (uint64_t id = 3; id <= 150; id += 3) points.push_back(MakePoint(id, 1, 1));
  WriteEverywhere(*c, points);
  std::vector<uint64_t> expected;
  for (const auto& p : points) expected.push_back(p.id().num());

  std::vector<uint64_t> seen;
  shard::ScrollRequest request;
  request.limit = 7;
  for (int page = 0; page < 100; ++page) {
    auto got = Scroll(*c, 2, request);
    ASSERT_TRUE(got.ok()) << got.status();
    for (uint64_t id : Ids(got->points)) seen.push_back(id);
    if (!got->next_page_offset) break;
    EXPECT_EQ(got->points.size(), 7u) << "only the last page is short";
    EXPECT_GT(got->next_page_offset->num(), seen.back());
    request.offset = *got->next_page_offset;
  }
  EXPECT_EQ(seen, expected);

  // With a filter, from another peer, with consistency all.
  shard::ScrollRequest filtered;
  filtered.limit = 100;
  filtered.filter = NBelow(40);
  auto page = Scroll(*c, 3, filtered, "all");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(Ids(page->points), (std::vector<uint64_t>{3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39}));
  EXPECT_FALSE(page->next_page_offset.has_value());
}

TEST(PointReaderTest, CountSumsTheShards) {
  auto c = Cluster(3, 2);
  WriteEverywhere(*c, GridPoints(40));
  for (PeerId via = 1; via <= 3; ++via) {
    auto n = Count(*c, via);
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_EQ(*n, 40u);
  }
  auto filtered = Count(*c, 1, NBelow(11), "majority");
  ASSERT_TRUE(filtered.ok()) << filtered.status();
  EXPECT_EQ(*filtered, 10u);
}

// The true top (offset, limit) over `points` by brute force: best first, equal scores by id.
std::vector<std::pair<uint64_t, float>> BruteForce(const std::vector<shardpb::Point>& points, shard::Distance d,
                                                   const shard::SearchRequest& q) {
  std::vector<std::pair<uint64_t, float>> all;
  for (const auto& p : points) {
    const auto& v = p.vectors().vectors().at("").dense().values();
    all.emplace_back(p.id().num(), shard::DenseScore(d, v.data(), q.query.dense().values().data(), 2));
  }
  const bool higher = shard::HigherIsBetter(d);
  std::sort(all.begin(), all.end(), [higher](const auto& a, const auto& b) {
    if (a.second != b.second) return higher ? a.second > b.second : a.second < b.second;
    return a.first < b.first;
  });
  std::vector<std::pair<uint64_t, float>> out;
  for (size_t i = q.offset; i < all.size() && out.size() < q.limit; ++i) out.push_back(all[i]);
  return out;
}

void ExpectSearchMatchesBruteForce(consensuspb::Distance distance, shard::Distance d) {
  auto c = Cluster(3, 2, distance);
  const std::vector<shardpb::Point> points = GridPoints(60);
  WriteEverywhere(*c, points);
  for (const shard::SearchRequest& q : {Query(1, 0.5f, 5), Query(-0.5f, 2, 7, 3), Query(0.25f, -1, 100),
                                        Query(3, 3, 10, 55)}) {
    for (PeerId via : {1, 3}) {
      auto hits = Search(*c, via, q, via == 1 ? "1" : "all");
      ASSERT_TRUE(hits.ok()) << hits.status();
      std::vector<std::pair<uint64_t, float>> got;
      for (const auto& h : *hits) got.emplace_back(h.id.num(), h.score);
      EXPECT_EQ(got, BruteForce(points, d, q)) << "limit " << q.limit << " offset " << q.offset << " via " << via;
    }
  }
}

TEST(PointReaderTest, SearchEqualsBruteForceForDot) {
  ExpectSearchMatchesBruteForce(consensuspb::DOT, shard::Distance::kDot);
}

TEST(PointReaderTest, SearchEqualsBruteForceForEuclid) {
  ExpectSearchMatchesBruteForce(consensuspb::EUCLID, shard::Distance::kEuclid);
}

TEST(PointReaderTest, ACrashedReplicaIsReplacedUnlessAllAreRequired) {
  auto c = Cluster(1, 2);
  WriteEverywhere(*c, GridPoints(10));
  const std::vector<PeerId> holders = ReplicaPeers(*c, 0);
  ASSERT_EQ(holders.size(), 2u);
  PeerId via = 1;
  while (std::count(holders.begin(), holders.end(), via)) ++via;
  // The coordinator holds no replica: it asks the lowest-id replica first, which is down.
  c->sim().Crash(holders[0]);
  auto one = Retrieve(*c, via, {1, 2, 3});
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(Ids(*one), (std::vector<uint64_t>{1, 2, 3}));
  auto count = Count(*c, via);
  ASSERT_TRUE(count.ok()) << count.status();
  EXPECT_EQ(*count, 10u);

  auto all = Retrieve(*c, via, {1, 2, 3}, "all");
  EXPECT_TRUE(absl::IsUnavailable(all.status())) << all.status();
  EXPECT_NE(all.status().message().find(
                "Service unavailable: shard 0 of collection `docs`: 1 of 2 required replicas answered; last error: "),
            std::string::npos)
      << all.status();
  // The surviving replica's own peer reads itself, and still needs the other for "all".
  EXPECT_TRUE(Retrieve(*c, holders[1], {1}).ok());
  EXPECT_TRUE(absl::IsUnavailable(Count(*c, holders[1], {}, "all").status()));
}

TEST(PointReaderTest, ConsistencyKeepsOnlyWhatEnoughReplicasHold) {
  // One shard on all three peers; point 6 reached peer 1 only, point 7 peers 1 and 2.
  auto c = Cluster(1, 3);
  ASSERT_EQ(ReplicaPeers(*c, 0), (std::vector<PeerId>{1, 2, 3}));
  WriteEverywhere(*c, GridPoints(5));
  shardpb::ShardOperation six, seven;
  *six.mutable_upsert()->add_points() = MakePoint(6, 1, 1);
  *seven.mutable_upsert()->add_points() = MakePoint(7, 1, 1);
  ApplyTo(*c, 1, 0, six);
  ApplyTo(*c, 1, 0, seven);
  ApplyTo(*c, 2, 0, seven);
  const std::vector<uint64_t> ids = {1, 2, 3, 4, 5, 6, 7};

  EXPECT_EQ(Ids(*Retrieve(*c, 1, ids, "1")), ids) << "peer 1 reads its own replica";
  EXPECT_EQ(Ids(*Retrieve(*c, 3, ids, "1")), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(Ids(*Retrieve(*c, 1, ids, "all")), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  // Majority from peer 1 asks peers 1 and 2: both hold 7, only one holds 6.
  EXPECT_EQ(Ids(*Retrieve(*c, 1, ids, "majority")), (std::vector<uint64_t>{1, 2, 3, 4, 5, 7}));
  // Three answers, majority of them: 7 is on two of three.
  EXPECT_EQ(Ids(*Retrieve(*c, 2, ids, "3")), (std::vector<uint64_t>{1, 2, 3, 4, 5, 7}));

  shard::ScrollRequest scroll;
  scroll.limit = 100;
  EXPECT_EQ(Ids(Scroll(*c, 2, scroll, "all")->points), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  // Pages of one shard: the shard's own next page offset carries the scroll on.
  for (const auto& [consistency, expected] :
       std::vector<std::pair<std::string, std::vector<uint64_t>>>{{"1", ids}, {"all", {1, 2, 3, 4, 5}}}) {
    std::vector<uint64_t> seen;
    shard::ScrollRequest page_request;
    page_request.limit = 2;
    for (int page = 0; page < 10; ++page) {
      auto got = Scroll(*c, 1, page_request, consistency);
      ASSERT_TRUE(got.ok()) << got.status();
      for (uint64_t id : Ids(got->points)) seen.push_back(id);
      if (!got->next_page_offset) break;
      page_request.offset = *got->next_page_offset;
    }
    EXPECT_EQ(seen, expected) << consistency;
  }
  EXPECT_EQ(Ids(Search(*c, 3, Query(1, 1, 100), "all").value()).size(), 5u);
  // Counts 7, 6 and 5: the lower median.
  EXPECT_EQ(*Count(*c, 3, {}, "all"), 6u);
  EXPECT_EQ(*Count(*c, 1, {}, "majority"), 6u) << "answers 7 and 6";
  EXPECT_EQ(*Count(*c, 3, {}, "1"), 5u);
}

TEST(PointReaderTest, ReplicasThatDisagreeOnContentDropThePoint) {
  auto c = Cluster(1, 2);
  WriteEverywhere(*c, GridPoints(3));
  const std::vector<PeerId> holders = ReplicaPeers(*c, 0);
  shardpb::ShardOperation changed;
  *changed.mutable_upsert()->add_points() = MakePoint(2, 0, 0.5f, "b");  // same vector, other payload
  ApplyTo(*c, holders[1], 0, changed);
  EXPECT_EQ(Ids(*Retrieve(*c, holders[0], {1, 2, 3}, "all")), (std::vector<uint64_t>{1, 3}));
  auto own = Retrieve(*c, holders[1], {2}, "1");
  ASSERT_EQ(own->size(), 1u);
  EXPECT_EQ((*own)[0].payload->fields().at("tag").string_value(), "b");
  // Same content but a newer version on one replica (a rewrite): the point is kept.
  shardpb::ShardOperation rewrite;
  *rewrite.mutable_upsert()->add_points() = MakePoint(3, 0, 0);
  ApplyTo(*c, holders[0], 0, rewrite);
  ApplyTo(*c, holders[1], 0, rewrite);
  ApplyTo(*c, holders[1], 0, rewrite);  // a second, later copy: a higher version there
  auto kept = Retrieve(*c, holders[0], {3}, "all");
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].version, P(*c, holders[1]).shards.Find("docs", 0)->last_seq()) << "the newest copy";
}

TEST(PointReaderTest, ADeadReplicaIsNotRead) {
  auto c = Cluster(1, 2);
  WriteEverywhere(*c, GridPoints(3));
  const std::vector<PeerId> holders = ReplicaPeers(*c, 0);
  shardpb::ShardOperation stray;
  *stray.mutable_upsert()->add_points() = MakePoint(9, 1, 1);
  ApplyTo(*c, holders[0], 0, stray);
  consensuspb::Operation dead;
  dead.mutable_set_replica_state()->set_collection("docs");
  dead.mutable_set_replica_state()->set_shard_id(0);
  dead.mutable_set_replica_state()->set_peer_id(holders[0]);
  dead.mutable_set_replica_state()->set_state(consensuspb::DEAD);
  ASSERT_TRUE(c->ProposeAndWait(1, dead)->ok());
  c->RunFor(world::Seconds(1));
  // Even its own peer reads the Active replica, and "all" needs only the readable one.
  for (PeerId via = 1; via <= 3; ++via) {
    auto got = Retrieve(*c, via, {1, 9}, "all");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(Ids(*got), (std::vector<uint64_t>{1})) << "via " << via;
  }
}

TEST(PointReaderTest, UnknownCollectionAndAliases) {
  auto c = Cluster(3, 1);
  WriteEverywhere(*c, GridPoints(5));
  auto missing = Retrieve(*c, 1, {1}, "1", {}, "nope");
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_EQ(missing.status().message(), "Not found: Collection `nope` doesn't exist!");
  auto count = ReadAndWait<uint64_t>(*c, 2, [](PointReader& r, auto done) {
    r.Count("nope", {}, ReadConsistency{}, kTimeout, done);
  });
  EXPECT_EQ(count.status().message(), "Not found: Collection `nope` doesn't exist!");

  consensuspb::Operation alias;
  alias.mutable_create_alias()->set_alias("papers");
  alias.mutable_create_alias()->set_collection("docs");
  ASSERT_TRUE(c->ProposeAndWait(1, alias)->ok());
  c->RunFor(world::Seconds(1));
  auto via_alias = Retrieve(*c, 3, {1, 2, 3, 4, 5}, "1", {}, "papers");
  ASSERT_TRUE(via_alias.ok()) << via_alias.status();
  EXPECT_EQ(via_alias->size(), 5u);
}

TEST(PointReaderTest, ValidationErrorsComeBackUnchanged) {
  auto c = Cluster(1, 1);
  WriteEverywhere(*c, GridPoints(5));
  const PeerId holder = ReplicaPeers(*c, 0)[0];
  for (PeerId via : {holder, holder % 3 + 1}) {  // the local store, then a remote one
    shard::SearchRequest q;
    for (float x : {1.0f, 2.0f, 3.0f}) q.query.mutable_dense()->add_values(x);
    auto hits = Search(*c, via, q);
    EXPECT_TRUE(absl::IsInvalidArgument(hits.status())) << hits.status();
    EXPECT_EQ(hits.status().message(), "Wrong input: Vector dimension error: expected dim: 2, got 3");
  }
  auto zero = Search(*c, 1, Query(1, 1, 0));
  EXPECT_EQ(zero.status().message(), "Wrong input: limit must be at least 1");
}

TEST(PointReaderTest, AShardWithoutReadableReplicaIsUnavailable) {
  auto c = Cluster(1, 1);
  const PeerId holder = ReplicaPeers(*c, 0)[0];
  c->sim().Crash(holder);
  const PeerId via = holder % 3 + 1;
  auto n = Count(*c, via);
  EXPECT_TRUE(absl::IsUnavailable(n.status())) << n.status();
  EXPECT_NE(n.status().message().find("shard 0 of collection `docs`: 0 of 1 required replicas answered"),
            std::string::npos)
      << n.status();
}

}  // namespace
}  // namespace qdsim::replication
