#include "real/runtime/posix_disk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "node/world/status_macros.h"
#include "node/world/strings.h"

namespace qdsim::real {
namespace {

absl::Status ErrnoStatus(int err, std::string_view op, std::string_view path) {
  const std::string message = absl::StrCat(world::Sv(op), " ", world::Sv(path), ": ", strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR: return absl::NotFoundError(message);
    case ENOSPC:
    case EDQUOT: return absl::ResourceExhaustedError(message);
    case EIO: return absl::DataLossError(message);
    default: return absl::InternalError(message);
  }
}

// ErrnoStatus for the current errno, read before the path is built (building it allocates).
absl::Status FileErrno(std::string_view op, const std::string& root, std::string_view file) {
  const int err = errno;
  return ErrnoStatus(err, op, absl::StrCat(root, "/", world::Sv(file)));
}

// The directory holding `name` ("" for the root).
std::string_view ParentOf(std::string_view name) {
  const size_t slash = name.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : name.substr(0, slash);
}

// Checks the complete components of a name or prefix (split by '/').
absl::Status CheckComponents(std::string_view components, std::string_view whole) {
  size_t start = 0;
  while (start <= components.size()) {
    const size_t end = std::min(components.find('/', start), components.size());
    const std::string_view part = components.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid file name \"", world::Sv(whole), "\": empty, \".\" or \"..\" component"));
    }
    start = end + 1;
  }
  return absl::OkStatus();
}

// pwrite until all of `data` is written; returns 0 or the errno of the failure.
int PwriteAll(int fd, std::string_view data, uint64_t offset) {
  while (!data.empty()) {
    const ssize_t n = pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return 0;
}

// Appends to `out` the names (relative to `root`) of the regular files under `dir`, recursively.
void ListTree(const std::string& root, const std::string& dir, std::vector<std::string>& out) {
  DIR* d = opendir(dir.empty() ? root.c_str() : absl::StrCat(root, "/", dir).c_str());
  if (d == nullptr) return;
  while (const dirent* entry = readdir(d)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    const std::string rel = dir.empty() ? std::string(name) : absl::StrCat(dir, "/", world::Sv(name));
    unsigned char type = entry->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st;
      if (lstat(absl::StrCat(root, "/", rel).c_str(), &st) != 0) continue;
      type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
    }
    if (type == DT_DIR) ListTree(root, rel, out);
    if (type == DT_REG) out.push_back(rel);
  }
  closedir(d);
}

// Descriptors a sync works on, closed when the job is done or dropped unstarted.
struct SyncJob {
  std::string file_path;
  int file_fd = -1;                               // -1: the file does not exist, only directories are synced
  std::vector<std::pair<std::string, int>> dirs;  // (path, fd)

  ~SyncJob() {
    if (file_fd >= 0) close(file_fd);
    for (const auto& [path, fd] : dirs) close(fd);
  }

  absl::Status Run() const {
    if (file_fd >= 0 && fdatasync(file_fd) != 0) return ErrnoStatus(errno, "fdatasync", file_path);
    for (const auto& [path, fd] : dirs) {
      if (fsync(fd) != 0) return ErrnoStatus(errno, "fsync directory", path);
    }
    return absl::OkStatus();
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<PosixDisk>> PosixDisk::Open(std::string root, BlockingPool& pool,
                                                           Options options) {
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (root.empty()) return absl::InvalidArgumentError("empty storage directory");
  // mkdir -p, one component at a time.
  for (size_t slash = root.find('/', 1);; slash = root.find('/', slash + 1)) {
    const std::string dir = root.substr(0, slash);
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoStatus(errno, "mkdir", dir);
    if (slash == std::string::npos) break;
  }
  struct stat st;
  if (stat(root.c_str(), &st) != 0) return ErrnoStatus(errno, "stat", root);
  if (!S_ISDIR(st.st_mode)) return absl::FailedPreconditionError(absl::StrCat(root, " is not a directory"));
  options.max_open_files = std::max<size_t>(options.max_open_files, 1);
  return std::unique_ptr<PosixDisk>(new PosixDisk(std::move(root), pool, options));
}

PosixDisk::PosixDisk(std::string root, BlockingPool& pool, Options options)
    : root_(std::move(root)), pool_(pool), options_(options) {}

PosixDisk::~PosixDisk() {
  for (const auto& [name, cached] : fds_) close(cached.fd);
}

absl::Status PosixDisk::CheckName(std::string_view file) {
  if (file.empty()) return absl::InvalidArgumentError("empty file name");
  if (file.front() == '/') {
    return absl::InvalidArgumentError(absl::StrCat("absolute file name \"", world::Sv(file), "\""));
  }
  if (file.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError("file name contains a NUL byte");
  }
  return CheckComponents(file, file);
}

std::string PosixDisk::PathOf(std::string_view file) const {
  return absl::StrCat(root_, "/", world::Sv(file));
}

absl::StatusOr<int> PosixDisk::FdFor(std::string_view file, bool create, bool* created) {
  if (created != nullptr) *created = false;
  if (auto it = fds_.find(file); it != fds_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return it->second.fd;
  }
  const std::string path = PathOf(file);
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create) {
    RETURN_IF_ERROR(CreateParents(file));
    fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      MarkDirChanged(ParentOf(file));
      if (created != nullptr) *created = true;
    }
  }
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  lru_.emplace_front(file);
  fds_.emplace(std::string(file), CachedFd{fd, lru_.begin()});
  while (fds_.size() > options_.max_open_files) CloseCached(lru_.back());
  return fd;
}

