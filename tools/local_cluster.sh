#!/usr/bin/env bash
# A local qdnode cluster on loopback: N peers, each with its own ports, storage directory and log.
#
#   tools/local_cluster.sh start 3            # peers 1..3; peer 1 bootstraps, the others join it
#   tools/local_cluster.sh status             # pid, ports and /readyz of every peer
#   tools/local_cluster.sh kill 2             # SIGKILL peer 2 (its storage stays)
#   tools/local_cluster.sh restart 2          # start peer 2 again from its storage
#   tools/local_cluster.sh stop               # SIGTERM every peer (SIGKILL after 10 s)
#   tools/local_cluster.sh clean              # stop, then remove the cluster directory
#
# Peer i listens for REST on HTTP_BASE + 100*(i-1) and for peers on P2P_BASE + 100*(i-1), keeps
# its state in DIR/peer<i>/storage and logs to DIR/peer<i>/qdnode.log. Environment:
#   QDNODE      the qdnode binary       (default: the Release build of this checkout, see ./dev)
#   CLUSTER_DIR the cluster directory   (default: ./local-cluster)
#   HTTP_BASE   REST port of peer 1     (default 6333)
#   P2P_BASE    p2p port of peer 1      (default 6335)
#   QDRANT__*   passed through to every peer (e.g. QDRANT__SERVICE__API_KEY)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${CLUSTER_DIR:-$PWD/local-cluster}"
HTTP_BASE="${HTTP_BASE:-6333}"
P2P_BASE="${P2P_BASE:-6335}"

die() { echo "local_cluster: $*" >&2; exit 1; }

qdnode_bin() {
  if [[ -n "${QDNODE:-}" ]]; then echo "$QDNODE"; return; fi
  local id
  id="$(printf '%s' "$ROOT" | sha1sum | cut -c1-12)"
  echo "${QDSIM_BUILD_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/qdsim/$id}/release/src/real/qdnode/qdnode"
}

http_port() { echo $((HTTP_BASE + 100 * ($1 - 1))); }
p2p_port() { echo $((P2P_BASE + 100 * ($1 - 1))); }
peer_dir() { echo "$DIR/peer$1"; }
pid_of() { cat "$(peer_dir "$1")/pid" 2>/dev/null || true; }
alive() { local pid; pid="$(pid_of "$1")"; [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; }
peers() { ls -d "$DIR"/peer* 2>/dev/null | sed 's/.*peer//' | sort -n; }

# launch I: starts peer I in the background (joining peer 1 unless it is peer 1 or has state).
launch() {
  local i="$1" bin pd
  bin="$(qdnode_bin)"
  [[ -x "$bin" ]] || die "no qdnode binary at $bin (build it: ./dev build release --target qdnode, or set QDNODE)"
  pd="$(peer_dir "$i")"
  mkdir -p "$pd/storage" "$pd/snapshots"
  local args=(--uri "http://127.0.0.1:$(p2p_port "$i")")
  [[ "$i" -eq 1 ]] || args+=(--bootstrap "http://127.0.0.1:$(p2p_port 1)")
  (
    cd "$pd"
    QDRANT__CLUSTER__ENABLED=true \
    QDRANT__SERVICE__HOST=127.0.0.1 \
    QDRANT__SERVICE__HTTP_PORT="$(http_port "$i")" \
    QDRANT__CLUSTER__P2P__PORT="$(p2p_port "$i")" \
    QDRANT__STORAGE__STORAGE_PATH="$pd/storage" \
    QDRANT__STORAGE__SNAPSHOTS_PATH="$pd/snapshots" \
      nohup "$bin" "${args[@]}" >>"$pd/qdnode.log" 2>&1 &
    echo $! >"$pd/pid"
  )
}

# wait_ready I: waits up to 30 s for peer I's /readyz.
wait_ready() {
  local i="$1" port
  port="$(http_port "$i")"
  for _ in $(seq 1 300); do
    alive "$i" || die "peer $i exited; see $(peer_dir "$i")/qdnode.log"
    if curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  die "peer $i not ready after 30 s; see $(peer_dir "$i")/qdnode.log"
}

cmd_start() {
  local n="${1:-3}"
  [[ "$n" =~ ^[0-9]+$ && "$n" -ge 1 ]] || die "start N: N must be a positive number"
  for i in $(seq 1 "$n"); do
    alive "$i" && die "peer $i is already running (pid $(pid_of "$i")); stop the cluster first"
  done
  for i in $(seq 1 "$n"); do
    launch "$i"
    wait_ready "$i"  # peers join one after another, as Qdrant's docs advise
    echo "peer $i: http://127.0.0.1:$(http_port "$i")  p2p $(p2p_port "$i")  pid $(pid_of "$i")"
  done
}

cmd_status() {
  for i in $(peers); do
    local state="down"
    if alive "$i"; then
      state="up (pid $(pid_of "$i"))"
      curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$(http_port "$i")/readyz" 2>/dev/null && state="$state ready"
    fi
    echo "peer $i: http $(http_port "$i")  p2p $(p2p_port "$i")  $state"
  done
}

cmd_kill() {
  local i="${1:?kill I}"
  alive "$i" || die "peer $i is not running"
  kill -9 "$(pid_of "$i")"
  echo "peer $i killed"
}

cmd_restart() {
  local i="${1:?restart I}"
  alive "$i" && die "peer $i is running"
  [[ -d "$(peer_dir "$i")/storage" ]] || die "peer $i has never run here"
  launch "$i"
  wait_ready "$i"
  echo "peer $i restarted (pid $(pid_of "$i"))"
}

cmd_stop() {
  local pids=()
  for i in $(peers); do
    if alive "$i"; then
      kill -TERM "$(pid_of "$i")"
      pids+=("$i")
    fi
  done
  for i in "${pids[@]}"; do
    for _ in $(seq 1 100); do alive "$i" || break; sleep 0.1; done
    if alive "$i"; then
      echo "peer $i did not stop within 10 s; killing it" >&2
      kill -9 "$(pid_of "$i")"
    fi
    echo "peer $i stopped"
  done
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  status) cmd_status ;;
  kill) shift; cmd_kill "$@" ;;
  restart) shift; cmd_restart "$@" ;;
  stop) cmd_stop ;;
  clean) cmd_stop; rm -rf "$DIR" ;;
  *) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
