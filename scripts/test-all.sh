#!/usr/bin/env bash
# The test command (README: `npm test`). Runs every tier:
#   unit    — Node only;
#   slurm   — a real Slurm + sshd on loopback, started by scripts/test-env/slurm-up.sh;
#   browser — the dashboard (`gpu-dag ui`) in Debian's headless chromium;
#   python  — real llm-compressor / lm-eval / generation on a tiny local model, in a venv that the
#             tier creates itself (torch==2.13.0 CPU first).
# It installs what it needs. With CI=true a tier whose service cannot be brought up fails; it
# never skips. Extra arguments go to vitest (e.g. `npm test -- --project unit`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

[ -d node_modules ] || npm ci --no-audit --no-fund

npx tsc --noEmit -p tsconfig.json
# Lint and format (biome.json), the layer rule (.dependency-cruiser.cjs) and the API docs
# (typedoc, warnings are errors).
npm run --silent lint
npm run --silent lint:layers
npm run --silent lint:docs

# GPU_DAG_SKIP_SLURM_UP=1 is for running one tier by hand; CI never sets it.
if [ "${GPU_DAG_SKIP_SLURM_UP:-0}" != 1 ]; then
  if [ "$(id -u)" = 0 ]; then
    bash scripts/test-env/slurm-up.sh >/dev/null
  elif [ "${CI:-}" = true ]; then
    echo "test-all: the slurm tier needs root to install and start Slurm + sshd" >&2
    exit 1
  fi
fi

# The browser tier drives Debian's chromium (never a downloaded browser); install it like Slurm.
if [ ! -x "${GPU_DAG_CHROMIUM:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  elif [ "${CI:-}" = true ]; then
    echo "test-all: the browser tier needs chromium (apt-get install chromium, as root)" >&2
    exit 1
  fi
fi

npx vitest run "$@"
