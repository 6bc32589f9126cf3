#!/usr/bin/env bash
# Quick start, step 1 of 2: install what is missing, build, and run the main job on the bundled real data
# (the 30 Dow Jones stocks, 1991-2000): how persistent momentum rankings are, then a walk-forward training
# run that writes a checkpoint and prints its out-of-sample summary. Step 2 is `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node dist/cli/main.js info
node dist/cli/main.js rank momentum
node dist/cli/main.js train
