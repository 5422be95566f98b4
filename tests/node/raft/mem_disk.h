// MemDisk: a world::Disk held in memory for unit tests. Writes apply at once; Sync completes at
// once (its callback runs when the test calls RunSyncs(), never inside Sync()). Tests damage the
// bytes directly through files().
#ifndef QDSIM_TESTS_NODE_RAFT_MEM_DISK_H_
#define QDSIM_TESTS_NODE_RAFT_MEM_DISK_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "node/world/disk.h"

namespace qdsim::raft::testing {

class MemDisk : public world::Disk {
 public:
  absl::Status Append(std::string_view file, std::string_view data) override {
    files_[std::string(file)].append(data);
    return absl::OkStatus();
  }
  absl::Status WriteAt(std::string_view file, uint64_t offset, std::string_view data) override {
    std::string& f = files_[std::string(file)];
    if (f.size() < offset + data.size()) f.resize(offset + data.size());
    f.replace(offset, data.size(), data);
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> Read(std::string_view file, uint64_t offset, uint64_t length) override {
    auto it = files_.find(std::string(file));
    if (it == files_.end()) return absl::NotFoundError("no such file");
    return offset >= it->second.size() ? std::string() : it->second.substr(offset, length);
  }
  absl::StatusOr<std::string> ReadAll(std::string_view file) override { return Read(file, 0, UINT64_MAX); }
  absl::StatusOr<uint64_t> Size(std::string_view file) override {
    auto it = files_.find(std::string(file));
    if (it == files_.end()) return absl::NotFoundError("no such file");
    return it->second.size();
  }
  absl::Status Truncate(std::string_view file, uint64_t size) override {
    auto it = files_.find(std::string(file));
    if (it == files_.end()) return absl::NotFoundError("no such file");
    if (it->second.size() > size) it->second.resize(size);
    return absl::OkStatus();
  }
  absl::Status Rename(std::string_view from, std::string_view to) override {
    auto it = files_.find(std::string(from));
    if (it == files_.end()) return absl::NotFoundError("no such file");
    std::string bytes = std::move(it->second);
    files_.erase(it);
    files_[std::string(to)] = std::move(bytes);
    return absl::OkStatus();
  }
  absl::Status Remove(std::string_view file) override {
    files_.erase(std::string(file));
    return absl::OkStatus();
  }
  std::vector<std::string> List(std::string_view prefix) override {
    std::vector<std::string> out;
    for (const auto& [name, bytes] : files_) {
      if (name.rfind(prefix, 0) == 0) out.push_back(name);
    }
    return out;
  }
  void Sync(std::string_view file, SyncCallback done) override { pending_.push_back(std::move(done)); }

  // Completes every pending sync (and any they start), in order.
  void RunSyncs() {
    while (!pending_.empty()) {
      SyncCallback cb = std::move(pending_.front());
      pending_.erase(pending_.begin());
      cb(absl::OkStatus());
    }
  }
  std::map<std::string, std::string>& files() { return files_; }

 private:
  std::map<std::string, std::string> files_;
  std::vector<SyncCallback> pending_;
};

}  // namespace qdsim::raft::testing

#endif  // QDSIM_TESTS_NODE_RAFT_MEM_DISK_H_
