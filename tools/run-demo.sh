#!/usr/bin/env bash
# Set everything up, build, and run the router on its embedded default
# configuration with a mixed load, a live progress line and a summary.
# Usage: bash tools/run-demo.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target smsr-demo >/dev/null
exec ./build/smsr-demo "${1:-20}"
