#!/usr/bin/env bash
# Install what smsr builds and tests with, from Debian 12's packages, and the
# npm packages of the test peers (tests/peers: an SMPP SMSC on node-smpp).
# Runs apt-get as root (directly, or through sudo when not root).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

pkgs=(build-essential cmake pkg-config
      liburing-dev libck-dev libjemalloc-dev libprotobuf-c-dev protobuf-c-compiler
      libcmocka-dev libconfig-dev libsqlite3-dev sqlite3 protobuf-compiler python3-protobuf
      libsmpp34-dev clang libclang-rt-14-dev)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done

# Node.js and npm for tests/peers. A nodejs already installed from elsewhere
# (e.g. NodeSource, which bundles npm) is used as it is: Debian's npm package
# conflicts with it, so npm is only added when node is Debian's own.
if ! command -v node >/dev/null 2>&1; then
	missing+=(nodejs)
	command -v npm >/dev/null 2>&1 || missing+=(npm)
elif ! command -v npm >/dev/null 2>&1; then
	if dpkg-query -W -f='${Version}' nodejs 2>/dev/null | grep -qi nodesource; then
		echo "smsr: node is installed from NodeSource but npm is missing; reinstall nodejs" >&2
		exit 1
	fi
	missing+=(npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
	echo "smsr: dependencies already installed"
else
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	echo "smsr: installing ${missing[*]}"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The test peers' npm packages, exactly as locked; again whenever the lock
# is newer than the installed tree.
peers="$root/tests/peers"
if [ -f "$peers/package-lock.json" ] &&
   { [ ! -d "$peers/node_modules" ] || [ "$peers/package-lock.json" -nt "$peers/node_modules" ]; }; then
	echo "smsr: installing the test peers' npm packages (tests/peers)"
	npm ci --prefix "$peers" --no-audit --no-fund --loglevel=error >/dev/null
	touch "$peers/node_modules"
fi
