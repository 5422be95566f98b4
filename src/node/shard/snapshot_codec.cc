#include "node/shard/snapshot_codec.h"

#include "absl/strings/str_cat.h"
#include "node/shard/wal.h"
#include "node/world/status_macros.h"
#include "node/world/strings.h"
#include "schema/shard_snapshot_generated.h"

namespace qdsim::shard {
namespace {

namespace fb = qdsim::shardfb;

flatbuffers::Offset<fb::NamedVector> EncodeVector(flatbuffers::FlatBufferBuilder& b,
                                                  const std::string& name,
                                                  const shardpb::Vector& v) {
  const auto name_off = b.CreateString(name);
  if (v.has_sparse()) {
    const auto& s = v.sparse();
    const auto idx = b.CreateVector(s.indices().data(), s.indices_size());
    const auto val = b.CreateVector(s.values().data(), s.values_size());
    const auto sparse = fb::CreateSparseVector(b, idx, val);
    return fb::CreateNamedVector(b, name_off, 0, sparse);
  }
  const auto dense = b.CreateVector(v.dense().values().data(), v.dense().values_size());
  return fb::CreateNamedVector(b, name_off, dense, 0);
}

flatbuffers::Offset<fb::Point> EncodePoint(flatbuffers::FlatBufferBuilder& b, const PointKey& key,
                                           const StoredPoint& p) {
  std::vector<flatbuffers::Offset<fb::NamedVector>> vectors;
  for (const auto& [name, v] : p.vectors) vectors.push_back(EncodeVector(b, name, v));
  const auto vectors_off = b.CreateVector(vectors);
  const std::string payload = DeterministicBytes(p.payload);
  const auto payload_off =
      b.CreateVector(reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
  flatbuffers::Offset<flatbuffers::Vector<uint8_t>> uuid_off;
  if (key.is_uuid) uuid_off = b.CreateVector(key.uuid.data(), key.uuid.size());
  return fb::CreatePoint(b, key.num, uuid_off, vectors_off, payload_off, p.version);
}

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(absl::StrCat("shard snapshot is corrupt: ", world::Sv(what)));
}

absl::StatusOr<shardpb::Vector> DecodeVector(const fb::NamedVector& nv) {
  shardpb::Vector v;
  if (nv.dense() && !nv.sparse()) {
    v.mutable_dense()->mutable_values()->Add(nv.dense()->begin(), nv.dense()->end());
  } else if (nv.sparse() && !nv.dense()) {
    const auto* s = nv.sparse();
    if (s->indices()) v.mutable_sparse()->mutable_indices()->Add(s->indices()->begin(), s->indices()->end());
    if (s->values()) v.mutable_sparse()->mutable_values()->Add(s->values()->begin(), s->values()->end());
  } else {
    return Corrupt("a vector is neither dense nor sparse");
  }
  return v;
}

absl::StatusOr<std::pair<PointKey, StoredPoint>> DecodePoint(const fb::Point& p) {
  PointKey key = PointKey::Num(p.num_id());
  if (p.uuid()) {
    if (p.uuid()->size() != 16) return Corrupt("a UUID is not 16 bytes");
    Uuid u;
    std::copy(p.uuid()->begin(), p.uuid()->end(), u.begin());
    key = PointKey::FromUuid(u);
  }
  StoredPoint point;
  point.version = p.version();
  if (p.payload() && !point.payload.ParseFromArray(p.payload()->data(), p.payload()->size())) {
    return Corrupt(absl::StrCat("the payload of point ", key.ToString(), " does not parse"));
  }
  if (p.vectors()) {
    for (const fb::NamedVector* nv : *p.vectors()) {
      const std::string name = nv->name() ? nv->name()->str() : std::string();
      ASSIGN_OR_RETURN(shardpb::Vector v, DecodeVector(*nv));
      if (!point.vectors.emplace(name, std::move(v)).second) return Corrupt("a vector name repeats");
    }
  }
  return std::make_pair(key, std::move(point));
}

absl::Status DecodeInto(const fb::ShardSnapshot& snap, PointTable& table) {
  if (!snap.points()) return absl::OkStatus();
  for (const fb::Point* p : *snap.points()) {
    ASSIGN_OR_RETURN(auto decoded, DecodePoint(*p));
    if (table.points().count(decoded.first)) {
      return Corrupt(absl::StrCat("point ", decoded.first.ToString(), " appears twice"));
    }
    absl::Status s = table.Restore(decoded.first, std::move(decoded.second));
    if (!s.ok()) return Corrupt(std::string(s.message()));
  }
  return absl::OkStatus();
}

}  // namespace

std::string EncodeSnapshot(const PointTable& table, uint64_t last_seq) {
  flatbuffers::FlatBufferBuilder b(1024);
  std::vector<flatbuffers::Offset<fb::Point>> points;
  points.reserve(table.points().size());
  for (const auto& [key, p] : table.points()) points.push_back(EncodePoint(b, key, p));
  const auto points_off = b.CreateVector(points);
  b.Finish(fb::CreateShardSnapshot(b, last_seq, points_off), fb::ShardSnapshotIdentifier());
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

absl::Status DecodeSnapshot(std::string_view bytes, PointTable& table, uint64_t* last_seq) {
  // A record's payload starts at an odd offset; FlatBuffers reads scalars in place, so work on an
  // aligned copy.
  const std::string aligned(bytes);
  const auto* data = reinterpret_cast<const uint8_t*>(aligned.data());
  // Depth and table limits bound the verifier's work on hostile input.
  flatbuffers::Verifier verifier(data, bytes.size(), /*max_depth=*/16, /*max_tables=*/100'000'000);
  if (bytes.size() < 8 || !fb::ShardSnapshotBufferHasIdentifier(data) ||
      !fb::VerifyShardSnapshotBuffer(verifier)) {
    return Corrupt("it fails the FlatBuffers verifier");
  }
  const fb::ShardSnapshot* snap = fb::GetShardSnapshot(data);
  absl::Status s = DecodeInto(*snap, table);
  if (!s.ok()) {
    table.Clear();
    return s;
  }
  *last_seq = snap->last_seq();
  return absl::OkStatus();
}

}  // namespace qdsim::shard
