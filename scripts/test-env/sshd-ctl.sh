#!/usr/bin/env bash
# Stops or starts only the test sshd that slurm-up.sh started (by its recorded pid), for tests
# that drop the SSH connection mid-run.
#
#   bash scripts/test-env/sshd-ctl.sh stop    # kills the listener and its per-connection children
#   bash scripts/test-env/sshd-ctl.sh start   # starts it again with the same config and keys
set -euo pipefail

env_dir="${GPU_DAG_TEST_ENV_DIR:-/tmp/gpu-dag-slurm}"
pid_file="$env_dir/pids/sshd.pid"
config="$env_dir/ssh/sshd_config"

case "${1:-}" in
  stop)
    [ -s "$pid_file" ] || exit 0
    pid="$(cat "$pid_file")"
    children="$(pgrep -P "$pid" || true)"
    kill "$pid" $children 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$pid_file"
    ;;
  start)
    if [ -s "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then exit 0; fi
    install -d -m 755 /run/sshd
    setsid /usr/sbin/sshd -D -e -f "$config" >>"$env_dir/log/sshd.out" 2>&1 </dev/null &
    echo $! >"$pid_file"
    port="$(awk '/^Port /{print $2}' "$config")"
    for _ in $(seq 100); do
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && exit 0
      sleep 0.05
    done
    echo "sshd did not listen on $port" >&2; exit 1
    ;;
  *) echo "usage: $0 stop|start" >&2; exit 2 ;;
esac
