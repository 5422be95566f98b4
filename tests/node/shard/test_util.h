// Helpers for shard store tests: JSON payloads, text-format filters, point and operation builders,
// and a synchronous Apply over MemDisk.
#ifndef QDSIM_TESTS_NODE_SHARD_TEST_UTIL_H_
#define QDSIM_TESTS_NODE_SHARD_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "node/shard/point_id.h"
#include "node/shard/shard_store.h"
#include "tests/node/raft/mem_disk.h"

namespace qdsim::shard::testing {

using raft::testing::MemDisk;

// A payload from JSON text (a test failure if it does not parse).
inline google::protobuf::Struct Json(std::string_view json) {
  google::protobuf::Struct s;
  auto status = google::protobuf::util::JsonStringToMessage(std::string(json), &s);
  EXPECT_TRUE(status.ok()) << json;
  return s;
}

// A filter from text-format Protobuf.
inline shardpb::Filter ParseFilter(std::string_view text) {
  shardpb::Filter f;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(std::string(text), &f)) << text;
  return f;
}

inline shardpb::Vector Dense(std::vector<float> values) {
  shardpb::Vector v;
  v.mutable_dense()->mutable_values()->Add(values.begin(), values.end());
  return v;
}

inline shardpb::Vector Sparse(std::vector<uint32_t> indices, std::vector<float> values) {
  shardpb::Vector v;
  v.mutable_sparse()->mutable_indices()->Add(indices.begin(), indices.end());
  v.mutable_sparse()->mutable_values()->Add(values.begin(), values.end());
  return v;
}

// A point with a default dense vector (omitted when empty) and a JSON payload.
inline shardpb::Point MakePoint(uint64_t id, std::vector<float> vector, std::string_view payload = "{}") {
  shardpb::Point p;
  *p.mutable_id() = NumId(id);
  if (!vector.empty()) (*p.mutable_vectors()->mutable_vectors())[""] = Dense(std::move(vector));
  *p.mutable_payload() = Json(payload);
  return p;
}

inline shardpb::ShardOperation UpsertOp(uint64_t seq, std::vector<shardpb::Point> points) {
  shardpb::ShardOperation op;
  op.set_seq(seq);
  for (auto& p : points) *op.mutable_upsert()->add_points() = std::move(p);
  return op;
}

inline shardpb::ShardOperation DeleteOp(uint64_t seq, std::vector<uint64_t> ids) {
  shardpb::ShardOperation op;
  op.set_seq(seq);
  for (uint64_t id : ids) *op.mutable_delete_points()->add_ids() = NumId(id);
  return op;
}

// A config with one default dense vector.
inline ShardConfig DenseConfig(uint32_t size, Distance distance) {
  ShardConfig c;
  c.dense[""] = DenseVectorParams{size, distance};
  return c;
}

// MemDisk whose syncs the test completes one at a time (RunOneSync) to stop between steps.
class StepDisk : public MemDisk {
 public:
  void Sync(std::string_view file, SyncCallback done) override { pending_.push_back(std::move(done)); }
  // Completes the oldest pending sync; false if there was none.
  bool RunOneSync() {
    if (pending_.empty()) return false;
    SyncCallback cb = std::move(pending_.front());
    pending_.erase(pending_.begin());
    cb(absl::OkStatus());
    return true;
  }
  void RunSyncs() {
    while (RunOneSync()) {}
  }

 private:
  std::vector<SyncCallback> pending_;  // syncs not yet completed, oldest first
};

// Applies `op` and completes the disk's syncs; the status `done` received.
template <typename D>
absl::Status ApplyNow(ShardStore& store, D& disk, shardpb::ShardOperation op) {
  absl::Status result = absl::UnknownError("done never ran");
  store.Apply(std::move(op), [&](absl::Status s) { result = s; });
  disk.RunSyncs();
  return result;
}

template <typename D>
absl::Status SnapshotNow(ShardStore& store, D& disk) {
  absl::Status result = absl::UnknownError("done never ran");
  store.CreateSnapshot([&](absl::Status s) { result = s; });
  disk.RunSyncs();
  return result;
}

// JSON text of a value with object keys sorted (Protobuf's printer leaves map order unspecified).
inline std::string CanonicalJson(const google::protobuf::Value& v) {
  switch (v.kind_case()) {
    case google::protobuf::Value::kStructValue: {
      std::map<std::string, const google::protobuf::Value*> sorted;
      for (const auto& [k, f] : v.struct_value().fields()) sorted[k] = &f;
      std::string out = "{";
      for (const auto& [k, f] : sorted) out += (out.size() > 1 ? "," : "") + ("\"" + k + "\":") + CanonicalJson(*f);
      return out + "}";
    }
    case google::protobuf::Value::kListValue: {
      std::string out = "[";
      for (const auto& e : v.list_value().values()) out += (out.size() > 1 ? "," : "") + CanonicalJson(e);
      return out + "]";
    }
    case google::protobuf::Value::kStringValue: return "\"" + v.string_value() + "\"";
    case google::protobuf::Value::kNumberValue: return std::to_string(v.number_value());
    case google::protobuf::Value::kBoolValue: return v.bool_value() ? "true" : "false";
    default: return "null";
  }
}

inline std::string CanonicalJson(const google::protobuf::Struct& s) {
  google::protobuf::Value v;
  *v.mutable_struct_value() = s;
  return CanonicalJson(v);
}

// Every point of the store (payload and all vectors) as a comparable string, in id order.
inline std::string Dump(const PointTable& table) {
  std::string out;
  for (const auto& [key, p] : table.points()) {
    out += key.ToString() + " v" + std::to_string(p.version) + " ";
    out += CanonicalJson(p.payload);
    for (const auto& [name, v] : p.vectors) out += " [" + name + "]" + v.ShortDebugString();
    out += "\n";
  }
  return out;
}

}  // namespace qdsim::shard::testing

#endif  // QDSIM_TESTS_NODE_SHARD_TEST_UTIL_H_
