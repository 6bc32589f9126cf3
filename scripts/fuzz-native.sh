#!/usr/bin/env bash
# libFuzzer on the native safetensors header parser, for a bounded time (not part of CI):
#   bash scripts/fuzz-native.sh [seconds=60]
# Needs clang and its fuzzer runtime (Debian: apt-get install clang-14 libclang-rt-14-dev). Builds
# build-fuzz/fuzz_safetensors_header with ASan + UBSan, seeds it from native/fuzz/corpus/, and runs it;
# crashing inputs are written to native/fuzz/regressions/ (commit them: the C++ tests replay every file
# there through the parser and require a typed error or a parsed header).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
CXX="${CXX_FUZZ:-$(command -v clang++-14 || command -v clang++ || true)}"
if [ -z "$CXX" ]; then
  echo "fuzz-native: clang++ not found (apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 2
fi
cfg=$(node scripts/native-config.cjs json)
inc=$(node -e 'const c=JSON.parse(process.argv[1]); console.log(c.torch.includeDirs.filter(d=>!["/usr/include","/usr/local/include"].includes(d)).map(d=>"-isystem"+d).join(" "))' "$cfg")
defs=$(node -e 'const c=JSON.parse(process.argv[1]); console.log(c.defines.map(d=>"-D"+d).join(" "))' "$cfg")
libdir=$(node -e 'console.log(JSON.parse(process.argv[1]).torch.libDir)' "$cfg")
mkdir -p build-fuzz native/fuzz/regressions
# shellcheck disable=SC2086
"$CXX" -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $defs -Inative $inc \
  native/fuzz/fuzz_safetensors_header.cpp native/core/model/safetensors.cpp \
  -L"$libdir" -Wl,-rpath,"$libdir" -ltorch_cpu -lc10 -o build-fuzz/fuzz_safetensors_header
work=$(mktemp -d)
cp native/fuzz/corpus/* "$work/" 2>/dev/null || true
ASAN_OPTIONS=detect_leaks=0 build-fuzz/fuzz_safetensors_header "$work" -max_total_time="$seconds" -timeout=5 \
  -max_len=4096 -artifact_prefix=native/fuzz/regressions/ -print_final_stats=1
rm -rf "$work"
