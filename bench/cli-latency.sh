#!/usr/bin/env bash
# Median latency of a CLI `try` + `release` pair against a local node: what a
# shell script pays per locked section. Starts its own node (fsync on) on a
# free loopback port with a scratch data dir, and stops it by PID.
#   bench/cli-latency.sh [PAIRS] [RUNS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
pairs="${1:-50}"
runs="${2:-3}"
bin=build/bin
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin/godistlock-node" --id bench --listen "127.0.0.1:$port" --data-dir "$data/node" 2>"$data/node.log" &
node=$!
trap 'kill -TERM $node 2>/dev/null; wait $node 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do grep -q ready "$data/node.log" && break; sleep 0.05; done
cli=("$bin/godistlock" --servers "127.0.0.1:$port")
for run in $(seq "$runs"); do
  times=()
  for i in $(seq "$pairs"); do
    t0=$(date +%s%N)
    token=$("${cli[@]}" try "cli-bench-$i")
    "${cli[@]}" release "cli-bench-$i" --token "$token"
    t1=$(date +%s%N)
    times+=($(((t1 - t0) / 1000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v run="$run" '
    { v[NR] = $1 } END {
      printf "run %d: %d pairs, try+release median %.1f ms, p90 %.1f ms, min %.1f ms\n",
        run, NR, v[int((NR + 1) / 2)] / 1000, v[int(NR * 0.9)] / 1000, v[1] / 1000 }'
done
