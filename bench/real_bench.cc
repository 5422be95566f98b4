// Real qdnode processes on loopback: one 3-peer cluster (tests/e2e LocalCluster) for the whole
// program, with collections `x` and `q` (128-dim Dot vectors, 6 shards, replication factor 2) and
// `meta` (1 shard, replication factor 2, 4-dim).
// Every figure is reported beside a limit measured in the same run, and as a ratio to it, because
// bare times on a shared machine mean little.
//
//   BM_UpsertThroughput   4 clients, each with one keep-alive connection per peer (round-robin over
//                         the peers), PUT /collections/x/points?wait=true with batches of 100 random
//                         points, 1200 batches, every point a fresh id (inserts, not overwrites).
//     points_per_s, batches_per_s, batch_p50_ms, batch_p99_ms
//     noop_per_s          limit: GET /healthz per second by the same 4 clients on the same
//                         connections, i.e. batches per second if a batch cost one loopback round trip
//     vs_noop             batches_per_s / noop_per_s
//     fsync_per_s         limit: 1 / p50 of (write 4 KiB + fdatasync) in the cluster's directory,
//                         sampled just before and just after the loop (as for every fsync figure); each
//                         shard replica syncs its WAL once per batch, one operation after another
//     vs_fsync            batches_per_s / fsync_per_s
//     peers_cores_busy    CPU seconds of the 3 qdnode processes per wall second of the loop (from
//                         /proc): near the machine's core count means the figure is CPU-bound
//     peers_cpu_ms_per_batch  the same CPU time per acknowledged batch
//   BM_QueryLatency       one client, POST /collections/q/points/query (random vector, limit 10) on
//                         collection `q` (same settings as `x`, filled first with 20k points), each
//                         followed by GET /healthz on the same connection, rotating over the peers.
//     p50_us, p99_us, rtt_p50_us, rtt_p99_us, p50_vs_rtt, p99_vs_rtt
//     peers_cpu_us_per_query  the peers' CPU time per query (its /healthz included)
//   BM_MetadataCommit     PATCH /collections/meta write_consistency_factor 1 <-> 2, one after another,
//                         rotating over the peers: one Raft entry, fsynced on a majority and applied.
//     p50_ms, p99_ms, leader_p50_ms, follower_p50_ms, fsync_p50_ms, fsync_p99_ms, p50_vs_fsync,
//     p99_vs_fsync
//   BM_CollectionCreateDelete  PUT then DELETE of a 1-shard RF-2 collection (several Raft entries).
//     create_p50_ms, delete_p50_ms, fsync_p50_ms, create_vs_fsync, delete_vs_fsync
//
// After the benchmarks the program prints a summary table (figure, limit, ratio), every failed or
// slow (> 1 s) request it saw, and the warning/error lines of the peers' logs. The peers' logs are
// <cluster dir>/peerN/qdnode.log; QDSIM_E2E_KEEP=1 keeps the directory.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/e2e/local_cluster.h"