absl::Status PosixDisk::CreateParents(std::string_view file) {
  for (size_t slash = file.find('/'); slash != std::string_view::npos; slash = file.find('/', slash + 1)) {
    const std::string_view dir = file.substr(0, slash);
    const std::string path = PathOf(dir);
    if (mkdir(path.c_str(), 0755) == 0) {
      MarkDirChanged(ParentOf(dir));
    } else if (errno != EEXIST) {
      return ErrnoStatus(errno, "mkdir", path);
    }
  }
  return absl::OkStatus();
}

void PosixDisk::CloseCached(std::string_view file) {
  auto it = fds_.find(file);
  if (it == fds_.end()) return;
  close(it->second.fd);
  lru_.erase(it->second.lru);
  fds_.erase(it);
}

void PosixDisk::MarkDirChanged(std::string_view dir) {
  unsynced_dirs_.insert_or_assign(std::string(dir), ++dir_changes_);
}

absl::Status PosixDisk::WriteUndoable(std::string_view file, int fd, uint64_t offset, std::string_view data,
                                      bool created) {
  struct stat st;
  if (fstat(fd, &st) != 0) return FileErrno("fstat", root_, file);
  const uint64_t old_size = static_cast<uint64_t>(st.st_size);
  // Bytes this write overwrites, kept so a failed write can be undone (overwrites are rare and
  // small here: slot updates; appends save nothing).
  std::string overwritten;
  if (offset < old_size && !data.empty()) {
    ASSIGN_OR_RETURN(overwritten,
                     ReadFd(file, fd, offset, std::min<uint64_t>(data.size(), old_size - offset)));
  }
  const int err = PwriteAll(fd, data, offset);
  if (err == 0) return absl::OkStatus();
  // Undo: nothing of a failed write may remain applied (best effort for errors other than ENOSPC).
  if (created) {
    CloseCached(file);
    unlink(PathOf(file).c_str());
    MarkDirChanged(ParentOf(file));
  } else {
    [[maybe_unused]] int ignored = ftruncate(fd, static_cast<off_t>(old_size));
    if (!overwritten.empty()) PwriteAll(fd, overwritten, offset);
  }
  return ErrnoStatus(err, "write", PathOf(file));
}

absl::Status PosixDisk::Append(std::string_view file, std::string_view data) {
  RETURN_IF_ERROR(CheckName(file));
  bool created = false;
  ASSIGN_OR_RETURN(const int fd, FdFor(file, /*create=*/true, &created));
  struct stat st;
  if (fstat(fd, &st) != 0) return FileErrno("fstat", root_, file);
  return WriteUndoable(file, fd, static_cast<uint64_t>(st.st_size), data, created);
}

absl::Status PosixDisk::WriteAt(std::string_view file, uint64_t offset, std::string_view data) {
  RETURN_IF_ERROR(CheckName(file));
  bool created = false;
  ASSIGN_OR_RETURN(const int fd, FdFor(file, /*create=*/true, &created));
  // pwrite past the end leaves a hole, which reads as zeros: the contract's zero fill.
  return WriteUndoable(file, fd, offset, data, created);
}

absl::StatusOr<std::string> PosixDisk::ReadFd(std::string_view file, int fd, uint64_t offset,
                                              uint64_t length) {
  struct stat st;
  if (fstat(fd, &st) != 0) return FileErrno("fstat", root_, file);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (offset >= size) return std::string();
  // Sized from the file, not from `length`, so a huge requested length allocates nothing extra.
  std::string out(std::min(length, size - offset), '\0');
  size_t have = 0;
  while (have < out.size()) {
    const ssize_t n = pread(fd, out.data() + have, out.size() - have, static_cast<off_t>(offset + have));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FileErrno("read", root_, file);
    if (n == 0) break;  // cut short by someone else; return what is there
    have += static_cast<size_t>(n);
  }
  out.resize(have);
  return out;
}

absl::StatusOr<std::string> PosixDisk::Read(std::string_view file, uint64_t offset, uint64_t length) {
  RETURN_IF_ERROR(CheckName(file));
  ASSIGN_OR_RETURN(const int fd, FdFor(file, /*create=*/false));
  return ReadFd(file, fd, offset, length);
}

absl::StatusOr<std::string> PosixDisk::ReadAll(std::string_view file) { return Read(file, 0, UINT64_MAX); }

