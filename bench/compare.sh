#!/usr/bin/env bash
# Petrel against NATS JetStream and Redis Streams, same workloads, one run, one machine.
#
#   bash bench/compare.sh                   # 1,000,000 messages (W1/W3), 200,000 for W2/W4
#   MESSAGES=200000 bash bench/compare.sh   # shorter: W2/W4 use MESSAGES/5, W4 one-at-a-time MESSAGES/50
#   make compare                            # the same through the Makefile
#
# W1 1 KiB persisted, pipelined, 256 in flight     Petrel: ASYNC_FLUSH broker, produce --mode async --in-flight 256
#   (W1-autobatch: the same with the producer's autoBatch, produce --auto-batch, compared with the peers' W1)
#   (W1-batch, informational: the same window as 8 batches of 32 messages, produce --mode batch)
# W2 one at a time (latency)                       Petrel: produce --mode sync --in-flight 1
# W3 read the W1 messages from the start           Petrel: consume (pull by offset, PULL_INFLIGHT pulls outstanding)
# W4 durable on every ack, pipelined 256           Petrel: SYNC_FLUSH broker, produce --mode async --in-flight 256
#                                                  (W4-single: the same one at a time, next to Redis' W4)
# The peers run through ../shared/bench/peers/run-peers.sh (its generators, servers, pinning and
# RESULT lines), built into bench/build. Every server listens on 127.0.0.1 with a fresh temp data
# dir and is stopped by pid. PIN=split (default) puts servers on CPU 0 and clients on CPU 1.
#
# Knobs: MESSAGES, SIZE (1024), WINDOW (256), PULL_INFLIGHT (16), PIN (split|same|none),
# SCRATCH (swift scratch path, .build), SKIP_BUILD=1, SKIP_PEERS=1, SKIP_PETREL=1, DATA_ROOT (/tmp),
# PEERS_DIR (../shared/bench/peers), STEP_TIMEOUT (600 s per client run).
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
BUILD="$HERE/build"
PEERS_DIR="${PEERS_DIR:-$ROOT/../shared/bench/peers}"
MESSAGES="${MESSAGES:-1000000}"
SIZE="${SIZE:-1024}"
WINDOW="${WINDOW:-256}"
N_SYNC="${N_SYNC:-$((MESSAGES / 5))}"
N_FSYNC="${N_FSYNC:-$((MESSAGES / 50))}"
N_FSYNC_PIPE="${N_FSYNC_PIPE:-$((MESSAGES / 5))}"
PULL_INFLIGHT="${PULL_INFLIGHT:-16}"
SCRATCH="${SCRATCH:-.build}"
DATA_ROOT="${DATA_ROOT:-/tmp}"
STEP_TIMEOUT="${STEP_TIMEOUT:-600}"
PIN="${PIN:-split}"
export PIN
mkdir -p "$BUILD"
RESULTS="$BUILD/compare-$(date +%Y%m%d-%H%M%S).log"

# ---------------------------------------------------------------- Petrel
BIN="$ROOT/$SCRATCH/release"
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"
if [ "${SKIP_PETREL:-0}" != 1 ] && [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$ROOT" && swift build --scratch-path "$SCRATCH" -c release --product petrel-broker >&2 \
    && swift build --scratch-path "$SCRATCH" -c release --product petrel-bench >&2) || { echo "build failed" >&2; exit 1; }
fi

cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15)/hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }
emit() { # workload line...
  local wl="$1"; shift
  echo "round=1 workload=$wl $* load1=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$RESULTS"
}

start_broker() { start_petrel_broker petrel-compare 20911 29876 --flushDiskType "$1"; } # flushDiskType

# petrel_step WORKLOAD ARGS...: one petrel-bench run, its RESULT line with the broker's CPU added
petrel_step() {
  local wl="$1"; shift
  local c0 c1 out rc res
  c0=$(cpu_s "$BROKER_PID")
  out=$(timeout -k 5 "$STEP_TIMEOUT" "${CLI_PIN[@]}" "$BIN/petrel-bench" "$@" --namesrv "$NAMESRV" 2>&1)
  rc=$?
  c1=$(cpu_s "$BROKER_PID")
  res=$(grep '^RESULT' <<<"$out" | head -1 | sed -e 's/^RESULT //' -e 's/^workload=[^ ]* //')
  if [ $rc -ne 0 ] || [ -z "$res" ]; then
    emit "$wl" "system=petrel FAILED rc=$rc $(tail -2 <<<"$out" | tr '\n' ' ')"
  else
    emit "$wl" "$res server_cpu_s=$(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.2f", b-a}')"
  fi
}

petrel_round() {
  if ! start_broker ASYNC_FLUSH; then echo "petrel-broker did not start" >&2; stop_broker; return; fi
  petrel_step W1 produce --topic BENCH --messages "$MESSAGES" --message-size "$SIZE" --mode async --in-flight "$WINDOW"
  # Natural batching in the client (ProducerConfiguration.autoBatch): the same sendAsync calls.
  petrel_step W1-autobatch produce --topic AUTOB --messages "$MESSAGES" --message-size "$SIZE" --mode async \
    --in-flight "$WINDOW" --auto-batch
  # Informational, not a target: the same 256 messages in flight as 8 batches of 32 (SEND_BATCH_MESSAGE).
  petrel_step W1-batch produce --topic BATCHB --messages "$MESSAGES" --message-size "$SIZE" --mode batch --batch 32 \
    --in-flight $((WINDOW / 32 > 0 ? WINDOW / 32 : 1))
  petrel_step W3 consume --topic BENCH --messages "$MESSAGES" --message-size "$SIZE" --in-flight "$PULL_INFLIGHT"
  petrel_step W2 produce --topic SYNCB --messages "$N_SYNC" --message-size "$SIZE" --mode sync --in-flight 1
  stop_broker
  if ! start_broker SYNC_FLUSH; then echo "petrel-broker (SYNC_FLUSH) did not start" >&2; stop_broker; return; fi
  petrel_step W4-pipelined produce --topic FSYNCP --messages "$N_FSYNC_PIPE" --message-size "$SIZE" --mode async --in-flight "$WINDOW"
  petrel_step W4 produce --topic FSYNC --messages "$N_FSYNC" --message-size "$SIZE" --mode sync --in-flight 1
  stop_broker
}

echo "# $(date -Is) compare: $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg), PIN=$PIN MESSAGES=$MESSAGES SIZE=$SIZE WINDOW=$WINDOW N_SYNC=$N_SYNC N_FSYNC=$N_FSYNC N_FSYNC_PIPE=$N_FSYNC_PIPE" | tee -a "$RESULTS"
[ "${SKIP_PETREL:-0}" = 1 ] || petrel_round

# ---------------------------------------------------------------- peers (their own script)
if [ "${SKIP_PEERS:-0}" != 1 ]; then
  BUILD_DIR="$BUILD" REPEAT=1 N="$MESSAGES" SIZE="$SIZE" WINDOW="$WINDOW" N_SYNC="$N_SYNC" N_FSYNC="$N_FSYNC" \
    N_FSYNC_PIPE="$N_FSYNC_PIPE" DATA_ROOT="$DATA_ROOT" STEP_TIMEOUT="$STEP_TIMEOUT" \
    bash "$PEERS_DIR/run-peers.sh" | grep '^round=' | tee -a "$RESULTS"
fi

bash "$HERE/compare-table.sh" "$RESULTS"
