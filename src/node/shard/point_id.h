// Point ids: an unsigned 64-bit integer or a UUID (SPEC.md §5).
//
// PointKey is the store's ordered key for a point id: numeric ids first in ascending order, then
// UUIDs ordered by their 16 bytes (the scroll order). UUID strings are the canonical 8-4-4-4-12
// hex form, accepted in either case and printed in lowercase.
//
//   ASSIGN_OR_RETURN(shardpb::PointId id, ParsePointId("550E8400-e29b-41d4-a716-446655440000"));
//   PointKey key = *PointKey::From(id);
//   FormatPointId(key.ToProto());   // "550e8400-e29b-41d4-a716-446655440000"
//
// Thread-safety: values only; no shared state.
#ifndef QDSIM_NODE_SHARD_POINT_ID_H_
#define QDSIM_NODE_SHARD_POINT_ID_H_

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "proto/shard.pb.h"

namespace qdsim::shard {

using Uuid = std::array<uint8_t, 16>;

// An ordered point id.
struct PointKey {
  bool is_uuid = false;  // false: `num` is the id; true: `uuid` is the id
  uint64_t num = 0;      // the numeric id (0 for a UUID)
  Uuid uuid{};           // the UUID's bytes (all zero for a numeric id)

  static PointKey Num(uint64_t n) { return PointKey{false, n, {}}; }
  static PointKey FromUuid(const Uuid& u) { return PointKey{true, 0, u}; }
  // InvalidArgument if `id` has no kind set or its uuid is not 16 bytes.
  static absl::StatusOr<PointKey> From(const shardpb::PointId& id);

  shardpb::PointId ToProto() const;
  // "42" or "550e8400-e29b-41d4-a716-446655440000".
  std::string ToString() const;

  // Numeric ids before UUIDs; numbers ascending; UUIDs by bytes.
  auto operator<=>(const PointKey&) const = default;
};

// Parses a canonical 8-4-4-4-12 UUID string (hex digits in either case).
absl::StatusOr<Uuid> ParseUuid(std::string_view text);

// Formats 16 bytes as a lowercase canonical UUID string.
std::string FormatUuid(const Uuid& uuid);

// Parses a point id as the REST layer sees it in a string: decimal digits make a numeric id, anything
// else must be a UUID.
absl::StatusOr<shardpb::PointId> ParsePointId(std::string_view text);

// The id as REST prints it ("42" or a lowercase UUID); "<invalid id>" for a malformed message.
std::string FormatPointId(const shardpb::PointId& id);

// Convenience constructors for tests and callers.
shardpb::PointId NumId(uint64_t n);
shardpb::PointId UuidId(const Uuid& uuid);

}  // namespace qdsim::shard

#endif  // QDSIM_NODE_SHARD_POINT_ID_H_
