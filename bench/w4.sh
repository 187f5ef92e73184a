#!/usr/bin/env bash
# W4-pipelined alone (compare.sh's "durable on every ack, pipelined 256"), repeated: a SYNC_FLUSH
# broker and `petrel-bench produce --mode async --in-flight 256`, one fresh broker per run, the same
# pinning as compare.sh. For before/after figures of changes to the SYNC_FLUSH send path.
#
#   BIN=/path/to/release bash bench/w4.sh       # binaries from BIN (default: $SCRATCH/release)
#
# Knobs: RUNS (3), MESSAGES (100000), SIZE (1024), WINDOW (256), PIN (split|same|none),
# SCRATCH (.build), DATA_ROOT (/tmp), STEP_TIMEOUT (600 s per run).
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
RUNS="${RUNS:-3}"
MESSAGES="${MESSAGES:-100000}"
SIZE="${SIZE:-1024}"
WINDOW="${WINDOW:-256}"
SCRATCH="${SCRATCH:-.build}"
BIN="${BIN:-$ROOT/$SCRATCH/release}"
DATA_ROOT="${DATA_ROOT:-/tmp}"
STEP_TIMEOUT="${STEP_TIMEOUT:-600}"
PIN="${PIN:-split}"
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15)/hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }

echo "# $(date -Is) w4: $(nproc) cpus, PIN=$PIN RUNS=$RUNS MESSAGES=$MESSAGES SIZE=$SIZE WINDOW=$WINDOW BIN=$BIN"
for run in $(seq 1 "$RUNS"); do
  if ! start_petrel_broker petrel-w4 20911 29876 --flushDiskType SYNC_FLUSH; then
    echo "run=$run petrel-broker did not start" >&2; stop_broker; continue
  fi
  c0=$(cpu_s "$BROKER_PID")
  out=$(timeout -k 5 "$STEP_TIMEOUT" "${CLI_PIN[@]}" "$BIN/petrel-bench" produce --topic FSYNCP --messages "$MESSAGES" \
    --message-size "$SIZE" --mode async --in-flight "$WINDOW" --namesrv "$NAMESRV" 2>&1)
  rc=$?
  c1=$(cpu_s "$BROKER_PID")
  res=$(grep '^RESULT' <<<"$out" | head -1 | sed -e 's/^RESULT //')
  if [ $rc -ne 0 ] || [ -z "$res" ]; then res="FAILED rc=$rc $(tail -2 <<<"$out" | tr '\n' ' ')"; fi
  echo "run=$run $res server_cpu_s=$(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.2f", b-a}') load=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' ,)"
  stop_broker
done
