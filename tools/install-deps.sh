#!/usr/bin/env bash
# Install what smsr builds and tests with, from Debian 12's packages.
# Runs apt-get as root (directly, or through sudo when not root).
set -euo pipefail

pkgs=(build-essential cmake pkg-config
      liburing-dev libck-dev libjemalloc-dev libprotobuf-c-dev protobuf-c-compiler
      libcmocka-dev libconfig-dev protobuf-compiler python3-protobuf libsmpp34-dev)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "smsr: dependencies already installed"
	exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "smsr: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
