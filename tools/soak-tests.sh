#!/usr/bin/env bash
# Run the README's test command (tools/run-tests.sh: release and ASan+UBSan
# builds, the whole suite) N times in a row and count the passes. A run
# that fails keeps its log in the log directory; the soak goes on, so the
# count says how often, not only whether. Exits 1 if any run failed.
# Usage: bash tools/soak-tests.sh N [LOGDIR]
set -uo pipefail
cd "$(dirname "$0")/.."
n=${1:?usage: soak-tests.sh N [LOGDIR]}
logs=${2:-$(mktemp -d /tmp/smsr-soak.XXXXXX)}
mkdir -p "$logs"
pass=0 fail=0
for i in $(seq 1 "$n"); do
	start=$(date +%s)
	if bash tools/run-tests.sh >"$logs/run-$i.log" 2>&1; then
		pass=$((pass + 1))
		rm -f "$logs/run-$i.log"
		verdict=pass
	else
		fail=$((fail + 1))
		verdict="FAIL ($logs/run-$i.log: $(grep -E '^\s*[0-9]+ - |\(Failed\)|\(Timeout\)|\(SEGFAULT\)|Subprocess aborted' "$logs/run-$i.log" | tr -s ' ' | tr '\n' ';' | cut -c1-300))"
	fi
	echo "soak: run $i/$n $verdict in $(($(date +%s) - start)) s"
done
echo "soak: $pass passed, $fail failed (of $n runs of tools/run-tests.sh)"
[ "$fail" -eq 0 ]
