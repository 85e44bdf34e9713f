#!/usr/bin/env bash
# Builds llama.cpp's llama-bench once from the source node-llama-cpp bundles (the same llama.cpp release as its
# prebuilt binaries), CPU only, into build-out/llama.cpp; later calls only print the binary's path.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUNDLE="$ROOT/tools/llama/node_modules/node-llama-cpp/llama/gitRelease.bundle"
SRC="$ROOT/build-out/llama.cpp"
BIN="$SRC/build/bin/llama-bench"
if [ ! -x "$BIN" ] || [ "$BUNDLE" -nt "$BIN" ]; then
  [ -f "$BUNDLE" ] || { echo "error: run ./build.sh test first (it installs node-llama-cpp into tools/llama)" >&2; exit 1; }
  echo "building llama-bench from node-llama-cpp's llama.cpp source (once; about 10 minutes on 2 cores)" >&2
  rm -rf "$SRC"
  git -c advice.detachedHead=false clone --quiet "$BUNDLE" "$SRC"
  cmake -S "$SRC" -B "$SRC/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DGGML_OPENMP=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF >/dev/null
  cmake --build "$SRC/build" --target llama-bench -j "$(nproc)" >/dev/null
fi
echo "$BIN"