namespace qdsim {
namespace {

using e2e::LocalCluster;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kPeers = 3;
constexpr int kDim = 128;
constexpr int kBatchSize = 100;
constexpr int kQueryPoints = 20000;  // points in collection `q`
constexpr int kVectorPool = 20000;  // distinct random vectors; point id p gets vector p % kVectorPool
constexpr int kClients = 4;
constexpr int kShards = 6;
constexpr int kReplicationFactor = 2;
constexpr double kSlowRequestMs = 1000;

double MicrosSince(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

// The p-th percentile (0..100) of `samples`, nearest rank; 0 if empty.
double Percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(samples.size()) + 0.5);
  return samples[std::min(samples.size() - 1, rank == 0 ? 0 : rank - 1)];
}

// ---- What went wrong, and the summary table, printed after the benchmarks.

struct SummaryRow {
  std::string figure;  // e.g. "upsert batches/s"
  double value;
  std::string limit;   // what it is compared with
  double limit_value;
  double ratio;
};

std::mutex g_report_mu;
std::vector<SummaryRow> g_summary;     // guarded by g_report_mu
std::vector<std::string> g_problems;   // first few failed or slow requests, guarded by g_report_mu
uint64_t g_problem_count = 0;          // all of them, guarded by g_report_mu

void AddRow(std::string figure, double value, std::string limit, double limit_value, double ratio) {
  std::lock_guard<std::mutex> lock(g_report_mu);
  g_summary.push_back({std::move(figure), value, std::move(limit), limit_value, ratio});
}

void NoteProblem(const std::string& what) {
  std::lock_guard<std::mutex> lock(g_report_mu);
  if (++g_problem_count <= 20) g_problems.push_back(what);
}

// ---- A blocking HTTP/1.1 client on one keep-alive connection (the harness's Http() opens one per
// request, which would measure connection set-up). Thread-safety: none; one thread per client.

struct Reply {
  int status = 0;     // 0: no answer (error says why)
  std::string body;
  std::string error;
  double us = 0;      // wall time of the exchange, reconnects included
};

class KeepAliveClient {
 public:
  explicit KeepAliveClient(uint16_t port) : port_(port) {}
  ~KeepAliveClient() { Close(); }
  KeepAliveClient(const KeepAliveClient&) = delete;
  KeepAliveClient& operator=(const KeepAliveClient&) = delete;

  // Sends one request and reads its answer. A connection the server closed while idle is reopened
  // and the request sent again once (every request here is idempotent). Failed (status 0 or >= 400)
  // and slow answers are noted for the final report.
  Reply Send(std::string_view method, std::string_view target, std::string_view body = {}) {
    std::string request;
    request.reserve(body.size() + 160);
    request.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1:");
    request.append(std::to_string(port_)).append("\r\n");
    if (!body.empty()) {
      request.append("Content-Type: application/json\r\nContent-Length: ").append(std::to_string(body.size()));
      request.append("\r\n");
    }
    request.append("\r\n").append(body);
    Reply r;
    const auto start = Clock::now();
    bool retry = false;
    if (!Exchange(request, r, retry) && retry) {
      ++reopened_;
      r = Reply{};
      Exchange(request, r, retry);
    }
    r.us = MicrosSince(start);
    if (r.status == 0 || r.status >= 400 || r.us > kSlowRequestMs * 1000) {
      NoteProblem(std::string(method) + " " + std::string(target) + " (port " + std::to_string(port_) + ") -> " +
                  std::to_string(r.status) + " after " + std::to_string(r.us / 1000) + " ms: " +
                  r.body.substr(0, 300) + r.error);
    }
    return r;
  }

  uint64_t reopened() const { return reopened_; }

 private:
  // One attempt. `retry` is set when a reused connection turned out closed before any answer.
  bool Exchange(const std::string& request, Reply& r, bool& retry) {
    const bool reused = fd_ >= 0;
    if (!reused && !Connect(r.error)) return false;
    if (!SendAll(request)) {
      retry = reused;
      r.error = "send failed";
      Close();
      return false;
    }
    size_t head_end;
    while ((head_end = in_.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadMore(r.error)) {
        retry = reused && in_.empty();
        Close();
        return false;
      }
    }
    if (in_.rfind("HTTP/1.", 0) != 0 || in_.size() < 12) {
      r.error = "malformed answer: " + in_.substr(0, 200);
      Close();
      return false;
    }
    r.status = std::atoi(in_.c_str() + 9);
    size_t length = 0;
    bool close = false;
    std::string head = in_.substr(0, head_end);
    for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (size_t p = head.find("\r\ncontent-length:"); p != std::string::npos) {
      length = std::strtoull(head.c_str() + p + 17, nullptr, 10);
    }
    if (size_t p = head.find("\r\nconnection:"); p != std::string::npos) {
      close = head.compare(head.find_first_not_of(' ', p + 13), 5, "close") == 0;
    }
    const size_t total = head_end + 4 + length;
    while (in_.size() < total) {
      if (!ReadMore(r.error)) {
        Close();
        return false;
      }
    }
    r.body = in_.substr(head_end + 4, length);
    in_.erase(0, total);
    if (close) Close();
    return true;
  }

