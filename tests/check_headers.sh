#!/usr/bin/env bash
# Checks that every public header compiles on its own (includes what it uses), twice included
# (include guards). Headers under backend/cuda/ and distributed/nccl.hpp need the CUDA toolkit and
# are compiled by the CUDA step (tests/cuda/networks.cu).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
flags="-std=c++20 -fsyntax-only -fopenmp -Wall -Wextra -Werror -I$root/include
       -isystem /usr/include/x86_64-linux-gnu/openblas-pthread -isystem /usr/include/opencv4
       -DTHRUST_DEVICE_SYSTEM=THRUST_DEVICE_SYSTEM_OMP"
[[ -d /usr/local/cuda/include/cccl ]] && flags+=" -isystem /usr/local/cuda/include/cccl"
# distributed/mpi.hpp includes <mpi.h>, found through MPI's compiler wrapper (libopenmpi-dev).
skip=()
if command -v mpicxx >/dev/null; then flags+=" $(mpicxx --showme:compile)"; else skip=(! -path hush/distributed/mpi.hpp); fi
export flags
cd "$root/include"
find hush -name '*.hpp' ! -path 'hush/backend/cuda/*' ! -path hush/distributed/nccl.hpp "${skip[@]}" | sort |
  xargs -P "${HUSH_JOBS:-$(nproc)}" -I{} bash -c \
    'printf "#include <{}>\n#include <{}>\n" | g++ $flags -x c++ - || { echo "does not compile on its own: {}" >&2; exit 255; }'
echo "every public header compiles on its own"