absl::StatusOr<uint64_t> PosixDisk::Size(std::string_view file) {
  RETURN_IF_ERROR(CheckName(file));
  ASSIGN_OR_RETURN(const int fd, FdFor(file, /*create=*/false));
  struct stat st;
  if (fstat(fd, &st) != 0) return FileErrno("fstat", root_, file);
  return static_cast<uint64_t>(st.st_size);
}

absl::Status PosixDisk::Truncate(std::string_view file, uint64_t size) {
  ASSIGN_OR_RETURN(const uint64_t current, Size(file));
  if (current <= size) return absl::OkStatus();
  ASSIGN_OR_RETURN(const int fd, FdFor(file, /*create=*/false));
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) return FileErrno("ftruncate", root_, file);
  return absl::OkStatus();
}

absl::Status PosixDisk::Rename(std::string_view from, std::string_view to) {
  RETURN_IF_ERROR(CheckName(from));
  RETURN_IF_ERROR(CheckName(to));
  const std::string from_path = PathOf(from);
  struct stat st;
  if (lstat(from_path.c_str(), &st) != 0) return ErrnoStatus(errno, "rename", from_path);
  // Directories are invisible in this view: renaming one would move many files at once.
  if (!S_ISREG(st.st_mode)) return absl::NotFoundError(absl::StrCat("rename ", from_path, ": not a file"));
  RETURN_IF_ERROR(CreateParents(to));
  const std::string to_path = PathOf(to);
  if (rename(from_path.c_str(), to_path.c_str()) != 0) {
    const int err = errno;
    return ErrnoStatus(err, absl::StrCat("rename to ", to_path, " from"), from_path);
  }
  // `to`'s cached descriptor now points at the replaced (unlinked) file; `from`'s name is gone.
  CloseCached(from);
  CloseCached(to);
  MarkDirChanged(ParentOf(from));
  MarkDirChanged(ParentOf(to));
  return absl::OkStatus();
}

absl::Status PosixDisk::Remove(std::string_view file) {
  RETURN_IF_ERROR(CheckName(file));
  CloseCached(file);
  const std::string path = PathOf(file);
  if (unlink(path.c_str()) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return absl::OkStatus();
    return ErrnoStatus(errno, "unlink", path);
  }
  MarkDirChanged(ParentOf(file));
  return absl::OkStatus();
}

std::vector<std::string> PosixDisk::List(std::string_view prefix) {
  // Only the directory named by the prefix's complete components can hold matches.
  const size_t slash = prefix.rfind('/');
  const std::string dir(slash == std::string_view::npos ? std::string_view() : prefix.substr(0, slash));
  if (!prefix.empty() && prefix.front() == '/') return {};
  if (!dir.empty() && !CheckComponents(dir, prefix).ok()) return {};
  std::vector<std::string> names;
  ListTree(root_, dir, names);
  names.erase(std::remove_if(names.begin(), names.end(),
                             [&](const std::string& n) { return !absl::StartsWith(n, world::Sv(prefix)); }),
              names.end());
  std::sort(names.begin(), names.end());
  return names;
}

void PosixDisk::Sync(std::string_view file, SyncCallback done) {
  auto job = std::make_shared<SyncJob>();
  absl::Status early = CheckName(file);
  if (early.ok()) {
    absl::StatusOr<int> fd = FdFor(file, /*create=*/false);
    // A sync of a missing file still makes directory changes (its removal, say) durable.
    if (fd.ok()) {
      job->file_path = PathOf(file);
      job->file_fd = fcntl(*fd, F_DUPFD_CLOEXEC, 0);  // the cache may close *fd meanwhile
      if (job->file_fd < 0) early = ErrnoStatus(errno, "dup", job->file_path);
    } else if (!absl::IsNotFound(fd.status())) {
      early = fd.status();
    }
  }
  for (const auto& [dir, change] : unsynced_dirs_) {
    if (!early.ok()) break;
    const std::string path = dir.empty() ? root_ : PathOf(dir);
    const int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      job->dirs.emplace_back(path, fd);
    } else if (errno != ENOENT) {  // a directory that no longer exists needs no sync
      early = ErrnoStatus(errno, "open directory", path);
    }
  }
  std::weak_ptr<bool> alive = alive_;
  if (!early.ok()) {
    pool_.loop().Post([alive, done = std::move(done), early] {
      if (alive.lock()) done(early);
    });
    return;
  }
  const uint64_t seq = dir_changes_;
  pool_.Run<absl::Status>([job] { return job->Run(); },
                          [this, alive, seq, done = std::move(done)](absl::Status status) {
                            if (!alive.lock()) return;
                            if (status.ok()) ForgetSyncedDirs(seq);
                            done(std::move(status));
                          });
}

void PosixDisk::ForgetSyncedDirs(uint64_t seq) {
  for (auto it = unsynced_dirs_.begin(); it != unsynced_dirs_.end();) {
    it = it->second <= seq ? unsynced_dirs_.erase(it) : std::next(it);
  }
}

}  // namespace qdsim::real
