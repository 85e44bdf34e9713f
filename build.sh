#!/usr/bin/env bash
# Bullet Dashboard build entry point.
#   ./build.sh          install what is missing, build the native library and the Python packages
#   ./build.sh test     build, then run every test suite (NUnit, pytest, Vitest, browser tests in Chromium)
#   ./build.sh run      build, then start the product
#   ./build.sh bench    build, then run the benchmarks in bench/
#   ./build.sh wheel    build, then write dist/bullet_native-<version>-py3-none-linux_x86_64.whl
#   ./build.sh notebook build, then start Jupyter Notebook on examples/ with the kernel "Python (bullet_native)"
# Idempotent: steps whose inputs did not change are skipped.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
VENV="$ROOT/.venv"
NATIVE_OUT="$ROOT/build-out/native"
PY_PKG="$ROOT/python/bullet_native"
FRONTEND="$ROOT/frontend"
UI_OUT="$ROOT/python/bullet_dashboard/static"
# Only the browser tests need these; `./build.sh run` stays lean.
BROWSER_PACKAGES=(chromium chromium-driver)
# Only `./build.sh notebook` needs these: Debian's Jupyter Notebook 6.4 (it serves its own files, so it works offline).
NOTEBOOK_PACKAGES=(jupyter-notebook)
# The Jupyter kernel that runs this checkout's .venv; examples/*.ipynb name it in their metadata.
KERNEL_NAME=bullet-native
KERNEL_DISPLAY_NAME="Python (bullet_native)"
# Only the PyTorch bridge tests (python/tests/test_torch_*.py) need these: PyTorch 1.13 for CPU, about 1 GB with its
# dependencies and a few minutes to install once. Installed here so CI does not rely on the tests' own apt fallback.
TORCH_TEST_PACKAGES=(python3-torch libopenblas0-pthread)
APT_PACKAGES=(gcc python3 python3-venv python3-pip python3-numpy python3-pytest python3-fastapi python3-uvicorn
              python3-httpx python3-multipart python3-jsonschema
              python3-ipykernel python3-nbclient python3-nbformat python3-matplotlib)

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Installs the given Debian packages that are missing.
apt_install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

install_system_packages() {
  apt_install_missing "${APT_PACKAGES[@]}"
  if ! command -v dotnet >/dev/null; then
    echo "error: the .NET SDK 10 is required (https://dot.net); 'dotnet' is not on PATH" >&2
    exit 1
  fi
}

# True when any file under the given paths is newer than the stamp (or the stamp is missing).
changed_since() {
  local stamp=$1; shift
  [ ! -f "$stamp" ] && return 0
  [ -n "$(find "$@" -newer "$stamp" -type f -not -path '*/bin/*' -not -path '*/obj/*' -print -quit)" ]
}

build_native() {
  local stamp="$NATIVE_OUT/.stamp"
  if changed_since "$stamp" dotnet/BulletNative dotnet/BulletKernels512 dotnet/native dotnet/TorchNatives.targets tools/weaken_glibcxx.py tools/elf_needs.py \
       || [ ! -f "$PY_PKG/libbullet_native.so" ]; then
    log "publishing the native library (NativeAOT)"
    dotnet publish dotnet/BulletNative/BulletNative.csproj -c Release -o "$NATIVE_OUT" --nologo -v quiet \
      -p:DebugType=none -p:DebugSymbols=false
    # The AVX-512 kernel, compiled for x86-64-v4; the library loads it from beside itself when the processor has AVX-512.
    dotnet publish dotnet/BulletKernels512/BulletKernels512.csproj -c Release -o "$NATIVE_OUT" --nologo -v quiet \
      -p:DebugType=none -p:DebugSymbols=false
    # libtorch's test and Python-binding libraries are published too but never loaded.
    rm -f "$NATIVE_OUT"/lib{jitbackend_test,torchbind_test,aoti_custom_ops,nnapi_backend,backend_with_compiler,torch_python,shm}.so
    # A symlink, not a copy: the library finds libtorch beside its real path (build-out/native).
    ln -sfn "$NATIVE_OUT/libbullet_native.so" "$PY_PKG/libbullet_native.so"
    ln -sfn "$NATIVE_OUT/libbullet_kernels_avx512.so" "$PY_PKG/libbullet_kernels_avx512.so"
    touch "$stamp"
  fi
}

build_python() {
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating .venv from Debian's Python (with system site packages)"
    /usr/bin/python3 -m venv --system-site-packages "$VENV"
  fi
  local stamp="$VENV/.bullet-installed"
  if changed_since "$stamp" pyproject.toml; then
    log "installing the Python packages into .venv (editable)"
    "$VENV/bin/pip" install --quiet --no-index --no-build-isolation --no-deps -e . 
    touch "$stamp"
  fi
}

