#!/bin/bash
# an element of a gpu-dag array job: its array's script runs it (Slurm options are there)
# gpu-dag run run1, step gen[1], attempt 1
set -euo pipefail
__gd_dir=/shared/me/gpu-dag/run1/gen.1/a1
# Exit-code marker: written atomically on any exit, so completion is known without slurmdbd.
__gd_exit() { __gd_code=$?; printf '%s\n' "$__gd_code${__gd_timed_out:+ time-limit}" > "$__gd_dir/exit_code.tmp" && mv -f "$__gd_dir/exit_code.tmp" "$__gd_dir/exit_code"; exit "$__gd_code"; }
trap __gd_exit EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
# Secrets: a 0600 file uploaded beside this script, read once and deleted.
if [ -f "$__gd_dir/.secret.env" ]; then set -a; . "$__gd_dir/.secret.env"; set +a; rm -f "$__gd_dir/.secret.env"; fi
export HF_HOME='/shared/hf cache'
export SEED=1
# gpu-dag's job environment (after the job's own: it cannot be overridden)
export GPU_DAG_ATTEMPT=1
export GPU_DAG_OUTPUT_DIR=/shared/me/gpu-dag/run1/gen.1/a1
export GPU_DAG_RUN_ID=run1
export GPU_DAG_STEP='gen[1]'
# time limit: 3600s, enforced here to the second (Slurm's --time is rounded up to a minute)
__gd_code=0
__gd_t0=$SECONDS
timeout --signal=TERM --kill-after=10s 3600s /shared/venv/bin/python -m gpu_dag_runtime.generate ++seed=1 ++chunk=0 '++note=it'\''s $cheap' || __gd_code=$?
if { [ "$__gd_code" -eq 124 ] || [ "$__gd_code" -eq 137 ]; } && [ $((SECONDS - __gd_t0)) -ge 3600 ]; then __gd_timed_out=1; __gd_code=124; fi
exit "$__gd_code"
