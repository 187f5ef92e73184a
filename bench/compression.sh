#!/usr/bin/env bash
# Store compression: bytes on disk and produce throughput for none / zstd / zstd+dictionary, one
# broker, one run, the same JSON events (petrel-bench --payload json-events) into three topics.
#
#   bash bench/compression.sh                 # 200,000 messages per mode
#   MESSAGES=20000 ROUNDS=1 bash bench/compression.sh  # shorter
#
# One broker (ASYNC_FLUSH) loads the compress-zstd plugin (make plugins) and gets three topics:
#   CNONE  -a +compression.type=none
#   CZSTD  -a +compression.type=zstd,+compression.dictionary=false
#   CDICT  -a +compression.type=zstd,+compression.dictionary=true
# Every topic is first warmed with WARMUP events of another seed (so the dictionary is not trained
# on the measured events); CDICT's dictionary must be trained (the broker logs it) before anything
# is measured. Then MESSAGES events go to each topic with produce --mode async --in-flight WINDOW,
# ROUNDS times with the mode order rotated (rates: the median per mode).
# Per mode: commit-log growth per message (brokerStatus commitLogMaxOffset before and after; it
# includes each record's ~100-byte header and properties, and one 1-byte warm-up send of the
# bench's producer), body bytes received and stored per message (topicStatus), produce msgs/s.
#
# Output: one `mode=…` line per mode and a machine-readable summary:
#   C1 none_bytes=… zstd_bytes=… dict_bytes=… ratio_zstd=… ratio_dict=… none_rate=… zstd_rate=…
#      dict_rate=… rate_ratio=…   (bytes: commit-log bytes per message; ratio_*: none_bytes / *_bytes;
#                                  rate_ratio: dict_rate / none_rate)
#
# Knobs: MESSAGES (200000), WARMUP (2000; at least compressionDictionarySampleCount = 1000),
# ROUNDS (3; rates are medians), WINDOW (256), LEVEL (3), FRAME (compact|standard: compress-zstd's frame setting), PIN (split|same|none, as compare.sh), SCRATCH (.build), SKIP_BUILD=1,
# DATA_ROOT (/tmp), STEP_TIMEOUT (600 s per client run), TRAIN_TIMEOUT (120 s).
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
MESSAGES="${MESSAGES:-200000}"
WARMUP="${WARMUP:-2000}"
ROUNDS="${ROUNDS:-3}"
WINDOW="${WINDOW:-256}"
LEVEL="${LEVEL:-3}"
FRAME="${FRAME:-compact}"
SCRATCH="${SCRATCH:-.build}"
DATA_ROOT="${DATA_ROOT:-/tmp}"
STEP_TIMEOUT="${STEP_TIMEOUT:-600}"
TRAIN_TIMEOUT="${TRAIN_TIMEOUT:-120}"
PIN="${PIN:-split}"
BIN="$ROOT/$SCRATCH/release"
PLUGINS="$ROOT/build/plugins"
mkdir -p "$HERE/build"
RESULTS="$HERE/build/compression-$(date +%Y%m%d-%H%M%S).log"
# shellcheck source=bench/lib.sh
source "$HERE/lib.sh"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$ROOT" && make plugins >&2 \
    && for product in petrel-broker petrel-bench petrel-admin; do
         swift build --scratch-path "$SCRATCH" -c release --product "$product" >&2 || exit 1
       done) || { echo "build failed" >&2; exit 1; }
fi
[ -f "$PLUGINS/compress-zstd.so" ] || { echo "no $PLUGINS/compress-zstd.so: run make plugins" >&2; exit 1; }

say() { echo "$*" | tee -a "$RESULTS"; }
fail() { say "FAILED: $*"; [ -n "$BROKER_DIR" ] && tail -5 "$BROKER_DIR.log" >&2; exit 1; }

start_broker() {
  start_petrel_broker petrel-compression 21911 29976 --flushDiskType ASYNC_FLUSH \
    --pluginDirectory "$PLUGINS" --compressorPlugin compress-zstd --compressionLevel "$LEVEL" \
    --compressorPluginConfig "frame=$FRAME"
}

admin() { "$BIN/petrel-admin" "$@" -n "$NAMESRV"; }
commitlog_offset() { admin brokerStatus -b "$BROKER_ADDR" | awk -F' *: *' '$1 ~ /^commitLogMaxOffset/ {print $2}'; }
# body_bytes TOPIC: "received stored" since the broker started (topicStatus)
body_bytes() {
  admin topicStatus -t "$1" --json | python3 -c '
import json, sys
document = json.load(sys.stdin)
rows = document.get("bodyBytes", [])
print(sum(row["bodyBytesReceived"] for row in rows), sum(row["bodyBytesStored"] for row in rows))'
}
# produce TOPIC COUNT SEED: one petrel-bench run; prints its msgs_per_s
produce() {
  local out
  out=$(timeout -k 5 "$STEP_TIMEOUT" "${CLI_PIN[@]}" "$BIN/petrel-bench" produce --topic "$1" --messages "$2" \
    --payload json-events --payload-seed "$3" --mode async --in-flight "$WINDOW" --namesrv "$NAMESRV" --json 2>&1) \
    || fail "produce to $1: $(tail -2 <<<"$out" | tr '\n' ' ')"
  python3 -c 'import json, sys; report = json.loads(sys.argv[1].splitlines()[-1]); assert report["errors"] == 0; print(round(report["msgs_per_s"]))' \
    "$out" || fail "produce to $1 reported errors: $out"
}