# Registers the kernel twice, each only when it does not already run this .venv: inside .venv (what
# `./build.sh notebook` and the tests use, whatever another checkout registers) and for the user (what any Jupyter
# or VS Code this user starts lists; on a machine with several checkouts the one built last wins).
register_kernel() {
  local user_dir="${JUPYTER_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/jupyter}"
  local scope spec
  for scope in --sys-prefix --user; do
    if [ "$scope" = --user ]; then spec="$user_dir/kernels/$KERNEL_NAME"; else spec="$VENV/share/jupyter/kernels/$KERNEL_NAME"; fi
    if ! grep -qF "\"$VENV/bin/python\"" "$spec/kernel.json" 2>/dev/null; then
      log "registering the Jupyter kernel $KERNEL_NAME ($scope)"
      # Python 3.11's frozen modules make the kernel's debugger print a warning at every start; it only concerns
      # breakpoints in the standard library.
      "$VENV/bin/python" -Xfrozen_modules=off -m ipykernel install "$scope" --name "$KERNEL_NAME" \
        --display-name "$KERNEL_DISPLAY_NAME" --env PYDEVD_DISABLE_FILE_VALIDATION 1 >/dev/null
    fi
  done
}

build_frontend() {
  if ! command -v npm >/dev/null; then
    echo "error: Node.js 20 (or newer) with npm is required to build the frontend; 'npm' is not on PATH" >&2
    exit 1
  fi
  local deps_stamp="$FRONTEND/node_modules/.bullet-npm-ci"
  if [ ! -f "$deps_stamp" ] || [ "$FRONTEND/package-lock.json" -nt "$deps_stamp" ]; then
    log "installing the frontend's npm packages (npm ci)"
    (cd "$FRONTEND" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$deps_stamp"
  fi
  # The API types the frontend compiles against are generated from the server's OpenAPI document.
  local types_stamp="$FRONTEND/node_modules/.bullet-api-types"
  if changed_since "$types_stamp" python/bullet_dashboard/*.py python/bullet_dashboard/routes python/bullet_dashboard/schemas \
       python/bullet_native/*.py tools/api_contract.py "$FRONTEND/package-lock.json"; then
    log "generating the frontend's API types from the OpenAPI document"
    "$VENV/bin/python" tools/api_contract.py
    touch "$types_stamp"
  fi
  local ui_stamp="$UI_OUT/.bullet-built"
  if [ ! -f "$UI_OUT/index.html" ] || changed_since "$ui_stamp" "$FRONTEND/src" "$FRONTEND/index.html" "$FRONTEND/vite.config.ts" \
       "$FRONTEND/tsconfig.json" "$FRONTEND/package-lock.json"; then
    log "building the frontend into python/bullet_dashboard/static"
    (cd "$FRONTEND" && npm run --silent build)
    touch "$ui_stamp"
  fi
}

build_all() {
  install_system_packages
  build_native
  build_python
  register_kernel
  build_frontend
}

# A pinned npm package the tests use from tools/DIR: node-llama-cpp (llama.cpp's prebuilt CPU binaries, GGUF tests and
# bench) and the official OpenAI client (the /v1 API tests).
install_node_tool() {
  local dir="$ROOT/tools/$1" stamp="$ROOT/tools/$1/node_modules/.bullet-installed"
  if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
    echo "error: the tests need Node.js 20 or newer (https://nodejs.org); 'node' is missing or older" >&2
    exit 1
  fi
  if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
    log "installing $2 into tools/$1 (for the tests)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
}

run_tests() {
  install_node_tool llama "node-llama-cpp 3.21.1"
  install_node_tool openai "openai 5.23.2"
  log "NUnit"
  dotnet test dotnet/BulletNative.Tests/BulletNative.Tests.csproj --nologo -v quiet --logger "console;verbosity=minimal"
  log "pytest"
  apt_install_missing "${TORCH_TEST_PACKAGES[@]}"
  "$VENV/bin/python" -m pytest python/tests -q
  log "Vitest"
  (cd "$FRONTEND" && npm test --silent)
  log "browser tests (Chromium)"
  apt_install_missing "${BROWSER_PACKAGES[@]}"
  (cd "$FRONTEND" && BULLET_PYTHON="$VENV/bin/python" CHROMIUM=/usr/bin/chromium node browser-tests/run.mjs)
}

# Jupyter Notebook from .venv (which sees Debian's notebook package), this checkout's kernel first.
run_notebook() {
  apt_install_missing "${NOTEBOOK_PACKAGES[@]}"
  local as_root=()
  # Jupyter refuses to start as root without being told (containers and CI machines often run as root).
  [ "$(id -u)" = 0 ] && as_root=(--allow-root)
  log "Jupyter Notebook on examples/ (Ctrl+C stops it)"
  JUPYTER_PATH="$VENV/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}" \
    exec "$VENV/bin/python" -m notebook --notebook-dir="$ROOT/examples" "${as_root[@]}" "$@"
}

run_product() {
  "$VENV/bin/python" -m bullet_dashboard --open-dataset children_stories "$@"
}

case "${1:-build}" in
  build) build_all ;;
  test) build_all; run_tests ;;
  run) build_all; shift; run_product "$@" ;;
  bench) build_all; shift; "$ROOT/bench/run.sh" "$@" ;;
  wheel) build_all; shift; "$VENV/bin/python" tools/build_wheel.py "$@" ;;
  notebook) build_all; shift; run_notebook "$@" ;;
  *) echo "usage: ./build.sh [build|test|run|bench|wheel|notebook]" >&2; exit 2 ;;
esac
