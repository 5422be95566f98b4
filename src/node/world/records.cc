#include "node/world/records.h"

#include "absl/strings/str_cat.h"
#include "node/world/crc32c.h"

namespace qdsim::world {
namespace {

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint32_t GetU32(std::string_view in, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}

}  // namespace

void AppendRecord(std::string& out, uint8_t type, std::string_view payload) {
  const char type_byte = static_cast<char>(type);
  PutU32(out, static_cast<uint32_t>(payload.size() + 1));
  PutU32(out, Crc32cExtend(Crc32c(std::string_view(&type_byte, 1)), payload));
  out.push_back(type_byte);
  out.append(payload);
}

std::string EncodeRecord(uint8_t type, std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 9);
  AppendRecord(out, type, payload);
  return out;
}

std::optional<Record> RecordReader::Next() {
  if (offset_ == bytes_.size()) return std::nullopt;
  const size_t left = bytes_.size() - offset_;
  if (left < 9) {
    stopped_early_ = true;
    return std::nullopt;
  }
  const uint32_t length = GetU32(bytes_, offset_);
  if (length < 1 || length - 1 > kMaxRecordPayload || length > left - 8) {
    stopped_early_ = true;
    return std::nullopt;
  }
  const std::string_view body = bytes_.substr(offset_ + 8, length);
  if (Crc32c(body) != GetU32(bytes_, offset_ + 4)) {
    stopped_early_ = true;
    return std::nullopt;
  }
  offset_ += 8 + length;
  return Record{static_cast<uint8_t>(body[0]), body.substr(1)};
}

absl::StatusOr<std::string> ReadRecordFile(Disk& disk, const std::string& file, bool whole_file_must_parse) {
  constexpr int kAttempts = 6;     // reads before giving up on a failing disk
  constexpr int kGoodReads = 3;    // successful reads compared before trusting a bad tail
  std::optional<std::string> best;
  size_t best_valid = 0;
  absl::Status last_error;
  int good_reads = 0;
  for (int attempt = 0; attempt < kAttempts && good_reads < kGoodReads; ++attempt) {
    absl::StatusOr<std::string> bytes = disk.ReadAll(file);
    if (absl::IsNotFound(bytes.status())) return bytes.status();
    if (!bytes.ok()) {
      last_error = bytes.status();
      continue;
    }
    ++good_reads;
    RecordReader reader(*bytes);
    while (reader.Next()) {}
    if (!best || reader.valid_bytes() > best_valid) {
      best_valid = reader.valid_bytes();
      best = *std::move(bytes);
    }
    if (best_valid == best->size()) break;
  }
  if (!best) return absl::DataLossError(absl::StrCat("cannot read ", file, ": ", last_error.message()));
  if (whole_file_must_parse && best_valid != best->size()) {
    return absl::DataLossError(absl::StrCat(file, " is corrupt (", best->size() - best_valid,
                                            " bad bytes after ", best_valid, ")"));
  }
  return *std::move(best);
}

}  // namespace qdsim::world
