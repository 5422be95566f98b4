#include "node/shard/vectors.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "absl/strings/str_cat.h"

namespace qdsim::shard {
namespace {

absl::Status NotExisting(const std::string& name) {
  return absl::InvalidArgumentError(
      absl::StrCat("Wrong input: Not existing vector name error: ", name));
}

bool AllFinite(const google::protobuf::RepeatedField<float>& values) {
  return std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
}

absl::Status ValidateSparse(const std::string& name, const shardpb::SparseVector& v) {
  if (v.indices_size() != v.values_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Wrong input: Sparse vector ", name, " has ", v.indices_size(), " indices and ",
        v.values_size(), " values"));
  }
  std::vector<uint32_t> sorted(v.indices().begin(), v.indices().end());
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Wrong input: Sparse vector ", name, " repeats an index"));
  }
  if (!AllFinite(v.values())) {
    return absl::InvalidArgumentError(
        absl::StrCat("Wrong input: Vector ", name, " holds a NaN or infinite value"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view DistanceName(Distance d) {
  switch (d) {
    case Distance::kCosine: return "Cosine";
    case Distance::kDot: return "Dot";
    case Distance::kEuclid: return "Euclid";
    case Distance::kManhattan: return "Manhattan";
  }
  return "?";
}

absl::Status ValidateConfig(const ShardConfig& config) {
  for (const auto& [name, params] : config.dense) {
    if (params.size == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("Wrong input: vector ", name, " must have a size of at least 1"));
    }
    if (config.sparse.count(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("Wrong input: vector ", name, " is declared both dense and sparse"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateVector(const ShardConfig& config, const std::string& name,
                            const shardpb::Vector& vector) {
  if (auto it = config.dense.find(name); it != config.dense.end()) {
    if (vector.kind_case() != shardpb::Vector::kDense) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Wrong input: Conversion between sparse and regular vectors failed for vector ", name));
    }
    const int got = vector.dense().values_size();
    if (static_cast<uint32_t>(got) != it->second.size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Wrong input: Vector dimension error: expected dim: ", it->second.size, ", got ", got));
    }
    if (!AllFinite(vector.dense().values())) {
      return absl::InvalidArgumentError(
          absl::StrCat("Wrong input: Vector ", name, " holds a NaN or infinite value"));
    }
    return absl::OkStatus();
  }
  if (config.sparse.count(name)) {
    if (vector.kind_case() != shardpb::Vector::kSparse) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Wrong input: Conversion between sparse and regular vectors failed for vector ", name));
    }
    return ValidateSparse(name, vector.sparse());
  }
  return NotExisting(name);
}

void Canonicalize(const ShardConfig& config, const std::string& name, shardpb::Vector& vector) {
  if (vector.kind_case() == shardpb::Vector::kSparse) {
    shardpb::SparseVector& s = *vector.mutable_sparse();
    std::vector<std::pair<uint32_t, float>> pairs;
    pairs.reserve(s.indices_size());
    for (int i = 0; i < s.indices_size(); ++i) pairs.emplace_back(s.indices(i), s.values(i));
    std::sort(pairs.begin(), pairs.end());
    for (int i = 0; i < s.indices_size(); ++i) {
      s.set_indices(i, pairs[i].first);
      s.set_values(i, pairs[i].second);
    }
    return;
  }
  auto it = config.dense.find(name);
  if (it == config.dense.end() || it->second.distance != Distance::kCosine) return;
  auto& values = *vector.mutable_dense()->mutable_values();
  double norm = 0;
  for (float v : values) norm += static_cast<double>(v) * v;
  // Already unit length (within float rounding): leave it, so that normalising is idempotent and a
  // point exported from one replica is stored bit-for-bit the same by another.
  if (norm == 0 || std::fabs(norm - 1.0) < 1e-6) return;
  const double inv = 1.0 / std::sqrt(norm);
  for (float& v : values) v = static_cast<float>(v * inv);
}

float DenseScore(Distance distance, const float* a, const float* b, size_t n) {
  // Eight independent partial sums let the compiler vectorise while the result stays a fixed
  // function of the inputs (the summation order never depends on anything else).
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  switch (distance) {
    case Distance::kCosine:
    case Distance::kDot:
      for (; i + 8 <= n; i += 8) {
        for (size_t j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
      }
      for (; i < n; ++i) acc[0] += a[i] * b[i];
      break;
    case Distance::kEuclid:
      for (; i + 8 <= n; i += 8) {
        for (size_t j = 0; j < 8; ++j) {
          const float d = a[i + j] - b[i + j];
          acc[j] += d * d;
        }
      }
      for (; i < n; ++i) acc[0] += (a[i] - b[i]) * (a[i] - b[i]);
      break;
    case Distance::kManhattan:
      for (; i + 8 <= n; i += 8) {
        for (size_t j = 0; j < 8; ++j) acc[j] += std::fabs(a[i + j] - b[i + j]);
      }
      for (; i < n; ++i) acc[0] += std::fabs(a[i] - b[i]);
      break;
  }
  const float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  return distance == Distance::kEuclid ? std::sqrt(sum) : sum;
}

float SparseScore(const shardpb::SparseVector& a, const shardpb::SparseVector& b) {
  float sum = 0;
  int i = 0, j = 0;
  while (i < a.indices_size() && j < b.indices_size()) {
    if (a.indices(i) < b.indices(j)) {
      ++i;
    } else if (a.indices(i) > b.indices(j)) {
      ++j;
    } else {
      sum += a.values(i++) * b.values(j++);
    }
  }
  return sum;
}

bool SparseOverlap(const shardpb::SparseVector& a, const shardpb::SparseVector& b) {
  int i = 0, j = 0;
  while (i < a.indices_size() && j < b.indices_size()) {
    if (a.indices(i) == b.indices(j)) return true;
    a.indices(i) < b.indices(j) ? ++i : ++j;
  }
  return false;
}

}  // namespace qdsim::shard
