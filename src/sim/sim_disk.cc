#include "sim/sim_disk.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "node/world/strings.h"

namespace qdsim::sim {

void SimDisk::ApplyOp(const Op& op, std::string& bytes) {
  if (op.truncate) {
    if (bytes.size() > op.offset) bytes.resize(op.offset);
    return;
  }
  if (bytes.size() < op.offset + op.data.size()) bytes.resize(op.offset + op.data.size(), '\0');
  std::copy(op.data.begin(), op.data.end(), bytes.begin() + static_cast<ptrdiff_t>(op.offset));
}

SimDisk::Inode* SimDisk::Find(std::string_view file) {
  auto it = volatile_dir_.find(file);
  return it == volatile_dir_.end() ? nullptr : &inodes_.at(it->second);
}

const SimDisk::Inode* SimDisk::Find(std::string_view file) const {
  auto it = volatile_dir_.find(file);
  return it == volatile_dir_.end() ? nullptr : &inodes_.at(it->second);
}

SimDisk::Inode& SimDisk::FindOrCreate(std::string_view file) {
  if (Inode* inode = Find(file)) return *inode;
  const uint64_t id = next_inode_++;
  volatile_dir_.emplace(std::string(file), id);
  return inodes_[id];
}

uint64_t SimDisk::UsedBytes() const {
  uint64_t used = 0;
  for (const auto& [name, id] : volatile_dir_) used += inodes_.at(id).current.size();
  return used;
}

absl::Status SimDisk::CheckSpace(uint64_t old_size, uint64_t new_size) const {
  if (params_.capacity_bytes == 0 || new_size <= old_size) return absl::OkStatus();
  if (UsedBytes() + (new_size - old_size) <= params_.capacity_bytes) return absl::OkStatus();
  return absl::ResourceExhaustedError("No space left on device (ENOSPC)");
}

absl::Status SimDisk::Append(std::string_view file, std::string_view data) {
  const Inode* inode = Find(file);
  return WriteAt(file, inode ? inode->current.size() : 0, data);
}

absl::Status SimDisk::WriteAt(std::string_view file, uint64_t offset, std::string_view data) {
  const Inode* existing = Find(file);
  const uint64_t old_size = existing ? existing->current.size() : 0;
  if (absl::Status s = CheckSpace(old_size, std::max(old_size, offset + data.size())); !s.ok()) {
    ++stats_.enospc;
    return s;
  }
  Inode& inode = FindOrCreate(file);
  Op op{false, offset, std::string(data)};
  ApplyOp(op, inode.current);
  inode.pending.push_back(std::move(op));
  ++stats_.writes;
  stats_.bytes_written += data.size();
  return absl::OkStatus();
}

absl::StatusOr<std::string> SimDisk::Read(std::string_view file, uint64_t offset, uint64_t length,
                                          world::Random& rng) {
  const Inode* inode = Find(file);
  if (inode == nullptr) return absl::NotFoundError(absl::StrCat("no such file: ", world::Sv(file)));
  ++stats_.reads;
  if (faults_enabled_ && rng.Bernoulli(params_.read_error)) {
    ++stats_.read_errors;
    return absl::DataLossError(absl::StrCat("I/O error reading ", world::Sv(file)));
  }
  const std::string& bytes = inode->current;
  std::string out = offset >= bytes.size() ? std::string() : bytes.substr(offset, length);
  if (faults_enabled_ && !out.empty() && rng.Bernoulli(params_.bit_flip)) {
    ++stats_.bit_flips;
    const uint64_t bit = rng.Uniform(out.size() * 8);
    out[bit / 8] = static_cast<char>(out[bit / 8] ^ (1 << (bit % 8)));
  }
  return out;
}

absl::StatusOr<uint64_t> SimDisk::Size(std::string_view file) const {
  const Inode* inode = Find(file);
  if (inode == nullptr) return absl::NotFoundError(absl::StrCat("no such file: ", world::Sv(file)));
  return inode->current.size();
}

absl::Status SimDisk::Truncate(std::string_view file, uint64_t size) {
  Inode* inode = Find(file);
  if (inode == nullptr) return absl::NotFoundError(absl::StrCat("no such file: ", world::Sv(file)));
  if (inode->current.size() <= size) return absl::OkStatus();
  Op op{true, size, {}};
  ApplyOp(op, inode->current);
  inode->pending.push_back(std::move(op));
  return absl::OkStatus();
}

absl::Status SimDisk::Rename(std::string_view from, std::string_view to) {
  auto it = volatile_dir_.find(from);
  if (it == volatile_dir_.end()) return absl::NotFoundError(absl::StrCat("no such file: ", world::Sv(from)));
  const uint64_t id = it->second;
  volatile_dir_.erase(it);
  volatile_dir_.insert_or_assign(std::string(to), id);
  DropUnreferenced();
  return absl::OkStatus();
}

absl::Status SimDisk::Remove(std::string_view file) {
  auto it = volatile_dir_.find(file);
  if (it != volatile_dir_.end()) volatile_dir_.erase(it);
  DropUnreferenced();
  return absl::OkStatus();
}

std::vector<std::string> SimDisk::List(std::string_view prefix) const {
  std::vector<std::string> names;
  for (const auto& [name, id] : volatile_dir_) {
    if (absl::StartsWith(name, world::Sv(prefix))) names.push_back(name);
  }
  return names;  // std::map order: sorted
}

SimDisk::SyncTicket SimDisk::BeginSync(std::string_view file) {
  SyncTicket ticket;
  if (auto it = volatile_dir_.find(file); it != volatile_dir_.end()) {
    const Inode& inode = inodes_.at(it->second);
    ticket.inode = it->second;
    ticket.writes = inode.applied_ops + inode.pending.size();
  }
  ticket.directory.insert(volatile_dir_.begin(), volatile_dir_.end());
  return ticket;
}

void SimDisk::CompleteSync(const SyncTicket& ticket) {
  ++stats_.syncs;
  if (ticket.inode) {
    if (auto it = inodes_.find(*ticket.inode); it != inodes_.end()) {
      Inode& inode = it->second;
      while (inode.applied_ops < ticket.writes && !inode.pending.empty()) {
        ApplyOp(inode.pending.front(), inode.durable);
        inode.pending.erase(inode.pending.begin());
        ++inode.applied_ops;
      }
    }
  }
  // The directory as it was when the sync began becomes durable (syncs complete in issue order).
  durable_dir_.clear();
  for (const auto& [name, id] : ticket.directory) {
    if (inodes_.contains(id)) durable_dir_.emplace(name, id);
  }
  DropUnreferenced();
}

void SimDisk::TearFirstPending(Inode& inode, world::Random& rng) {
  const Op& op = inode.pending.front();
  if (op.truncate || op.data.empty()) return;
  // Candidate cut points: every sector boundary of the file inside the write, plus its end.
  const uint64_t sector = std::max<uint32_t>(params_.sector_bytes, 1);
  std::vector<uint64_t> cuts = {0};
  for (uint64_t b = (op.offset / sector + 1) * sector; b < op.offset + op.data.size(); b += sector) {
    cuts.push_back(b - op.offset);
  }
  cuts.push_back(op.data.size());
  const uint64_t keep = cuts[rng.Uniform(cuts.size())];
  if (keep == 0) return;
  ApplyOp(Op{false, op.offset, op.data.substr(0, keep)}, inode.durable);
  ++stats_.torn_writes;
}

void SimDisk::Crash(world::Random& rng) {
  ++stats_.crashes;
  volatile_dir_.clear();
  volatile_dir_.insert(durable_dir_.begin(), durable_dir_.end());
  DropUnreferenced();
  for (auto& [id, inode] : inodes_) {
    if (params_.torn_writes && !inode.pending.empty() && rng.Bernoulli(0.5)) {
      TearFirstPending(inode, rng);
    }
    inode.applied_ops += inode.pending.size();
    inode.pending.clear();
    inode.current = inode.durable;
  }
}

void SimDisk::DropUnreferenced() {
  std::vector<uint64_t> used;
  for (const auto& [name, id] : volatile_dir_) used.push_back(id);
  for (const auto& [name, id] : durable_dir_) used.push_back(id);
  std::sort(used.begin(), used.end());
  for (auto it = inodes_.begin(); it != inodes_.end();) {
    it = std::binary_search(used.begin(), used.end(), it->first) ? std::next(it) : inodes_.erase(it);
  }
}

std::optional<std::string> SimDisk::DurableContent(std::string_view file) const {
  auto it = durable_dir_.find(file);
  if (it == durable_dir_.end()) return std::nullopt;
  return inodes_.at(it->second).durable;
}

std::optional<std::string> SimDisk::VolatileContent(std::string_view file) const {
  const Inode* inode = Find(file);
  if (inode == nullptr) return std::nullopt;
  return inode->current;
}

}  // namespace qdsim::sim

