// PointTable reads: retrieve, scroll, count and exact top-k search.
#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "node/shard/filter.h"
#include "node/shard/point_table.h"
#include "node/world/status_macros.h"

namespace qdsim::shard {
namespace {

using Entry = PointEntry;

// A search candidate; `rank` orders by closeness (higher is closer for every distance).
struct Candidate {
  double rank;         // the score mapped so that higher is closer (NaN ranks last)
  float score;         // the score as reported
  const Entry* entry;  // the point
};

// Strict weak order "a is a better hit than b": closer first, then lower point id.
bool Better(const Candidate& a, const Candidate& b) {
  if (a.rank != b.rank) return a.rank > b.rank;
  return a.entry->first < b.entry->first;
}

double Rank(float score, bool higher_is_better) {
  if (std::isnan(score)) return -std::numeric_limits<double>::infinity();
  return higher_is_better ? score : -static_cast<double>(score);
}

absl::Status CheckLimit(size_t limit) {
  if (limit == 0) return absl::InvalidArgumentError("Wrong input: limit must be at least 1");
  return absl::OkStatus();
}

// Keeps the best `k` candidates seen, as a heap whose front is the worst of them.
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) {}
  void Offer(const Candidate& c) {
    if (k_ == 0) return;
    if (heap_.size() < k_) {
      heap_.push_back(c);
      std::push_heap(heap_.begin(), heap_.end(), Better);
    } else if (Better(c, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), Better);
      heap_.back() = c;
      std::push_heap(heap_.begin(), heap_.end(), Better);
    }
  }
  // The kept candidates, best first.
  std::vector<Candidate> Take() {
    std::sort_heap(heap_.begin(), heap_.end(), Better);
    return std::move(heap_);
  }

 private:
  size_t k_;                     // how many to keep
  std::vector<Candidate> heap_;  // max-heap under Better: front() is the worst kept
};

}  // namespace

std::optional<shardpb::NamedVectors> SelectVectors(const StoredPoint& point, const WithVector& with) {
  if (!with.all && with.names.empty()) return std::nullopt;
  shardpb::NamedVectors out;
  for (const auto& [name, vector] : point.vectors) {
    if (with.all || with.names.count(name)) (*out.mutable_vectors())[name] = vector;
  }
  return out;
}

PointRecord PointTable::MakeRecord(const PointKey& key, const StoredPoint& point,
                                   bool with_payload, const WithVector& with_vector) const {
  PointRecord r;
  r.id = key.ToProto();
  r.version = point.version;
  if (with_payload) r.payload = point.payload;
  r.vectors = SelectVectors(point, with_vector);
  return r;
}

absl::StatusOr<std::vector<PointRecord>> PointTable::Retrieve(
    const std::vector<shardpb::PointId>& ids, bool with_payload, const WithVector& with_vector) const {
  std::vector<PointRecord> out;
  std::set<PointKey> seen;
  for (const auto& id : ids) {
    ASSIGN_OR_RETURN(const PointKey key, PointKey::From(id));
    auto it = points_.find(key);
    if (it == points_.end() || !seen.insert(key).second) continue;
    out.push_back(MakeRecord(key, it->second, with_payload, with_vector));
  }
  return out;
}

absl::StatusOr<ScrollPage> PointTable::Scroll(const ScrollRequest& request) const {
  RETURN_IF_ERROR(CheckLimit(request.limit));
  if (request.filter) RETURN_IF_ERROR(ValidateFilter(*request.filter));
  auto it = points_.begin();
  if (request.offset) {
    ASSIGN_OR_RETURN(const PointKey start, PointKey::From(*request.offset));
    it = points_.lower_bound(start);
  }
  ScrollPage page;
  for (; it != points_.end(); ++it) {
    if (request.filter && !FilterMatches(*request.filter, it->first, it->second.payload)) continue;
    if (page.points.size() == request.limit) {
      page.next_page_offset = it->first.ToProto();
      break;
    }
    page.points.push_back(
        MakeRecord(it->first, it->second, request.with_payload, request.with_vector));
  }
  return page;
}

absl::StatusOr<uint64_t> PointTable::Count(const shardpb::Filter* filter) const {
  if (!filter) return points_.size();
  RETURN_IF_ERROR(ValidateFilter(*filter));
  uint64_t n = 0;
  for (const auto& [key, point] : points_) n += FilterMatches(*filter, key, point.payload);
  return n;
}

absl::StatusOr<std::vector<ScoredPoint>> PointTable::Search(const SearchRequest& request) const {
  RETURN_IF_ERROR(CheckLimit(request.limit));
  RETURN_IF_ERROR(ValidateVector(config_, request.vector_name, request.query));
  if (request.filter) RETURN_IF_ERROR(ValidateFilter(*request.filter));
  shardpb::Vector query = request.query;
  Canonicalize(config_, request.vector_name, query);
  const bool sparse = query.has_sparse();
  const Distance distance = sparse ? Distance::kDot : config_.dense.at(request.vector_name).distance;
  const bool higher = HigherIsBetter(distance);
  const size_t n = points_.size();
  const size_t k = request.offset >= n ? 0 : std::min(n, request.offset + std::min(request.limit, n));

  TopK top(k);
  const auto consider = [&](const Entry& entry, float score) {
    if (request.score_threshold) {
      const float t = *request.score_threshold;
      if (higher ? !(score >= t) : !(score <= t)) return;
    }
    top.Offer(Candidate{Rank(score, higher), score, &entry});
  };
  const auto passes = [&](const Entry& entry) {
    return !request.filter || FilterMatches(*request.filter, entry.first, entry.second.payload);
  };
  if (sparse) {
    for (const Entry& entry : points_) {
      auto v = entry.second.vectors.find(request.vector_name);
      if (v == entry.second.vectors.end() || !passes(entry)) continue;
      if (!SparseOverlap(v->second.sparse(), query.sparse())) continue;
      consider(entry, SparseScore(v->second.sparse(), query.sparse()));
    }
  } else {
    // Dense vectors stream from their column; slot order does not matter (ties go by id).
    const DenseColumn& column = columns_.at(request.vector_name);
    const float* q = query.dense().values().data();
    for (size_t slot = 0; slot < column.size(); ++slot) {
      const Entry& entry = *column.owner(slot);
      if (!passes(entry)) continue;
      consider(entry, DenseScore(distance, column.vector(slot), q, column.dim()));
    }
  }
  std::vector<ScoredPoint> hits;
  std::vector<Candidate> best = top.Take();
  for (size_t i = request.offset; i < best.size(); ++i) {
    const Entry& e = *best[i].entry;
    ScoredPoint hit;
    hit.id = e.first.ToProto();
    hit.score = best[i].score;
    hit.version = e.second.version;
    if (request.with_payload) hit.payload = e.second.payload;
    hit.vectors = SelectVectors(e.second, request.with_vector);
    hits.push_back(std::move(hit));
  }
  return hits;
}

}  // namespace qdsim::shard