say "# $(date -Is) compression: $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg), PIN=$PIN MESSAGES=$MESSAGES WARMUP=$WARMUP WINDOW=$WINDOW LEVEL=$LEVEL FRAME=$FRAME ROUNDS=$ROUNDS"
start_broker || fail "petrel-broker did not start"
declare -A ATTRIBUTES=(
  [none]="+compression.type=none"
  [zstd]="+compression.type=zstd,+compression.dictionary=false"
  [dict]="+compression.type=zstd,+compression.dictionary=true"
)
declare -A TOPIC=([none]=CNONE [zstd]=CZSTD [dict]=CDICT)
MODES=(none zstd dict)
for mode in "${MODES[@]}"; do
  admin updateTopic -b "$BROKER_ADDR" -t "${TOPIC[$mode]}" -r 4 -w 4 -a "${ATTRIBUTES[$mode]}" >/dev/null \
    || fail "updateTopic ${TOPIC[$mode]} -a ${ATTRIBUTES[$mode]}"
done

# Warm every topic alike (routes, connections, page cache) with events of another seed; CDICT's
# samples come from these, so the dictionary never saw the measured events.
for mode in "${MODES[@]}"; do produce "${TOPIC[$mode]}" "$WARMUP" 7 >/dev/null; done
deadline=$((SECONDS + TRAIN_TIMEOUT))
until grep "trained a compression dictionary" "$BROKER_DIR.log" | grep -q "CDICT"; do
  [ $SECONDS -lt $deadline ] || fail "no dictionary trained for CDICT within ${TRAIN_TIMEOUT}s (WARMUP=$WARMUP)"
  sleep 0.2
done

# ROUNDS rounds, the mode order rotated each round (later runs on a warmer broker tend to be
# faster); bytes are the same every round (same events), rates are reported as the median.
declare -A LOG_BYTES RATE RECEIVED STORED RATES
for round in $(seq 0 $((ROUNDS - 1))); do
  for position in 0 1 2; do
    mode="${MODES[$(((position + round) % 3))]}"
    topic="${TOPIC[$mode]}"
    read -r received0 stored0 <<<"$(body_bytes "$topic")"
    offset0=$(commitlog_offset)
    rate=$(produce "$topic" "$MESSAGES" 1)
    offset1=$(commitlog_offset)
    read -r received1 stored1 <<<"$(body_bytes "$topic")"
    RATES[$mode]="${RATES[$mode]:-} $rate"
    LOG_BYTES[$mode]=$(awk -v a="$offset0" -v b="$offset1" -v n="$MESSAGES" 'BEGIN{printf "%.1f", (b-a)/n}')
    RECEIVED[$mode]=$(awk -v a="$received0" -v b="$received1" -v n="$MESSAGES" 'BEGIN{printf "%.1f", (b-a)/n}')
    STORED[$mode]=$(awk -v a="$stored0" -v b="$stored1" -v n="$MESSAGES" 'BEGIN{printf "%.1f", (b-a)/n}')
    say "round=$((round + 1)) mode=$mode topic=$topic msgs=$MESSAGES log_bytes_per_msg=${LOG_BYTES[$mode]} body_received_per_msg=${RECEIVED[$mode]} body_stored_per_msg=${STORED[$mode]} msgs_per_s=$rate"
  done
done
for mode in "${MODES[@]}"; do
  RATE[$mode]=$(tr ' ' '\n' <<<"${RATES[$mode]}" | grep . | sort -n | awk '{v[NR]=$1} END{print (NR % 2) ? v[(NR+1)/2] : int((v[NR/2]+v[NR/2+1])/2)}')
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "nan" }'; }
say "C1 none_bytes=${LOG_BYTES[none]} zstd_bytes=${LOG_BYTES[zstd]} dict_bytes=${LOG_BYTES[dict]}" \
  "ratio_zstd=$(ratio "${LOG_BYTES[none]}" "${LOG_BYTES[zstd]}") ratio_dict=$(ratio "${LOG_BYTES[none]}" "${LOG_BYTES[dict]}")" \
  "none_rate=${RATE[none]} zstd_rate=${RATE[zstd]} dict_rate=${RATE[dict]} rate_ratio=$(ratio "${RATE[dict]}" "${RATE[none]}")" \
  "body_ratio_dict=$(ratio "${STORED[none]}" "${STORED[dict]}") load1=$(cut -d' ' -f1 /proc/loadavg)"
say "# results in $RESULTS"
