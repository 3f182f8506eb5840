#!/usr/bin/env bash
# Build in release mode and run every benchmark; JSON lines on stdout.
# Usage: bash bench/run-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
for b in build/bench_*; do
	[ -x "$b" ] && "$b"
done
