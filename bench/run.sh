#!/usr/bin/env bash
# Measures ecs-uptime on this machine, in one run, against the targets of
# the README's "Performance and robustness" section, and prints the table:
#
#   - CPU time and allocations per cycle of a ten-container task, in
#     process (go test -bench -benchmem: BenchmarkCycle), against a naive
#     baseline (BenchmarkCycleNaive: new connections every cycle);
#   - a soak of the Runner: a million cycles in one process, CPU per cycle,
#     live heap and goroutines after a tenth of the run and at the end
#     (BenchmarkSoak);
#   - the release binary at a 100 ms interval (the smallest the configuration
#     allows) under /usr/bin/time -v: peak RSS, CPU per cycle, VmRSS and
#     threads sampled from /proc, and the time from start to first gauge
#     (BenchmarkProcess).
#
#   bash bench/run.sh                                            # about 10 minutes
#   TEST_ECS_UPTIME_SOAK=30s TEST_ECS_UPTIME_SOAK_CYCLES=100000 bash bench/run.sh   # quicker
#   TEST_ECS_UPTIME_BENCH_DOCKER=1 bash bench/run.sh   # also the Docker source (needs an
#                                                 # engine with nothing else labelled)
#
# Raw output goes to bench/results/<UTC time>/ (gitignored). The machine is
# whatever runs this: compare figures from one run, not across machines.
set -euo pipefail
cd "$(dirname "$0")/.."

soak=${TEST_ECS_UPTIME_SOAK:-3m}
cycles=${TEST_ECS_UPTIME_SOAK_CYCLES:-1000000}
out=bench/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"

if [ ! -x /usr/bin/time ]; then
  echo "== installing /usr/bin/time (Debian package time)" >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq time >/dev/null
  else
    sudo apt-get update -qq && sudo apt-get install -y -qq time >/dev/null
  fi
fi

