#!/usr/bin/env bash
# Runs benchmarks: ./build.sh bench [name ...] [--option value ...]; with no name, all of them. Output is meant for humans and notes.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/BulletBench/BulletBench.csproj -c Release --nologo -v quiet >/dev/null
BIN=bench/BulletBench/bin/Release/net10.0/linux-x64/BulletBench
# Names first, then options for them: ./build.sh bench speedrun --time-budget 120 --texts shakespeare
names=()
while [ $# -gt 0 ] && [[ $1 != -* ]]; do names+=("$1"); shift; done
if [ ${#names[@]} -eq 0 ]; then read -r -a names <<< "$("$BIN" 2>&1 | sed -n 's/.*<\(.*\)>.*/\1/p' | tr '|' ' ')"; fi
for name in "${names[@]}"; do
  echo "### $name"
  "$BIN" "$name" "$@"
done
