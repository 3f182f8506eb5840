#!/usr/bin/env bash
# Build the libFuzzer harnesses (clang, ASan+UBSan) in build-fuzz and run
# each for a bounded time on a fresh corpus. Exits non-zero on the first
# crash, leak or sanitizer report (libFuzzer writes the input that did it
# to build-fuzz/). CI runs it short; longer runs take SECONDS.
#
# Usage: bash tools/run-fuzz.sh [SECONDS]   (per harness, default 60)
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
bash tools/install-deps.sh
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DSMSR_FUZZ=ON -DSMSR_SANITIZE=ON \
	-DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_smpp_pdu fuzz_wire_frame
for h in fuzz_smpp_pdu fuzz_wire_frame; do
	mkdir -p "build-fuzz/corpus-$h"
	echo "== $h: ${secs} s"
	if ! (cd build-fuzz && ASAN_OPTIONS=detect_leaks=1 ./"$h" -max_total_time="$secs" \
		-max_len=4096 -print_final_stats=1 "corpus-$h" >"$h.log" 2>&1); then
		tail -n 60 "build-fuzz/$h.log"
		echo "$h: FAILED (input saved in build-fuzz/)"
		exit 1
	fi
	grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" "build-fuzz/$h.log"
done
