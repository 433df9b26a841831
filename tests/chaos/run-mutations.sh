#!/usr/bin/env bash
# Mutation suite of the chaos harness: runs each node-side mutation under
# the composite fault aimed at it, on fixed seeds, and fails unless every
# run reports violations (exit 1 of godistlock-chaos). A mutation that is
# not caught means the fault (or a checker) lost its teeth.
#   usage: tests/chaos/run-mutations.sh [--controls] [--gaps] [BIN_DIR]
#   --controls  also run each composite fault without a mutation; those
#               must report no violation (correct code must pass)
#   --gaps      also run the mutations not yet caught (none today); they
#               fail the suite until caught
# BIN_DIR holds godistlock-chaos and godistlock-node (default:
# build/bin of this checkout). One run at a time, each bounded
# by `timeout`: about 5 minutes by default (more if a mutation needs its
# second seed), 5 minutes more with --controls.
set -u

controls=0
gaps=0
while [[ ${1:-} == --* ]]; do
  case $1 in
  --controls) controls=1 ;;
  --gaps) gaps=1 ;;
  *)
    echo "run-mutations: unknown option $1" >&2
    exit 2
    ;;
  esac
  shift
done
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$here/build/bin}
chaos=$bin/godistlock-chaos
if [[ ! -x $chaos ]]; then
  echo "run-mutations: no $chaos (build godistlock-chaos godistlock-node first)" >&2
  exit 2
fi
out=$(mktemp -d "${TMPDIR:-/tmp}/gdl-mutation-suite-XXXXXX")

# mutation | faults | seed | duration [| more options]. The seeds were seen
# to catch each mutation; a composite fault that runs at all should catch it
# on any seed. lifo-queue needs no fault, only waiters queueing on one lock
# and told so often (a short lease: a short park window).
runs=(
  "wiped-votes-at-once|amnesia|1|30s"
  "proposer-clock-expiry|stale-acceptor|2|30s"
  "lease-from-reply|slow-reply|1|30s"
  "slow-client-clock|client-pause,client-skew|1|40s"
  "lifo-queue|none|1|60s|--clients 5 --hot-locks 1 --ttl 1s"
  "skip-promise-fsync|crash-after-promise|1|40s"
  "stale-lease-restart|backlog|1|30s"
)
# Mutations not caught yet (docs/testing.md, "Mutations"): none today.
gap_runs=()
controls_runs=(
  "|amnesia|1|30s"
  "|stale-acceptor|1|30s"
  "|crash-after-promise|1|40s"
  "|slow-reply|1|30s"
  "|client-pause,client-skew|1|40s"
  "|backlog|1|30s"
)

# The checker each mutation must make fire (docs/testing.md, "Mutations"):
# a violation of another checker alone is not a catch.
expected_checker() {
  case $1 in
  skip-promise-fsync | wiped-votes-at-once) echo tokens ;;
  lifo-queue) echo fifo ;;
  *) echo mutual-exclusion ;;
  esac
}

failed=0
# Runs one entry (`more`: further options); returns 0 if it came out as it
# must (a mutation caught, correct code passing). `final` 0: a missed
# mutation is only reported, not counted.
one() {
  local mutation=$1 faults=$2 seed=$3 duration=$4 more=${5:-} final=${6:-1}
  local name=${mutation:-none}-$faults-seed$seed
  local args=(--duration "$duration" --seed "$seed" --faults "$faults"
    --keep-history "$out/$name")
  [[ -n $mutation ]] && args+=(--mutation "$mutation")
  # shellcheck disable=SC2206 # more: options split on spaces on purpose
  [[ -n $more ]] && args+=($more)
  # The run itself is bounded by --duration; the margin covers start-up,
  # the liveness probe and the last fault's heal.
  timeout 150 "$chaos" "${args[@]}" >"$out/$name.out" 2>&1
  local rc=$?
  local summary
  summary=$(grep -E '^  [a-z-]+ +[0-9]+ violations' "$out/$name.out" |
    awk '$2 > 0 {printf "%s%s=%s", sep, $1, $2; sep=", "}')
  if [[ -n $mutation ]]; then
    local expected
    expected=$(expected_checker "$mutation")
    if [[ $rc == 1 && $summary == *"$expected="* ]]; then
      echo "caught      $mutation under $faults, seed $seed: $summary"
      return 0
    fi
    [[ $rc == 1 ]] && echo "            ($mutation: $summary, but not $expected)"
    if [[ $final == 0 ]]; then
      echo "missed      $mutation under $faults, seed $seed (exit $rc): $out/$name.out; once more"
    else
      echo "NOT CAUGHT  $mutation under $faults, seed $seed (exit $rc): $out/$name.out"
      failed=1
    fi
    return 1
  else
    if [[ $rc == 0 ]]; then
      echo "passes      correct code under $faults, seed $seed"
    else
      echo "FAILS       correct code under $faults, seed $seed (exit $rc): $out/$name.out ${summary}"
      failed=1
    fi
  fi
}

# Real processes on a busy machine: a run can miss its moment (a node
# restarted too slowly to be redialled in time, a client's request timed
# out). A mutation missed on its seed gets one more seed; missed twice, it
# fails the suite.
for r in "${runs[@]}"; do
  IFS='|' read -r m f s d x <<<"$r"
  one "$m" "$f" "$s" "$d" "$x" 0 || one "$m" "$f" "$((s + 100))" "$d" "$x"
done
if [[ $gaps == 1 ]]; then
  for r in "${gap_runs[@]+"${gap_runs[@]}"}"; do
    IFS='|' read -r m f s d x <<<"$r"
    one "$m" "$f" "$s" "$d" "$x"
  done
fi
if [[ $controls == 1 ]]; then
  for r in "${controls_runs[@]}"; do
    IFS='|' read -r m f s d x <<<"$r"
    one "$m" "$f" "$s" "$d" "$x"
  done
fi
echo "histories and outputs: $out"
exit $failed
