#include "node/shard/wal.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "node/world/records.h"

namespace qdsim::shard {

std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

absl::StatusOr<std::string> ReadRecordsWithRetries(world::Disk& disk, const std::string& file,
                                                   bool whole_file_must_parse) {
  std::optional<std::string> best;
  size_t best_valid = 0;
  absl::Status last_error;
  int good_reads = 0;
  for (int attempt = 0; attempt < kReadAttempts && good_reads < 3; ++attempt) {
    absl::StatusOr<std::string> bytes = disk.ReadAll(file);
    if (absl::IsNotFound(bytes.status())) return bytes.status();
    if (!bytes.ok()) {
      last_error = bytes.status();
      continue;
    }
    ++good_reads;
    world::RecordReader reader(*bytes);
    while (reader.Next()) {}
    if (!best || reader.valid_bytes() > best_valid) {
      best_valid = reader.valid_bytes();
      best = *std::move(bytes);
    }
    if (best_valid == best->size()) break;
  }
  if (!best) {
    return absl::DataLossError(absl::StrCat("cannot read ", file, ": ", last_error.message()));
  }
  if (whole_file_must_parse && best_valid != best->size()) {
    return absl::DataLossError(absl::StrCat(file, " is corrupt (", best->size() - best_valid,
                                            " bad bytes after ", best_valid, ")"));
  }
  return *std::move(best);
}

}  // namespace qdsim::shard
