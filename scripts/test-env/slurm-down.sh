#!/usr/bin/env bash
# Stops what scripts/test-env/slurm-up.sh started, by the pids it recorded, and nothing else.
# Leaves packages, configs, keys and the `gpudag` user in place so the next `up` is fast.
set -euo pipefail

env_dir="${GPU_DAG_TEST_ENV_DIR:-/tmp/gpu-dag-slurm}"
pid_dir="$env_dir/pids"
[ -d "$pid_dir" ] || exit 0

for name in sshd slurmd slurmctld munged; do
  file="$pid_dir/$name.pid"
  [ -s "$file" ] || continue
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    echo "[slurm-down] stopping $name ($pid)" >&2
    # sshd: also its per-connection children, found by parent pid.
    children="$( [ "$name" = sshd ] && pgrep -P "$pid" || true)"
    kill "$pid" $children 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
done
