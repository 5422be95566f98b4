#include "node/shard/point_id.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "node/world/strings.h"

namespace qdsim::shard {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsHyphenPosition(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

}  // namespace

absl::StatusOr<PointKey> PointKey::From(const shardpb::PointId& id) {
  switch (id.kind_case()) {
    case shardpb::PointId::kNum:
      return Num(id.num());
    case shardpb::PointId::kUuid: {
      if (id.uuid().size() != 16) {
        return absl::InvalidArgumentError(
            absl::StrCat("Wrong input: a UUID point id has 16 bytes, got ", id.uuid().size()));
      }
      Uuid u;
      for (size_t i = 0; i < 16; ++i) u[i] = static_cast<uint8_t>(id.uuid()[i]);
      return FromUuid(u);
    }
    case shardpb::PointId::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("Wrong input: point id is neither a number nor a UUID");
}

shardpb::PointId PointKey::ToProto() const { return is_uuid ? UuidId(uuid) : NumId(num); }

std::string PointKey::ToString() const { return is_uuid ? FormatUuid(uuid) : absl::StrCat(num); }

absl::StatusOr<Uuid> ParseUuid(std::string_view text) {
  const auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat("Wrong input: invalid UUID: ", world::Sv(text)));
  };
  if (text.size() != 36) return bad();
  Uuid out{};
  size_t nibble = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (IsHyphenPosition(i)) {
      if (text[i] != '-') return bad();
      continue;
    }
    const int d = HexDigit(text[i]);
    if (d < 0) return bad();
    out[nibble / 2] = static_cast<uint8_t>(out[nibble / 2] | (nibble % 2 == 0 ? d << 4 : d));
    ++nibble;
  }
  return out;
}

std::string FormatUuid(const Uuid& uuid) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[uuid[i] >> 4]);
    out.push_back(kHex[uuid[i] & 0xF]);
  }
  return out;
}

absl::StatusOr<shardpb::PointId> ParsePointId(std::string_view text) {
  uint64_t n = 0;
  const char* end = text.data() + text.size();
  if (!text.empty() && text.size() <= 20) {
    auto [ptr, ec] = std::from_chars(text.data(), end, n);
    if (ec == std::errc() && ptr == end) return NumId(n);
  }
  auto uuid = ParseUuid(text);
  if (!uuid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Wrong input: point id is neither an unsigned integer nor a UUID: ",
                     world::Sv(text)));
  }
  return UuidId(*uuid);
}

std::string FormatPointId(const shardpb::PointId& id) {
  auto key = PointKey::From(id);
  return key.ok() ? key->ToString() : "<invalid id>";
}

shardpb::PointId NumId(uint64_t n) {
  shardpb::PointId id;
  id.set_num(n);
  return id;
}

shardpb::PointId UuidId(const Uuid& uuid) {
  shardpb::PointId id;
  id.set_uuid(std::string(reinterpret_cast<const char*>(uuid.data()), uuid.size()));
  return id;
}

}  // namespace qdsim::shard
