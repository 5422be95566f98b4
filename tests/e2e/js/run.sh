#!/usr/bin/env bash
# ctest entry point of js_client_test: the official Qdrant JavaScript client against a local 3-peer
# qdnode cluster.
#
#   bash tests/e2e/js/run.sh QDNODE_BINARY WORK_DIR
#
# 1. Installs the client pinned by package-lock.json with `npm ci` into WORK_DIR (a build-directory
#    path, outside the source tree), once per package-lock: a stamp with the lock's hash makes later
#    runs reuse it. npm failing (e.g. no network) fails the test with a message saying so.
# 2. Starts 3 peers with tools/local_cluster.sh in a temporary CLUSTER_DIR on random free base ports
#    (a few attempts), peer 1 bootstrapping and the others joining it.
# 3. Runs client_test.mjs with node against the 3 REST URLs, and exits with its status. The cluster
#    is always stopped and its directory removed (QDSIM_E2E_KEEP=1 keeps it, as for the C++ e2e
#    tests); on failure the tail of every peer's log is printed first.
set -euo pipefail

die() { echo "js_client_test: $*" >&2; exit 1; }

[[ $# -eq 2 ]] || die "usage: run.sh QDNODE_BINARY WORK_DIR"
[[ -x "$1" ]] || die "no qdnode binary at $1"
QDNODE_BIN="$(realpath "$1")"
WORK="$2"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
command -v node >/dev/null || die "node (Node.js >= 20) is not installed; ./dev setup installs it"
command -v npm >/dev/null || die "npm is not installed; ./dev setup installs it with Node.js"
command -v curl >/dev/null || die "curl is not installed (tools/local_cluster.sh needs it)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[[ "$node_major" -ge 20 ]] || die "Node.js $(node --version) is too old; the client needs Node.js >= 20"

# ---- 1. The client, installed once per package-lock --------------------------------------------
mkdir -p "$WORK"
stamp_want="$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1)"
(
  flock 9  # parallel runs sharing WORK install once
  if [[ "$(cat "$WORK/.installed" 2>/dev/null || true)" == "$stamp_want" &&
        -f "$WORK/node_modules/@qdrant/js-client-rest/package.json" ]]; then
    echo "js_client_test: reusing the client installed in $WORK/node_modules"
    exit 0
  fi
  rm -f "$WORK/.installed"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$WORK/"
  echo "js_client_test: npm ci in $WORK"
  # --omit=peer: the client's optional TypeScript peer dependency is not needed to run it.
  # --engine-strict=false: the client declares node >= 22 but runs on Node.js 20 (npm warns).
  if ! (cd "$WORK" && npm ci --no-audit --no-fund --omit=peer --engine-strict=false \
          --fetch-timeout=60000 --fetch-retries=2); then
    die "npm ci failed (is the npm registry reachable?); the JavaScript client test cannot run without @qdrant/js-client-rest"
  fi
  echo "$stamp_want" >"$WORK/.installed"
) 9>"$WORK/.install.lock"
# The test imports the client by name; ES modules resolve it from the importing file's directory.
cp "$HERE/client_test.mjs" "$WORK/client_test.mjs"

# ---- 2. The cluster --------------------------------------------------------------------------------
CLUSTER_DIR="$(mktemp -d "${TMPDIR:-/tmp}/qdsim-js-client.XXXXXX")"
export QDNODE="$QDNODE_BIN" CLUSTER_DIR
cluster() { bash "$ROOT/tools/local_cluster.sh" "$@"; }

status=1
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  if [[ "$status" -ne 0 ]]; then
    for log in "$CLUSTER_DIR"/peer*/qdnode.log; do
      [[ -f "$log" ]] || continue
      echo "---- last lines of $log"
      tail -n 40 "$log"
    done
  fi
  cluster stop >/dev/null 2>&1 || true
  if [[ -n "${QDSIM_E2E_KEEP:-}" ]]; then
    echo "js_client_test: kept the cluster directory $CLUSTER_DIR"
  else
    rm -rf "$CLUSTER_DIR"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ports_free P...: true if nobody listens on any of the loopback ports P (binds each, then releases).
ports_free() {
  node -e '
    const net = require("node:net");
    let left = process.argv.length - 1;
    for (const port of process.argv.slice(1).map(Number)) {
      const s = net.createServer();
      s.once("error", () => process.exit(1));
      s.listen(port, "127.0.0.1", () => s.close(() => { if (--left === 0) process.exit(0); }));
    }' "$@"
}

started=0
for attempt in 1 2 3 4 5; do
  # Peer i uses HTTP_BASE + 100*(i-1) and P2P_BASE + 100*(i-1): 20000..32249, below Linux's
  # ephemeral range (32768+), so outgoing connections do not take them.
  export HTTP_BASE=$((20000 + RANDOM % 12000)) P2P_BASE
  P2P_BASE=$((HTTP_BASE + 50))
  ports=()
  for i in 0 1 2; do ports+=($((HTTP_BASE + 100 * i)) $((P2P_BASE + 100 * i))); done
  ports_free "${ports[@]}" || continue
  echo "js_client_test: starting 3 peers in $CLUSTER_DIR (REST ports $HTTP_BASE, $((HTTP_BASE + 100)), $((HTTP_BASE + 200)); attempt $attempt)"
  if cluster start 3; then
    started=1
    break
  fi
  echo "js_client_test: the cluster did not start; retrying on other ports" >&2
  for log in "$CLUSTER_DIR"/peer*/qdnode.log; do [[ -f "$log" ]] && tail -n 20 "$log"; done
  cluster stop >/dev/null 2>&1 || true
  rm -rf "${CLUSTER_DIR:?}"/peer*
done
[[ "$started" -eq 1 ]] || die "could not start a 3-peer cluster in 5 attempts"

# ---- 3. The test -------------------------------------------------------------------------------------
urls=()
for i in 0 1 2; do urls+=("http://127.0.0.1:$((HTTP_BASE + 100 * i))"); done
set +e
# Well inside ctest's TIMEOUT (600 s), so that a hung run still stops and removes its cluster.
timeout --kill-after=10 420 node "$WORK/client_test.mjs" "${urls[@]}"
status=$?
set -e
if [[ "$status" -eq 0 ]]; then
  echo "js_client_test: PASSED"
else
  echo "js_client_test: FAILED (client_test.mjs exited with $status)" >&2
fi
exit "$status"