  bool Connect(std::string& error) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      error = std::string("connect: ") + std::strerror(errno);
      Close();
      return false;
    }
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return true;
  }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    in_.clear();
  }

  bool SendAll(const std::string& bytes) {
    for (size_t sent = 0; sent < bytes.size();) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Appends what arrives within 60 s to in_; false on timeout, error or end of stream.
  bool ReadMore(std::string& error) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 60000) <= 0) {
      error = "no answer within 60 s";
      return false;
    }
    char buf[64 * 1024];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      error = n == 0 ? "connection closed" : std::string("recv: ") + std::strerror(errno);
      return false;
    }
    in_.append(buf, static_cast<size_t>(n));
    return true;
  }

  uint16_t port_;        // the peer's REST port on 127.0.0.1
  int fd_ = -1;          // the connection, -1 when closed
  std::string in_;       // bytes received and not yet consumed
  uint64_t reopened_ = 0;  // times a closed keep-alive connection was reopened for a retry
};

// ---- The cluster, started on first use and stopped at the end of main().

std::string RandomVector(std::mt19937& rng) {
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::string out = "[";
  char buf[32];
  for (int d = 0; d < kDim; ++d) {
    if (d > 0) out += ',';
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value(rng), std::chars_format::fixed, 5);
    out.append(buf, end);
  }
  return out + "]";
}

struct Setup {
  std::unique_ptr<LocalCluster> cluster;
  std::string error;                       // why start-up failed; empty if it did not
  std::vector<std::string> vectors;        // kVectorPool JSON arrays of kDim floats
  std::vector<std::string> queries;        // query bodies, limit 10
  std::atomic<uint64_t> next_batch{0};     // batches upserted into `x` so far; batch b holds ids [100 b, 100 b + 100)
  std::vector<uint64_t> peer_ids;          // peer_ids[i - 1]: the id of peer i

  uint16_t port(int i) const { return cluster->http_port(i); }

  // The upsert body of points [first, first + kBatchSize).
  std::string BatchBody(uint64_t first) const {
    std::string body;
    body.reserve(kBatchSize * (vectors[0].size() + 32));
    body += "{\"points\":[";
    for (uint64_t id = first; id < first + kBatchSize; ++id) {
      if (id > first) body += ',';
      body.append("{\"id\":").append(std::to_string(id)).append(",\"vector\":");
      body.append(vectors[id % kVectorPool]).append("}");
    }
    return body + "]}";
  }
};

std::unique_ptr<Setup> g_setup;

bool AllReplicasActive(Setup& s, const std::string& collection) {
  for (int i = 1; i <= kPeers; ++i) {
    e2e::HttpResult r = e2e::Http(s.port(i), "GET", "/collections/" + collection + "/cluster", "", {}, milliseconds(3000));
    if (r.status != 200 || !r.json.is_object()) return false;
    const json& info = r.json["result"];
    if (!info["shard_transfers"].empty()) return false;
    for (const auto* list : {&info["local_shards"], &info["remote_shards"]}) {
      for (const auto& shard : *list) {
        if (shard["state"] != "Active") return false;
      }
    }
  }
  return true;
}

bool CreateCollection(Setup& s, const std::string& name, int dim, int shards) {
  const json body = {{"vectors", {{"size", dim}, {"distance", "Dot"}}},
                     {"shard_number", shards},
                     {"replication_factor", kReplicationFactor}};
  e2e::HttpResult r = e2e::Http(s.port(1), "PUT", "/collections/" + name, body.dump());
  if (r.status != 200) {
    s.error = "PUT /collections/" + name + " -> " + std::to_string(r.status) + " " + r.body + r.error;
    return false;
  }
  if (!e2e::WaitFor([&] { return AllReplicasActive(s, name); }, milliseconds(30000))) {
    s.error = "replicas of " + name + " not all Active after 30 s";
    return false;
  }
  return true;
}

