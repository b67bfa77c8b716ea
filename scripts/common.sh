# Shared by scripts/test and scripts/demo: stop with a message that says what failed and what to do.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
step() { echo "== $*"; }
fail() { echo "error: $1" >&2; [[ -n ${2:-} ]] && echo "what to do: $2" >&2; exit 1; }
jobs=${HUSH_JOBS:-$(nproc)}

configure_and_build() {  # configure_and_build BUILD_TYPE [extra cmake args...]
  local type=$1; shift
  step "configure build/ ($type)"
  mkdir -p build
  cmake -S . -B build -DCMAKE_BUILD_TYPE="$type" "$@" >build/configure.log 2>&1 ||
    { cat build/configure.log >&2; fail "cmake could not configure build/ (log above)" "run scripts/setup, then retry"; }
  step "build ($jobs jobs)"
  cmake --build build -j "$jobs" ||
    fail "the build failed (compiler output above)" "fix the first error shown; a stale build/ can be removed with rm -rf build"
}
