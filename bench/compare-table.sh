#!/usr/bin/env bash
# Turns compare.sh result lines (round=… workload=… system=… msgs_per_s=… …) into one table and one
# machine-readable line per workload:
#   W1 petrel=412000 jetstream=150000 redis=240000 ratio_jetstream=2.75 ratio_redis=1.72
# msgs/s everywhere except W2, which compares p99 latency in µs (ratio = Petrel p99 / peer p99, so
# below 1 is better for Petrel). W4 is the pipelined durable run (Petrel SYNC_FLUSH vs Redis
# appendfsync always, window 256; JetStream 2.9 cannot fsync per message and shows NA).
#   bash bench/compare-table.sh bench/build/compare-*.log
awk '
  /^round=/ {
    delete kv
    for (i = 1; i <= NF; i++) { split($i, p, "="); if (!(p[1] in kv)) kv[p[1]] = p[2] }
    sys = kv["system"]; wl = kv["workload"]
    if (sys == "nats-jetstream") sys = "jetstream"; else if (sys == "redis-streams") sys = "redis"
    if (/UNSUPPORTED/) { if (sys == "") sys = "jetstream"; note[wl, sys] = "UNSUPPORTED"; next }
    if (/FAILED/) { note[wl, sys] = "FAILED"; next }
    seen[wl, sys] = 1
    rate[wl, sys] = kv["msgs_per_s"]; mbps[wl, sys] = kv["MBps"]
    p50[wl, sys] = kv["p50_us"]; p99[wl, sys] = kv["p99_us"]
    m = kv["msgs"] + 0
    cpu[wl, sys] = (m > 0 && kv["server_cpu_s"] != "") ? sprintf("%.2f", kv["server_cpu_s"] * 1e6 / m) : "-"
  }
  function cell(v) { return (v == "") ? "-" : v }
  function value(wl, sys) {
    if ((wl, sys) in seen) return (wl == "W2") ? p99[wl, sys] : rate[wl, sys]
    return "NA"
  }
  function ratio(a, b) { return (a == "NA" || b == "NA" || b + 0 == 0) ? "NA" : sprintf("%.2f", a / b) }
  END {
    nwls = split("W1 W1-autobatch W1-batch W1-redis-benchmark W2 W3 W3-ordered W4-pipelined W4", wls, " ")
    split("petrel jetstream redis", systems, " ")
    printf "%-20s %-10s %10s %8s %9s %9s %14s\n", "workload", "system", "msgs/s", "MB/s", "p50_us", "p99_us", "srv_cpu_us/msg"
    for (w = 1; w <= nwls; w++) for (s = 1; s <= 3; s++) {
      wl = wls[w]; sys = systems[s]
      if ((wl, sys) in seen)
        printf "%-20s %-10s %10s %8s %9s %9s %14s\n", wl, sys, cell(rate[wl, sys]), cell(mbps[wl, sys]),
          cell(p50[wl, sys]), cell(p99[wl, sys]), cpu[wl, sys]
      else if ((wl, sys) in note)
        printf "%-20s %-10s %10s\n", wl, sys, note[wl, sys]
    }
    print ""
    print "ratios Petrel/peer (msgs/s; W2: p99 latency, lower is better for Petrel; W4: pipelined, durable per ack)"
    # W1-autobatch: Petrel with ProducerConfiguration.autoBatch against the plain W1 of the peers.
    split("W1 W1-autobatch W2 W3 W4", targets, " ")
    for (t = 1; t <= 5; t++) {
      wl = targets[t]; src = (wl == "W4") ? "W4-pipelined" : wl; peer = (wl == "W1-autobatch") ? "W1" : src
      pv = value(src, "petrel"); jv = value(peer, "jetstream"); rv = value(peer, "redis")
      printf "%s petrel=%s jetstream=%s redis=%s ratio_jetstream=%s ratio_redis=%s\n", wl, pv, jv, rv, ratio(pv, jv), ratio(pv, rv)
    }
  }' "$@"
