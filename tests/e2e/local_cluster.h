// End-to-end test harness: real qdnode processes on loopback, and a small blocking HTTP client.
//
// LocalCluster starts peers as child processes (fork + exec of the qdnode binary), each with its
// own free ports, storage directory and log file under one temporary directory, configured the way
// an operator would: --uri / --bootstrap flags and QDRANT__… environment variables. Peers can be
// killed with SIGKILL, stopped with SIGTERM and restarted from their storage (optionally on a new
// p2p port, i.e. a new --uri). The destructor kills whatever is still running and removes the
// directory unless QDSIM_E2E_KEEP is set (then it prints where the logs are).
//
//   LocalCluster cluster("three_peers");
//   ASSERT_TRUE(cluster.Start(3));                      // peer 1 bootstraps, 2 and 3 join it
//   HttpResult r = Http(cluster.http_port(1), "GET", "/cluster");
//   cluster.Kill(2);
//   ASSERT_TRUE(cluster.Restart(2));
//
// Thread-safety: none; use from the test's thread.
#ifndef QDSIM_TESTS_E2E_LOCAL_CLUSTER_H_
#define QDSIM_TESTS_E2E_LOCAL_CLUSTER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nlohmann/json.hpp"

namespace qdsim::e2e {

using std::chrono::milliseconds;

struct HttpResult {
  int status = 0;        // 0 if no answer came (error says why)
  std::string body;
  nlohmann::json json;   // the body parsed, or null
  std::string error;     // transport-level failure
};

// One request on a fresh connection to 127.0.0.1:port, "Connection: close".
HttpResult Http(uint16_t port, const std::string& method, const std::string& target, const std::string& body = "",
                const std::vector<std::pair<std::string, std::string>>& headers = {},
                milliseconds timeout = milliseconds(20000));
// Sends raw bytes and returns everything read until the server closes or `timeout` passes.
std::string RawHttp(uint16_t port, const std::string& bytes, milliseconds timeout = milliseconds(5000));

// A port nobody listens on right now (bound and released).
uint16_t FreePort();

// Polls `done` every 50 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& done, milliseconds timeout);

class LocalCluster {
 public:
  explicit LocalCluster(const std::string& name);
  ~LocalCluster();
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  // Starts `n` peers one after another (each ready before the next), peer 1 first.
  bool Start(int n, const std::map<std::string, std::string>& env = {});
  // Starts one more peer, joining peer 1 (or the first peer itself if it is the first). Returns its
  // index (1-based), or 0 if it did not become ready in time.
  // Without `give_uri` the peer starts with no --uri: its bootstrap peer derives it.
  int AddPeer(const std::map<std::string, std::string>& env = {}, bool give_uri = true);

  void Kill(int i);            // SIGKILL, reaped
  int Terminate(int i);        // SIGTERM; returns the exit status (or -1 after 15 s, then SIGKILL)
  // Starts peer i again from its storage; with a new p2p port its --uri changes.
  bool Restart(int i, bool new_p2p_port = false, const std::vector<std::string>& extra_args = {});
  bool WaitReady(int i, milliseconds timeout = milliseconds(30000));
  bool alive(int i);

  uint16_t http_port(int i) const { return peers_.at(i).http_port; }
  uint16_t p2p_port(int i) const { return peers_.at(i).p2p_port; }
  int size() const { return static_cast<int>(peers_.size()); }
  std::string log(int i) const;  // the last 4000 characters of peer i's log
  bool LogContains(int i, const std::string& text) const;
  const std::string& dir() const { return dir_; }
  // GET /cluster of peer i (json null if it did not answer).
  nlohmann::json ClusterInfo(int i);

 private:
  struct Peer {
    uint16_t http_port = 0;
    uint16_t p2p_port = 0;
    pid_t pid = 0;
    std::string dir;
    std::map<std::string, std::string> env;
    bool give_uri = true;
  };
  bool Launch(int i, const std::vector<std::string>& extra_args = {});

  std::string dir_;
  std::map<int, Peer> peers_;
};

}  // namespace qdsim::e2e

#endif  // QDSIM_TESTS_E2E_LOCAL_CLUSTER_H_
