#!/usr/bin/env bash
# Makes sure tmux is installed: the terminal tests of `gpu-dag watch` run it in a real terminal
# (a detached tmux session) at several widths. Installs it with apt-get as root (or sudo -n);
# exits 1, saying why, when it is missing and cannot be installed — the tests then fail.
set -euo pipefail
command -v tmux >/dev/null 2>&1 && exit 0
as_root=()
[ "$(id -u)" = 0 ] || as_root=(sudo -n)
if command -v apt-get >/dev/null 2>&1; then
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null 2>&1 ||
    { "${as_root[@]}" apt-get update -qq >/dev/null 2>&1 && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null 2>&1; } || true
fi
command -v tmux >/dev/null 2>&1 || { echo "tmux-up: tmux is not installed and could not be installed (needs apt-get as root or passwordless sudo)" >&2; exit 1; }
