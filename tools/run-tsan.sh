#!/usr/bin/env bash
# Build the ThreadSanitizer configuration (SMSR_TSAN) in build-tsan and run
# the threaded tests under it: every integration test (the router's worker
# threads, smsrd and its threads over real sockets) and the unit tests
# labelled `threaded`. Exits non-zero if a test fails or TSan reports
# anything, in a test or in an smsrd it started. tests/tsan.supp says why
# each suppression is benign.
#
# Usage: bash tools/run-tsan.sh [RUNS]   (RUNS: repeat the suite, default 1)
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-1}
jobs=2 # the suite is timing-heavy; more jobs than cores only slows it down
[ "$(nproc)" -ge 2 ] || jobs=1

bash tools/install-deps.sh
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DSMSR_TSAN=ON -DSMSR_WERROR=ON >/dev/null
cmake --build build-tsan -j"$jobs"

# Reports go to files (one per process) so none is lost when a test does
# not check a child's exit status; halt_on_error stops at the first one.
logs=build-tsan/tsan-logs
rm -rf "$logs"
mkdir -p "$logs"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:history_size=4\
:suppressions=$PWD/tests/tsan.supp:log_path=$PWD/$logs/tsan"

status=0
for ((i = 1; i <= runs; i++)); do
	echo "== TSan run $i/$runs"
	ctest --test-dir build-tsan -L 'integration|threaded' --output-on-failure \
		-j"$jobs" || status=1
done
if compgen -G "$logs/tsan.*" >/dev/null; then
	cat "$logs"/tsan.*
	echo "run-tsan: ThreadSanitizer reports in $logs" >&2
	status=1
fi
exit $status
