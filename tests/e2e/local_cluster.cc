#include "tests/e2e/local_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#ifndef QDNODE_BINARY
#error "QDNODE_BINARY must name the qdnode executable"
#endif

extern char** environ;

namespace qdsim::e2e {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

int Connect(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Reads until the peer closes or the deadline passes.
std::string ReadAll(int fd, Clock::time_point deadline) {
  std::string out;
  char buf[64 * 1024];
  while (true) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

HttpResult Http(uint16_t port, const std::string& method, const std::string& target, const std::string& body,
                const std::vector<std::pair<std::string, std::string>>& headers, milliseconds timeout) {
  HttpResult r;
  const int fd = Connect(port);
  if (fd < 0) {
    r.error = std::string("connect: ") + std::strerror(errno);
    return r;
  }
  std::ostringstream req;
  req << method << " " << target << " HTTP/1.1\r\nHost: 127.0.0.1:" << port << "\r\nConnection: close\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req << "Content-Type: application/json\r\nContent-Length: " << body.size() << "\r\n";
  }
  for (const auto& [k, v] : headers) req << k << ": " << v << "\r\n";
  req << "\r\n" << body;
  if (!SendAll(fd, req.str())) {
    r.error = "send failed";
    ::close(fd);
    return r;
  }
  const std::string raw = ReadAll(fd, Clock::now() + timeout);
  ::close(fd);
  const size_t head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos) {
    r.error = raw.empty() ? "no answer" : "malformed answer: " + raw.substr(0, 200);
    return r;
  }
  r.status = std::atoi(raw.c_str() + 9);
  r.body = raw.substr(head_end + 4);
  r.json = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (r.json.is_discarded()) r.json = nullptr;
  return r;
}

std::string RawHttp(uint16_t port, const std::string& bytes, milliseconds timeout) {
  const int fd = Connect(port);
  if (fd < 0) return "";
  SendAll(fd, bytes);
  std::string out = ReadAll(fd, Clock::now() + timeout);
  ::close(fd);
  return out;
}

uint16_t FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool WaitFor(const std::function<bool()>& done, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return done();
}

LocalCluster::LocalCluster(const std::string& name) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp ? tmp : "/tmp") + "/qdsim-e2e-" + name + "-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  dir_ = ::mkdtemp(buf.data()) ? buf.data() : pattern;
}

LocalCluster::~LocalCluster() {
  for (auto& [i, p] : peers_) {
    if (p.pid > 0) Kill(i);
  }
  if (std::getenv("QDSIM_E2E_KEEP") != nullptr) {
    std::cerr << "e2e: cluster kept in " << dir_ << "\n";
  } else {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

bool LocalCluster::Start(int n, const std::map<std::string, std::string>& env) {
  for (int i = 0; i < n; ++i) {
    if (AddPeer(env) == 0) return false;
  }
  return true;
}

int LocalCluster::AddPeer(const std::map<std::string, std::string>& env, bool give_uri) {
  const int i = size() + 1;
  Peer& p = peers_[i];
  p.http_port = FreePort();
  p.p2p_port = FreePort();
  p.dir = dir_ + "/peer" + std::to_string(i);
  p.env = env;
  p.give_uri = give_uri;
  fs::create_directories(p.dir);
  if (!Launch(i) || !WaitReady(i)) return 0;
  return i;
}

bool LocalCluster::Launch(int i, const std::vector<std::string>& extra_args) {
  Peer& p = peers_.at(i);
  std::vector<std::string> args = {QDNODE_BINARY};
  if (p.give_uri) {
    args.push_back("--uri");
    args.push_back("http://127.0.0.1:" + std::to_string(p.p2p_port));
  }
  if (i != 1) {
    args.push_back("--bootstrap");
    args.push_back("http://127.0.0.1:" + std::to_string(peers_.at(1).p2p_port));
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    const size_t eq = kv.find('=');
    if (eq != std::string::npos && kv.rfind("QDRANT", 0) != 0) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  env["QDRANT__CLUSTER__ENABLED"] = "true";
  env["QDRANT__SERVICE__HOST"] = "127.0.0.1";
  env["QDRANT__SERVICE__HTTP_PORT"] = std::to_string(p.http_port);
  env["QDRANT__CLUSTER__P2P__PORT"] = std::to_string(p.p2p_port);
  env["QDRANT__STORAGE__STORAGE_PATH"] = p.dir + "/storage";
  env["QDRANT__STORAGE__SNAPSHOTS_PATH"] = p.dir + "/snapshots";
  for (const auto& [k, v] : p.env) env[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);

  const std::string log = p.dir + "/qdnode.log";
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    if (::chdir(p.dir.c_str()) != 0) _exit(126);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    ::execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  p.pid = pid;
  return true;
}

bool LocalCluster::alive(int i) {
  Peer& p = peers_.at(i);
  if (p.pid <= 0) return false;
  int status = 0;
  if (::waitpid(p.pid, &status, WNOHANG) == p.pid) {
    p.pid = 0;
    return false;
  }
  return true;
}

bool LocalCluster::WaitReady(int i, milliseconds timeout) {
  return WaitFor(
      [&] {
        if (!alive(i)) return true;  // gave up: reported below
        return Http(http_port(i), "GET", "/readyz", "", {}, milliseconds(1000)).status == 200;
      },
      timeout) &&
         alive(i);
}

void LocalCluster::Kill(int i) {
  Peer& p = peers_.at(i);
  if (p.pid <= 0) return;
  ::kill(p.pid, SIGKILL);
  int status = 0;
  ::waitpid(p.pid, &status, 0);
  p.pid = 0;
}

int LocalCluster::Terminate(int i) {
  Peer& p = peers_.at(i);
  if (p.pid <= 0) return -1;
  ::kill(p.pid, SIGTERM);
  const auto deadline = Clock::now() + milliseconds(15000);
  int status = 0;
  while (Clock::now() < deadline) {
    if (::waitpid(p.pid, &status, WNOHANG) == p.pid) {
      p.pid = 0;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  Kill(i);
  return -1;
}

bool LocalCluster::Restart(int i, bool new_p2p_port, const std::vector<std::string>& extra_args) {
  if (alive(i)) return false;
  if (new_p2p_port) peers_.at(i).p2p_port = FreePort();
  return Launch(i, extra_args) && WaitReady(i);
}

namespace {
std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

std::string LocalCluster::log(int i) const {
  std::string text = ReadAll(peers_.at(i).dir + "/qdnode.log");
  return text.size() > 4000 ? "..." + text.substr(text.size() - 4000) : text;
}

bool LocalCluster::LogContains(int i, const std::string& text) const {
  return ReadAll(peers_.at(i).dir + "/qdnode.log").find(text) != std::string::npos;
}

nlohmann::json LocalCluster::ClusterInfo(int i) {
  HttpResult r = Http(http_port(i), "GET", "/cluster", "", {}, milliseconds(3000));
  if (r.status != 200 || !r.json.is_object()) return nullptr;
  return r.json["result"];
}

}  // namespace qdsim::e2e