{
  echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  go version
  echo "$(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/machine.txt"

# The binary as the Dockerfile builds it (static, stripped, no HTTP/2).
CGO_ENABLED=0 go build -trimpath -tags nethttpomithttp2 -ldflags "-s -w" -o "$out/ecs-uptime" ./cmd/ecs-uptime
echo "binary $(stat -c %s "$out/ecs-uptime") bytes, built as the Dockerfile does" | tee -a "$out/machine.txt"

echo "== cycle: in-process, 5 runs each" >&2
go test -run '^$' -bench '^(BenchmarkCycle|BenchmarkCycleNaive)$' -benchmem -count 5 ./cmd/ecs-uptime | tee "$out/cycle.txt" >&2
echo "== soak: $cycles cycles in one Runner" >&2
go test -run '^$' -bench '^BenchmarkSoak$' -benchmem -benchtime "${cycles}x" -timeout 120m ./cmd/ecs-uptime | tee "$out/soak.txt" >&2
echo "== the binary at a 100 ms interval for $soak" >&2
TEST_ECS_UPTIME_SOAK=$soak TEST_ECS_UPTIME_BENCH_BINARY=$PWD/$out/ecs-uptime go test -run '^$' -bench '^BenchmarkProcess$' -benchtime 1x -timeout 120m ./cmd/ecs-uptime | tee "$out/process.txt" >&2
if [ "${TEST_ECS_UPTIME_BENCH_DOCKER:-}" = 1 ]; then
  echo "== docker source: naive list+inspect against the event-fed source" >&2
  go test -run '^$' -bench '^BenchmarkRead$' -benchtime 100x ./uptime/docker | tee "$out/docker.txt" >&2
fi

# metric FILE BENCH UNIT: the median over the lines of that benchmark of
# the figure before UNIT.
metric() {
  awk -v b="$2" -v u="$3" '
    $1 ~ "^"b"(-[0-9]+)?$" { for (i = 3; i <= NF; i++) if ($i == u) v[n++] = $(i-1) }
    END {
      if (n == 0) { print "n/a"; exit }
      for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      print v[int((n - 1) / 2)]
    }' "$1"
}
ms() { awk -v x="$1" 'BEGIN { if (x == "n/a") print x; else printf "%.3f", x / 1e6 }'; }
mib() { awk -v x="$1" 'BEGIN { if (x == "n/a") print x; else printf "%.2f", x / 1048576 }'; }
meets() { awk -v x="$1" -v t="$2" 'BEGIN { if (x == "n/a") print "?"; else if (x + 0 <= t + 0) print "met"; else print "MISSED" }'; }

c=BenchmarkCycle/10_containers/container_metrics=false
cc=BenchmarkCycle/10_containers/container_metrics=true
n=BenchmarkCycleNaive
cyc_cpu=$(ms "$(metric "$out/soak.txt" BenchmarkSoak cpu-ns/cycle)")
proc_cpu=$(metric "$out/process.txt" BenchmarkProcess cpu-ms/cycle)
rss=$(metric "$out/process.txt" BenchmarkProcess peak-RSS-MiB)
first=$(metric "$out/process.txt" BenchmarkProcess first-gauge-max-ms)
{
  echo
  echo "| measure (10-container task) | target | result | baseline (naive) |"
  echo "| --- | --- | --- | --- |"
  echo "| wall time per cycle, in process | | $(ms "$(metric "$out/cycle.txt" "$c" ns/op)") ms ($(ms "$(metric "$out/cycle.txt" "$cc" ns/op)") ms with container metrics) | $(ms "$(metric "$out/cycle.txt" "$n" ns/op)") ms |"
  echo "| CPU per cycle, in process (endpoint side included), $cycles cycles | ≤ 0.2 ms | $cyc_cpu ms, $(meets "$cyc_cpu" 0.2) | $(ms "$(metric "$out/cycle.txt" "$n" cpu-ns/cycle)") ms |"
  echo "| CPU per cycle, the binary at 100 ms for $soak, start-up included | ≤ 0.2 ms | $proc_cpu ms, $(meets "$proc_cpu" 0.2) | |"
  echo "| allocations per cycle | | $(metric "$out/cycle.txt" "$c" allocs/op) allocs, $(metric "$out/cycle.txt" "$c" B/op) B | $(metric "$out/cycle.txt" "$n" allocs/op) allocs, $(metric "$out/cycle.txt" "$n" B/op) B |"
  echo "| live heap after 10% / all of $cycles cycles | flat | $(mib "$(metric "$out/soak.txt" BenchmarkSoak heap-B@10%)") / $(mib "$(metric "$out/soak.txt" BenchmarkSoak heap-B@end)") MiB | |"
  echo "| goroutines after 10% / all of $cycles cycles | flat | $(metric "$out/soak.txt" BenchmarkSoak goroutines@10%) / $(metric "$out/soak.txt" BenchmarkSoak goroutines@end) | |"
  echo "| peak RSS of the binary (/usr/bin/time -v) | ≤ 12 MiB | $rss MiB, $(meets "$rss" 12) | |"
  echo "| VmRSS at the first second / half-way / end of $soak; threads first / end | flat | $(metric "$out/process.txt" BenchmarkProcess RSS-MiB@first) / $(metric "$out/process.txt" BenchmarkProcess RSS-MiB@half) / $(metric "$out/process.txt" BenchmarkProcess RSS-MiB@last) MiB; $(metric "$out/process.txt" BenchmarkProcess threads@first) / $(metric "$out/process.txt" BenchmarkProcess threads@last) | |"
  echo "| start to first gauge, median / worst of 5 | ≤ 100 ms | $(metric "$out/process.txt" BenchmarkProcess first-gauge-ms) / $first ms, $(meets "$first" 100) | |"
  if [ -f "$out/docker.txt" ]; then
    for k in 10 200; do
      echo "| docker source, one read with $k containers | | $(ms "$(metric "$out/docker.txt" "BenchmarkRead/events/containers=$k" ns/op)") ms, $(metric "$out/docker.txt" "BenchmarkRead/events/containers=$k" api-calls/read) API calls | $(ms "$(metric "$out/docker.txt" "BenchmarkRead/naive/containers=$k" ns/op)") ms, $(metric "$out/docker.txt" "BenchmarkRead/naive/containers=$k" api-calls/read) API calls |"
    done
  fi
} | tee "$out/summary.md"
echo >&2
echo "raw output: $out" >&2
