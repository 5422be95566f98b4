// Vector configuration, validation and scoring for one shard (SPEC.md §4-§5).
//
// A collection declares dense vectors by name ({size, distance}; "" is the default vector) and
// sparse vectors by name. Every vector a point carries is checked against that config with Qdrant's
// error messages, and stored in canonical form: Cosine vectors normalised to unit length, sparse
// vectors sorted by index.
//
// Scores: Cosine and Dot are similarities (higher is closer); Euclid and Manhattan are distances
// (lower is closer); a sparse score is the dot product over shared indices.
//
//   ShardConfig config;
//   config.dense["" ] = {.size = 4, .distance = Distance::kDot};
//   config.sparse.insert("text");
//   RETURN_IF_ERROR(ValidateConfig(config));
//
// Thread-safety: values and pure functions only.
#ifndef QDSIM_NODE_SHARD_VECTORS_H_
#define QDSIM_NODE_SHARD_VECTORS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "proto/shard.pb.h"

namespace qdsim::shard {

enum class Distance {
  kCosine,     // dot product of unit vectors; higher is closer
  kDot,        // dot product; higher is closer
  kEuclid,     // L2 distance; lower is closer
  kManhattan,  // L1 distance; lower is closer
};

// "Cosine", "Dot", "Euclid", "Manhattan".
std::string_view DistanceName(Distance d);

// True if a higher score means closer (Cosine, Dot); false for distances (Euclid, Manhattan).
inline bool HigherIsBetter(Distance d) { return d == Distance::kCosine || d == Distance::kDot; }

struct DenseVectorParams {
  uint32_t size = 0;                    // the exact dimension every vector must have (> 0)
  Distance distance = Distance::kCosine;  // how the vector is scored
};

// The vector layout of the collection a shard belongs to.
struct ShardConfig {
  std::map<std::string, DenseVectorParams> dense;  // dense vectors by name ("" = default)
  std::set<std::string> sparse;                    // sparse vector names
};

// InvalidArgument if a dense size is 0 or a name is both dense and sparse.
absl::Status ValidateConfig(const ShardConfig& config);

// Checks one named vector of a point (or a query) against the config: the name must exist
// ("Wrong input: Not existing vector name error: NAME"), its kind (dense/sparse) must match, a dense
// vector must have the configured size ("Wrong input: Vector dimension error: expected dim: X, got
// Y"), values must be finite, and a sparse vector's lists must be parallel with no repeated index.
absl::Status ValidateVector(const ShardConfig& config, const std::string& name,
                            const shardpb::Vector& vector);

// Puts a validated vector in canonical form: Cosine vectors scaled to unit length (a zero vector
// stays zero; one already of unit length within 1e-6 stays as it is, so this is idempotent),
// sparse vectors sorted by index.
void Canonicalize(const ShardConfig& config, const std::string& name, shardpb::Vector& vector);

// Score of two dense vectors of equal length under `distance`. For Cosine the inputs must already
// be normalised (the score is their dot product).
float DenseScore(Distance distance, const float* a, const float* b, size_t n);

// Dot product over the indices both sparse vectors hold. REQUIRES: both sorted by index.
float SparseScore(const shardpb::SparseVector& a, const shardpb::SparseVector& b);

// True if the sorted sparse vectors share at least one index.
bool SparseOverlap(const shardpb::SparseVector& a, const shardpb::SparseVector& b);

}  // namespace qdsim::shard

#endif  // QDSIM_NODE_SHARD_VECTORS_H_
