// PointTable: the in-memory state of one shard — points by id with their vectors, payload and
// version — together with the validation and application of ShardOperations and every read
// (retrieve, scroll, count, exact search). It knows nothing of disks: ShardStore makes it durable.
//
//   PointTable table(config);
//   RETURN_IF_ERROR(table.Validate(op));   // changes nothing
//   table.Apply(op);                       // cannot fail once validated
//   ASSIGN_OR_RETURN(auto hits, table.Search({.vector_name = "", .query = q, .limit = 5}));
//
// Search is exact: it scores every point carrying the named vector and returns the true top
// `offset + limit`, best first, equal scores ordered by point id (PointKey order), then drops
// `offset`. Sparse search considers only points sharing at least one index with the query.
//
// Thread-safety: none; reads may run concurrently only with other reads.
#ifndef QDSIM_NODE_SHARD_POINT_TABLE_H_
#define QDSIM_NODE_SHARD_POINT_TABLE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"
#include "node/shard/dense_column.h"
#include "node/shard/point_id.h"
#include "node/shard/stored_point.h"
#include "node/shard/vectors.h"
#include "proto/shard.pb.h"

namespace qdsim::shard {

// Which vectors a read returns.
struct WithVector {
  bool all = false;             // every vector of the point
  std::set<std::string> names{};  // else only these (if the point has them); empty = none
};

// A point as Retrieve and Scroll return it.
struct PointRecord {
  shardpb::PointId id;
  uint64_t version = 0;                                // seq of the last op touching the point
  std::optional<google::protobuf::Struct> payload;     // set iff requested
  std::optional<shardpb::NamedVectors> vectors;        // set iff any vector was requested
};

// A search hit.
struct ScoredPoint {
  shardpb::PointId id;
  float score = 0;                                     // see vectors.h for each distance
  uint64_t version = 0;
  std::optional<google::protobuf::Struct> payload;
  std::optional<shardpb::NamedVectors> vectors;
};

struct ScrollRequest {
  std::optional<shardpb::PointId> offset{};  // first id to consider (inclusive); none = the start
  size_t limit = 10;                       // at most this many points (>= 1)
  std::optional<shardpb::Filter> filter{};  // only matching points
  bool with_payload = true;
  WithVector with_vector{};
};

struct ScrollPage {
  std::vector<PointRecord> points;                   // in id order
  std::optional<shardpb::PointId> next_page_offset;  // the next matching id, if any
};

struct SearchRequest {
  std::string vector_name{};              // "" = the default vector
  shardpb::Vector query{};                // dense or sparse, matching the named vector's kind
  size_t limit = 10;                      // >= 1
  size_t offset = 0;                      // best hits to skip
  std::optional<shardpb::Filter> filter{};  // only matching points
  // Similarities (Cosine, Dot, sparse): keep score >= threshold; distances (Euclid, Manhattan):
  // keep score <= threshold.
  std::optional<float> score_threshold{};
  bool with_payload = false;
  WithVector with_vector{};
};

class PointTable {
 public:
  // REQUIRES: ValidateConfig(config) is OK.
  explicit PointTable(ShardConfig config);
  // Not copyable: the dense columns point into the point map.
  PointTable(const PointTable&) = delete;
  PointTable& operator=(const PointTable&) = delete;

  // OK if Apply(op) would succeed on the current state. Errors: InvalidArgument for a malformed
  // operation, id, vector or filter (Qdrant's messages for vectors); NotFound "No point with id X
  // found" when an id selector, or UpdateVectors, names a missing point.
  absl::Status Validate(const shardpb::ShardOperation& op) const;

  // Applies a validated operation; every point it touches gets version op.seq().
  // REQUIRES: Validate(op) is OK on the current state.
  void Apply(const shardpb::ShardOperation& op);

  // Inserts a point read from a snapshot, as stored (already canonical). InvalidArgument if its
  // vectors do not fit the config.
  absl::Status Restore(const PointKey& key, StoredPoint point);

  // Points among `ids` that exist, in the order asked, each once. InvalidArgument for a bad id.
  absl::StatusOr<std::vector<PointRecord>> Retrieve(const std::vector<shardpb::PointId>& ids,
                                                    bool with_payload,
                                                    const WithVector& with_vector) const;
  absl::StatusOr<ScrollPage> Scroll(const ScrollRequest& request) const;
  // Points matching `filter` (all points if null).
  absl::StatusOr<uint64_t> Count(const shardpb::Filter* filter) const;
  absl::StatusOr<std::vector<ScoredPoint>> Search(const SearchRequest& request) const;

  const std::map<PointKey, StoredPoint>& points() const { return points_; }
  const ShardConfig& config() const { return config_; }
  void Clear();

 private:
  absl::Status ValidatePoint(const shardpb::Point& point, bool must_exist) const;
  absl::Status ValidateSelector(const shardpb::PointSelector& selector) const;
  // Keys a validated selector picks, in id order.
  std::vector<PointKey> Select(const shardpb::PointSelector& selector) const;
  void ApplyUpsert(const shardpb::Upsert& upsert, uint64_t seq);
  void ApplyUpdateVectors(const shardpb::UpdateVectors& update, uint64_t seq);
  // Runs `mutate` on the payload of every selected point and stamps its version.
  template <typename Fn>
  void MutatePayloads(const shardpb::PointSelector& selector, uint64_t seq, Fn mutate);
  // Copies the point's dense vectors into the columns (replacing older copies).
  void Index(const PointEntry& entry);
  // Drops every column's copy of the point's vectors.
  void Unindex(const PointKey& key);
  // Removes a point from the map and the columns.
  void Erase(const PointKey& key);
  PointRecord MakeRecord(const PointKey& key, const StoredPoint& point, bool with_payload,
                         const WithVector& with_vector) const;

  ShardConfig config_;                      // the collection's vector layout
  std::map<PointKey, StoredPoint> points_;  // every live point, in scroll order
  std::map<std::string, DenseColumn> columns_;  // a contiguous copy of each dense vector name
};

// The vectors of `point` that `with` selects, or nullopt if it selects none.
std::optional<shardpb::NamedVectors> SelectVectors(const StoredPoint& point, const WithVector& with);

}  // namespace qdsim::shard

#endif  // QDSIM_NODE_SHARD_POINT_TABLE_H_