bool StartCluster(Setup& s) {
  s.cluster = std::make_unique<LocalCluster>("bench_real");
  std::cerr << "qdsim_bench_real: starting " << kPeers << " qdnode peers, logs in " << s.cluster->dir()
            << "/peerN/qdnode.log (kept if QDSIM_E2E_KEEP=1)\n";
  if (!s.cluster->Start(kPeers)) {
    s.error = "peer " + std::to_string(s.cluster->size()) + " did not start: " + s.cluster->log(s.cluster->size());
    return false;
  }
  // Every peer a voter that knows the leader, so the metadata majority is 2 of 3.
  const bool agreed = e2e::WaitFor(
      [&] {
        for (int i = 1; i <= kPeers; ++i) {
          json info = s.cluster->ClusterInfo(i);
          if (info.is_null() || info["raft_info"]["leader"].is_null() || info["raft_info"]["is_voter"] != true ||
              info["peers"].size() != kPeers) {
            return false;
          }
        }
        return true;
      },
      milliseconds(30000));
  if (!agreed) {
    s.error = "peers did not agree on 3 voters and a leader: " + s.cluster->ClusterInfo(1).dump();
    return false;
  }
  for (int i = 1; i <= kPeers; ++i) s.peer_ids.push_back(s.cluster->ClusterInfo(i)["peer_id"].get<uint64_t>());
  return CreateCollection(s, "x", kDim, kShards) && CreateCollection(s, "q", kDim, kShards) &&
         CreateCollection(s, "meta", 4, 1);
}

// The running cluster, started on the first call; nullptr (and `error` set) if it could not start.
Setup* TheCluster(std::string& error) {
  if (!g_setup) {
    g_setup = std::make_unique<Setup>();
    std::mt19937 rng(20240611);
    for (int v = 0; v < kVectorPool; ++v) g_setup->vectors.push_back(RandomVector(rng));
    for (int q = 0; q < 256; ++q) g_setup->queries.push_back("{\"query\":" + RandomVector(rng) + ",\"limit\":10}");
    StartCluster(*g_setup);
  }
  error = g_setup->error;
  return error.empty() ? g_setup.get() : nullptr;
}

// ---- Limits.

// Latency of writing 4 KiB and fdatasync-ing it, `n` times, in `dir` (the peers' file system),
// appended to `out`.
void SampleFsync(const std::string& dir, int n, std::vector<double>& out) {
  const std::string path = dir + "/fsync-probe";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const std::string block(4096, 'x');
  for (int i = 0; i < n; ++i) {
    const auto start = Clock::now();
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size()) || ::fdatasync(fd) != 0) break;
    out.push_back(MicrosSince(start));
  }
  ::close(fd);
  ::unlink(path.c_str());
}

// CPU seconds (user + system) used so far by this process's children, i.e. the qdnode peers.
double PeersCpuSeconds() {
  const pid_t self = ::getpid();
  double ticks = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    std::getline(in, stat);
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(paren + 2));  // from field 3 (state) on
    std::string state;
    long ppid = 0;
    fields >> state >> ppid;
    if (ppid != self) continue;
    std::string skip;
    for (int f = 5; f <= 13; ++f) fields >> skip;
    double utime = 0, stime = 0;
    fields >> utime >> stime;
    ticks += utime + stime;
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Each client's connections, one per peer (index 0 = peer 1).
using ClientConnections = std::vector<std::unique_ptr<KeepAliveClient>>;

