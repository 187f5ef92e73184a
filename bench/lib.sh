# Shared by bench/compare.sh and bench/compression.sh (sourced, after they set PIN, DATA_ROOT and BIN):
# CPU pinning, free ports, and one petrel-broker with its embedded name server started on
# 127.0.0.1 in a fresh temp dir, stopped by pid (and its dir removed) at exit.

# PIN=split puts servers on CPU 0 and clients on CPU 1, same puts both on CPU 0, none pins nothing.
SRV_PIN=() CLI_PIN=()
case "$PIN" in
  split) SRV_PIN=(taskset -c 0) CLI_PIN=(taskset -c 1) ;;
  same) SRV_PIN=(taskset -c 0) CLI_PIN=(taskset -c 0) ;;
  none) ;;
  *) echo "PIN must be split, same or none" >&2; exit 2 ;;
esac

BROKER_PID="" BROKER_DIR="" BROKER_ADDR="" NAMESRV=""
stop_broker() {
  if [ -n "$BROKER_PID" ] && kill -0 "$BROKER_PID" 2>/dev/null; then
    kill "$BROKER_PID" 2>/dev/null
    for _ in $(seq 1 300); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$BROKER_PID" 2>/dev/null && kill -9 "$BROKER_PID" 2>/dev/null
    wait "$BROKER_PID" 2>/dev/null
  fi
  BROKER_PID=""
  if [ -n "$BROKER_DIR" ]; then rm -rf "$BROKER_DIR" "$BROKER_DIR.log"; BROKER_DIR=""; fi
}
trap 'stop_broker' EXIT
trap 'stop_broker; exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() { local p="$1"; while ! port_free "$p"; do p=$((p + 1)); done; echo "$p"; }

# start_petrel_broker DIR_PREFIX PORT_FROM NAMESRV_PORT_FROM BROKER_ARGS...: starts the broker on the
# first free ports from the two given, sets BROKER_PID, BROKER_DIR, BROKER_ADDR and NAMESRV, and
# returns once it listens and its name server accepts connections (1 on exit or after 30 s).
start_petrel_broker() {
  local prefix="$1" port namesrv
  BROKER_DIR=$(mktemp -d "$DATA_ROOT/$prefix.XXXXXX")
  port=$(pick_port "$2")
  namesrv=$(pick_port "$3")
  shift 3
  "${SRV_PIN[@]}" "$BIN/petrel-broker" --storePathRootDir "$BROKER_DIR" --brokerIP1 127.0.0.1 \
    --listenPort "$port" --namesrvListenPort "$namesrv" "$@" >"$BROKER_DIR.log" 2>&1 &
  BROKER_PID=$!
  NAMESRV="127.0.0.1:$namesrv"
  BROKER_ADDR="127.0.0.1:$port"
  for _ in $(seq 1 300); do # the broker registers with its name server once it listens
    if grep -q "listening on" "$BROKER_DIR.log" 2>/dev/null && ! port_free "$namesrv"; then return 0; fi
    kill -0 "$BROKER_PID" 2>/dev/null || { cat "$BROKER_DIR.log" >&2; return 1; }
    sleep 0.1
  done
  return 1
}
