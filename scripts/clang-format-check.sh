#!/usr/bin/env bash
# Fails when a tracked C++/CUDA source under native/ differs from what clang-format (.clang-format) writes.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files 'native/*.cpp' 'native/*.h' 'native/*.cu' | xargs clang-format --dry-run --Werror
