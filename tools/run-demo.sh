#!/usr/bin/env bash
# Set everything up, build, start smsrd on its embedded default configuration
# (simulated carrier channels) and run a mixed load through it over the wire
# protocol, with a progress bar and a summary; then stop smsrd gracefully.
# Usage: bash tools/run-demo.sh [seconds=15] [rate=3000]
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target smsrd smsr-load smsrctl >/dev/null

dir=$(mktemp -d)
trap 'kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
./build/smsrd --tcp 127.0.0.1:0 --unix "$dir/smsrd.sock" --ready-file "$dir/ready" &
pid=$!
for _ in $(seq 100); do [ -s "$dir/ready" ] && break; sleep 0.1; done
[ -s "$dir/ready" ] || { echo "smsrd did not start" >&2; exit 1; }
addr=$(sed -n 's/^tcp=//p' "$dir/ready")

echo "== channels of the embedded default configuration"
./build/smsrctl -a "$addr" channels
secs=${1:-15}
echo "== $secs s of mixed traffic at ${2:-3000} msg/s (codes, notices, promotions; zh-Hans, zh-Hant, en)"
echo "   cmcc-a's link goes down at 1/3 of the run and comes back at 2/3: cmcc-b takes its traffic"
(
	sleep "$((secs / 3))"
	./build/smsrctl -a "$addr" channels ctl cmcc-a fault down >/dev/null
	echo "   -- cmcc-a down" >&2
	sleep "$((secs / 3))"
	./build/smsrctl -a "$addr" channels ctl cmcc-a fault none >/dev/null
	echo "   -- cmcc-a back" >&2
) &
fault=$!
./build/smsr-load -a "$addr" --rate "${2:-3000}" --duration "$secs" --batch 20 --depth 4 --follow
wait "$fault"
echo "== channels after the run"
./build/smsrctl -a "$addr" channels
echo "== router counters"
./build/smsrctl -a "$addr" stats