ClientConnections ConnectToEveryPeer(Setup& s) {
  ClientConnections out;
  for (int i = 1; i <= kPeers; ++i) out.push_back(std::make_unique<KeepAliveClient>(s.port(i)));
  return out;
}

// GET /healthz per second by every client at once for `duration`, round-robin over the peers.
double NoopRequestsPerSecond(std::vector<ClientConnections>& clients, milliseconds duration) {
  std::atomic<uint64_t> answered{0};
  const auto start = Clock::now();
  const auto deadline = start + duration;
  std::vector<std::thread> threads;
  for (size_t c = 0; c < clients.size(); ++c) {
    threads.emplace_back([&, c] {
      for (size_t n = c; Clock::now() < deadline; ++n) {
        if (clients[c][n % kPeers]->Send("GET", "/healthz").status == 200) answered.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  return static_cast<double>(answered.load()) / std::chrono::duration<double>(Clock::now() - start).count();
}

// ---- Benchmarks.

void BM_UpsertThroughput(benchmark::State& state) {
  std::string error;
  Setup* s = TheCluster(error);
  if (s == nullptr) return state.SkipWithError(error.c_str());
  constexpr int kBatchesPerClientPerIteration = 10;
  std::vector<ClientConnections> clients;
  for (int c = 0; c < kClients; ++c) clients.push_back(ConnectToEveryPeer(*s));
  const double noop_per_s = NoopRequestsPerSecond(clients, milliseconds(1000));
  std::vector<double> fsync_us;
  SampleFsync(s->cluster->dir(), 50, fsync_us);

  std::mutex mu;
  std::vector<double> batch_us;                 // guarded by mu
  uint64_t ok_batches = 0, failed_batches = 0;  // guarded by mu
  const double cpu0 = PeersCpuSeconds();
  const auto start = Clock::now();
  for (auto _ : state) {
    std::vector<std::thread> threads;
    for (int c = 0; c < kClients; ++c) {
      threads.emplace_back([&, c] {
        std::vector<double> mine;
        uint64_t ok = 0, failed = 0;
        for (int j = 0; j < kBatchesPerClientPerIteration; ++j) {
          const std::string body = s->BatchBody(s->next_batch.fetch_add(1) * kBatchSize);
          Reply r = clients[c][(c + j) % kPeers]->Send("PUT", "/collections/x/points?wait=true", body);
          mine.push_back(r.us);
          (r.status == 200 && r.body.find("\"completed\"") != std::string::npos ? ok : failed)++;
        }
        std::lock_guard<std::mutex> lock(mu);
        batch_us.insert(batch_us.end(), mine.begin(), mine.end());
        ok_batches += ok;
        failed_batches += failed;
      });
    }
    for (auto& t : threads) t.join();
  }
  const double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  const double batches_per_s = static_cast<double>(ok_batches) / wall_s;
  const double peers_cpu_s = PeersCpuSeconds() - cpu0;
  SampleFsync(s->cluster->dir(), 50, fsync_us);
  const double fsync_p50_us = Percentile(fsync_us, 50);
  const double fsync_per_s = fsync_p50_us > 0 ? 1e6 / fsync_p50_us : 0;
  uint64_t reopened = 0;
  for (auto& connections : clients) {
    for (auto& k : connections) reopened += k->reopened();
  }
  state.counters["points_per_s"] = batches_per_s * kBatchSize;
  state.counters["batches_per_s"] = batches_per_s;
  state.counters["batch_p50_ms"] = Percentile(batch_us, 50) / 1000;
  state.counters["batch_p99_ms"] = Percentile(batch_us, 99) / 1000;
  state.counters["noop_per_s"] = noop_per_s;
  state.counters["vs_noop"] = noop_per_s > 0 ? batches_per_s / noop_per_s : 0;
  state.counters["fsync_per_s"] = fsync_per_s;
  state.counters["vs_fsync"] = fsync_per_s > 0 ? batches_per_s / fsync_per_s : 0;
  state.counters["failed_batches"] = static_cast<double>(failed_batches);
  state.counters["peers_cores_busy"] = peers_cpu_s / wall_s;
  state.counters["peers_cpu_ms_per_batch"] = ok_batches > 0 ? peers_cpu_s * 1000 / static_cast<double>(ok_batches) : 0;
  state.counters["reconnects"] = static_cast<double>(reopened);
  AddRow("upsert points/s", batches_per_s * kBatchSize, "-", 0, 0);
  AddRow("upsert: peers' CPU cores busy", peers_cpu_s / wall_s, "cores of the machine", std::thread::hardware_concurrency(),
         peers_cpu_s / wall_s / std::thread::hardware_concurrency());
  AddRow("upsert batches/s", batches_per_s, "GET /healthz/s, same 4 clients", noop_per_s,
         noop_per_s > 0 ? batches_per_s / noop_per_s : 0);
  AddRow("upsert batches/s", batches_per_s, "fsyncs/s (1 / p50 of 4 KiB + fdatasync)", fsync_per_s,
         fsync_per_s > 0 ? batches_per_s / fsync_per_s : 0);
}
BENCHMARK(BM_UpsertThroughput)->Iterations(30)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_QueryLatency(benchmark::State& state) {
  std::string error;
  Setup* s = TheCluster(error);
  if (s == nullptr) return state.SkipWithError(error.c_str());
  ClientConnections conns = ConnectToEveryPeer(*s);
  // Fill `q` once (a repeated run overwrites the same points, so it keeps kQueryPoints).
  for (uint64_t first = 0; first < kQueryPoints; first += kBatchSize) {
    conns[(first / kBatchSize) % kPeers]->Send("PUT", "/collections/q/points?wait=true", s->BatchBody(first));
  }
  Reply count = conns[0]->Send("POST", "/collections/q/points/count", "{\"exact\":true}");
  json counted = json::parse(count.body, nullptr, false);
  if (counted.is_discarded() || counted["result"]["count"] != kQueryPoints) {
    NoteProblem("POST /collections/q/points/count -> " + count.body + " (expected " +
                std::to_string(kQueryPoints) + ")");
  }
  std::vector<double> query_us, rtt_us;
  uint64_t n = 0, short_answers = 0;
  const double cpu0 = PeersCpuSeconds();
  for (auto _ : state) {
    KeepAliveClient& conn = *conns[n % kPeers];
    Reply q = conn.Send("POST", "/collections/q/points/query", s->queries[n % s->queries.size()]);
    ++n;
    query_us.push_back(q.us);
    if (q.status != 200) continue;
    json answer = json::parse(q.body, nullptr, false);
    if (answer.is_discarded() || answer["result"]["points"].size() != 10) ++short_answers;
    rtt_us.push_back(conn.Send("GET", "/healthz").us);
  }
  state.counters["peers_cpu_us_per_query"] = (PeersCpuSeconds() - cpu0) * 1e6 / static_cast<double>(n);
  if (short_answers > 0) NoteProblem(std::to_string(short_answers) + " queries answered with fewer than 10 points");
  const double p50 = Percentile(query_us, 50), p99 = Percentile(query_us, 99);
  const double rtt50 = Percentile(rtt_us, 50), rtt99 = Percentile(rtt_us, 99);
  state.counters["p50_us"] = p50;
  state.counters["p99_us"] = p99;
  state.counters["rtt_p50_us"] = rtt50;
  state.counters["rtt_p99_us"] = rtt99;
  state.counters["p50_vs_rtt"] = rtt50 > 0 ? p50 / rtt50 : 0;
  state.counters["p99_vs_rtt"] = rtt99 > 0 ? p99 / rtt99 : 0;
  AddRow("query p50 (us)", p50, "GET /healthz p50 (us)", rtt50, rtt50 > 0 ? p50 / rtt50 : 0);
  AddRow("query p99 (us)", p99, "GET /healthz p99 (us)", rtt99, rtt99 > 0 ? p99 / rtt99 : 0);
}
BENCHMARK(BM_QueryLatency)->Iterations(1500)->Unit(benchmark::kMicrosecond)->UseRealTime();


void BM_MetadataCommit(benchmark::State& state) {
  std::string error;
  Setup* s = TheCluster(error);
  if (s == nullptr) return state.SkipWithError(error.c_str());
  ClientConnections conns = ConnectToEveryPeer(*s);
  std::vector<double> fsync_us;
  SampleFsync(s->cluster->dir(), 50, fsync_us);
  const json leader = s->cluster->ClusterInfo(1)["raft_info"]["leader"];
  std::vector<double> all_us, leader_us, follower_us;
  uint64_t n = 0;
  for (auto _ : state) {
    const int via = static_cast<int>(n % kPeers);
    const std::string body = n % 2 == 0 ? R"({"write_consistency_factor":2})" : R"({"write_consistency_factor":1})";
    Reply r = conns[via]->Send("PATCH", "/collections/meta", body);
    ++n;
    if (r.status != 200) continue;
    all_us.push_back(r.us);
    (leader == s->peer_ids[via] ? leader_us : follower_us).push_back(r.us);
  }
  SampleFsync(s->cluster->dir(), 50, fsync_us);
  const double p50 = Percentile(all_us, 50), p99 = Percentile(all_us, 99);
  const double fsync50 = Percentile(fsync_us, 50), fsync99 = Percentile(fsync_us, 99);
  state.counters["p50_ms"] = p50 / 1000;
  state.counters["p99_ms"] = p99 / 1000;
  state.counters["leader_p50_ms"] = Percentile(leader_us, 50) / 1000;
  state.counters["follower_p50_ms"] = Percentile(follower_us, 50) / 1000;
  state.counters["fsync_p50_ms"] = fsync50 / 1000;
  state.counters["fsync_p99_ms"] = fsync99 / 1000;
  state.counters["p50_vs_fsync"] = fsync50 > 0 ? p50 / fsync50 : 0;
  state.counters["p99_vs_fsync"] = fsync99 > 0 ? p99 / fsync99 : 0;
  state.counters["failed"] = static_cast<double>(n - all_us.size());
  AddRow("PATCH collection p50 (ms)", p50 / 1000, "fsync p50 (ms)", fsync50 / 1000, fsync50 > 0 ? p50 / fsync50 : 0);
  AddRow("PATCH collection p99 (ms)", p99 / 1000, "fsync p99 (ms)", fsync99 / 1000, fsync99 > 0 ? p99 / fsync99 : 0);
  AddRow("PATCH via leader p50 (ms)", Percentile(leader_us, 50) / 1000, "fsync p50 (ms)", fsync50 / 1000,
         fsync50 > 0 ? Percentile(leader_us, 50) / fsync50 : 0);
  AddRow("PATCH via follower p50 (ms)", Percentile(follower_us, 50) / 1000, "fsync p50 (ms)", fsync50 / 1000,
         fsync50 > 0 ? Percentile(follower_us, 50) / fsync50 : 0);
}
BENCHMARK(BM_MetadataCommit)->Iterations(150)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CollectionCreateDelete(benchmark::State& state) {
  std::string error;
  Setup* s = TheCluster(error);
  if (s == nullptr) return state.SkipWithError(error.c_str());
  ClientConnections conns = ConnectToEveryPeer(*s);
  std::vector<double> fsync_us;
  SampleFsync(s->cluster->dir(), 50, fsync_us);
  const std::string body = R"({"vectors":{"size":4,"distance":"Dot"},"shard_number":1,"replication_factor":2})";
  std::vector<double> create_us, delete_us;
  uint64_t n = 0, failed = 0;
  for (auto _ : state) {
    KeepAliveClient& conn = *conns[n % kPeers];
    const std::string target = "/collections/tmp" + std::to_string(n++);
    Reply created = conn.Send("PUT", target, body);
    Reply deleted = conn.Send("DELETE", target);
    if (created.status == 200) create_us.push_back(created.us);
    if (deleted.status == 200 && deleted.body.find("true") != std::string::npos) delete_us.push_back(deleted.us);
    failed += (created.status != 200) + (deleted.status != 200);
  }
  SampleFsync(s->cluster->dir(), 50, fsync_us);
  const double create50 = Percentile(create_us, 50), delete50 = Percentile(delete_us, 50);
  const double fsync50 = Percentile(fsync_us, 50);
  state.counters["create_p50_ms"] = create50 / 1000;
  state.counters["delete_p50_ms"] = delete50 / 1000;
  state.counters["fsync_p50_ms"] = fsync50 / 1000;
  state.counters["create_vs_fsync"] = fsync50 > 0 ? create50 / fsync50 : 0;
  state.counters["delete_vs_fsync"] = fsync50 > 0 ? delete50 / fsync50 : 0;
  state.counters["failed"] = static_cast<double>(failed);
  AddRow("create collection p50 (ms)", create50 / 1000, "fsync p50 (ms)", fsync50 / 1000,
         fsync50 > 0 ? create50 / fsync50 : 0);
  AddRow("delete collection p50 (ms)", delete50 / 1000, "fsync p50 (ms)", fsync50 / 1000,
         fsync50 > 0 ? delete50 / fsync50 : 0);
}
BENCHMARK(BM_CollectionCreateDelete)->Iterations(20)->Unit(benchmark::kMillisecond)->UseRealTime();

// ---- The report after the benchmarks.

void PrintSummary() {
  std::lock_guard<std::mutex> lock(g_report_mu);
  std::printf("\n%-30s %12s   %-42s %12s %9s\n", "figure", "value", "limit measured in the same run", "limit",
              "ratio");
  for (const SummaryRow& row : g_summary) {
    if (row.limit == "-") {
      std::printf("%-30s %12.1f\n", row.figure.c_str(), row.value);
    } else {
      std::printf("%-30s %12.1f   %-42s %12.1f %9.3g\n", row.figure.c_str(), row.value, row.limit.c_str(),
                  row.limit_value, row.ratio);
    }
  }
  std::printf("\nfailed or slow (> %.0f ms) requests: %llu\n", kSlowRequestMs,
              static_cast<unsigned long long>(g_problem_count));
  for (const std::string& p : g_problems) std::printf("  %s\n", p.c_str());
}

// Lines of each peer's log that mention a warning or an error (the first few, and how many).
void PrintLogWarnings(const LocalCluster& cluster) {
  for (int i = 1; i <= cluster.size(); ++i) {
    std::ifstream in(cluster.dir() + "/peer" + std::to_string(i) + "/qdnode.log");
    std::string line;
    std::vector<std::string> shown;
    uint64_t count = 0, lines = 0;
    while (std::getline(in, line)) {
      ++lines;
      std::string lower = line;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower.find("warn") == std::string::npos && lower.find("error") == std::string::npos) continue;
      if (++count <= 5) shown.push_back(line.substr(0, 300));
    }
    std::printf("peer %d log: %llu lines, %llu mention a warning or an error\n", i,
                static_cast<unsigned long long>(lines), static_cast<unsigned long long>(count));
    for (const std::string& l : shown) std::printf("  %s\n", l.c_str());
  }
}

}  // namespace
}  // namespace qdsim

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  if (qdsim::g_setup) {
    qdsim::PrintSummary();
    if (qdsim::g_setup->cluster) qdsim::PrintLogWarnings(*qdsim::g_setup->cluster);
    std::fflush(stdout);
    qdsim::g_setup.reset();  // stops the peers; removes their directory unless QDSIM_E2E_KEEP is set
  }
  benchmark::Shutdown();
  return 0;
}
