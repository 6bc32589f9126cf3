#!/usr/bin/env bash
# Installs what tft-native needs on a Debian/Ubuntu machine, then its npm dependencies and the build.
# Idempotent: only missing packages are installed. Runs apt-get as root, or through sudo.
#
#   libtorch-dev          libtorch (C++), found by scripts/native-config.cjs
#   libopenblas0-openmp   the BLAS libtorch calls; the OpenMP build shares libtorch's OpenMP threads (the
#                         pthread build runs its own pool against them: measured 1.5-2x slower model)
#   libhwy-dev            Google Highway: the portable SIMD headers the kernels are written in (build time
#                         only; nothing links against libhwy)
#   cmake, g++, make      the addon build (cmake-js) and node-gyp's source fallback
#   python3               node-gyp needs it
#   clang-format          `npm run lint` only (scripts/clang-format-check.sh checks native/ against
#                         .clang-format); neither the build nor the tests use it
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "tft-native setup: run as root or install sudo to install system packages" >&2
    exit 1
  fi
fi

packages=(libtorch-dev libopenblas0-openmp libhwy-dev cmake g++ make python3 clang-format)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "tft-native setup: installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Prefer the OpenMP OpenBLAS when both builds are installed (Debian ranks the pthread one higher).
arch_dir="/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)"
alt="libblas.so.3-$(basename "$arch_dir")"
if [ -e "$arch_dir/openblas-openmp/libblas.so.3" ] && update-alternatives --query "$alt" >/dev/null 2>&1; then
  $SUDO update-alternatives --set "$alt" "$arch_dir/openblas-openmp/libblas.so.3" >/dev/null
fi

npm ci --no-audit --no-fund
npm run build
