#!/usr/bin/env bash
# Runs benchmarks: ./build.sh bench [name ...]; with no name, all of them. Output is meant for humans and notes.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/BulletBench/BulletBench.csproj -c Release --nologo -v quiet >/dev/null
BIN=bench/BulletBench/bin/Release/net10.0/linux-x64/BulletBench
if [ $# -eq 0 ]; then set -- $("$BIN" 2>&1 | sed -n 's/.*<\(.*\)>.*/\1/p' | tr '|' ' '); fi
for name in "$@"; do
  echo "### $name"
  "$BIN" "$name"
done
