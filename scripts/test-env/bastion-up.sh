#!/usr/bin/env bash
# Starts a second sshd on 127.0.0.1:2223 as a bastion (jump host) in front of the test login sshd
# that slurm-up.sh started, for the tests of ProxyJump, ssh-agent and passphrase-protected keys.
# Idempotent and safe to run while tests use the login sshd: it never restarts that one, and it
# only starts the bastion when its recorded pid is not alive. Must run as root.
#
#   bash scripts/test-env/bastion-up.sh     # prints the bastion's settings as JSON
#
# What it makes, under $GPU_DAG_TEST_ENV_DIR/ssh (default /tmp/gpu-dag-slurm/ssh):
#   bastion_host_ed25519    the bastion's host key
#   agent_ed25519           a client key protected by a passphrase (agent_ed25519.passphrase, 0600:
#                           a test-only secret), authorized on the bastion and the login sshd
#   bastion_sshd_config     forwarding allowed to the login sshd only; LogLevel DEBUG1, so each
#                           forwarded connection is logged (log/bastion-sshd.out)
# and the user `gpudagjump` (no password, no shell). Settings: <repo>/.test-env/bastion.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
env_dir="${GPU_DAG_TEST_ENV_DIR:-/tmp/gpu-dag-slurm}"
ssh_dir="$env_dir/ssh"
login_port="${GPU_DAG_SSH_PORT:-2222}"
bastion_port="${GPU_DAG_BASTION_PORT:-2223}"
jump_user="${GPU_DAG_BASTION_USER:-gpudagjump}"
pid_file="$env_dir/pids/bastion-sshd.pid"

log() { printf '[bastion-up] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it adds a user and starts sshd)"
[ -s "$ssh_dir/client_ed25519.pub" ] || die "$ssh_dir/client_ed25519.pub is missing: run scripts/test-env/slurm-up.sh first"
mkdir -p "$env_dir/pids" "$env_dir/log"

# One at a time (several test runs may call it at once).
exec 9>"$env_dir/bastion.lock"
flock 9

if ! id "$jump_user" >/dev/null 2>&1; then
  useradd -m -s /usr/sbin/nologin "$jump_user"
fi
usermod -p '*' "$jump_user"

[ -s "$ssh_dir/bastion_host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C gpu-dag-test-bastion -f "$ssh_dir/bastion_host_ed25519"
if [ ! -s "$ssh_dir/agent_ed25519" ]; then
  umask 077
  head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$ssh_dir/agent_ed25519.passphrase"
  ssh-keygen -q -t ed25519 -N "$(cat "$ssh_dir/agent_ed25519.passphrase")" -C gpu-dag-test-agent-key -f "$ssh_dir/agent_ed25519"
  umask 022
fi
chmod 600 "$ssh_dir/agent_ed25519" "$ssh_dir/agent_ed25519.passphrase"

# write_if_changed FILE: stdin to FILE, atomically, only when it differs (sshd reads it per login).
write_if_changed() {
  local tmp; tmp="$(mktemp "$1.XXXXXX")"
  cat >"$tmp"
  if cmp -s "$tmp" "$1" 2>/dev/null; then rm -f "$tmp"; else chmod 644 "$tmp"; mv -f "$tmp" "$1"; fi
}

agent_pub="$(cut -d' ' -f1,2 "$ssh_dir/agent_ed25519.pub")"
# The login sshd accepts the agent key too (slurm-up.sh writes the same two lines).
if ! grep -qF "$agent_pub" "$ssh_dir/authorized_keys" 2>/dev/null; then
  { cat "$ssh_dir/authorized_keys" 2>/dev/null || true; cat "$ssh_dir/agent_ed25519.pub"; } | write_if_changed "$ssh_dir/authorized_keys"
fi
cat "$ssh_dir/client_ed25519.pub" "$ssh_dir/agent_ed25519.pub" | write_if_changed "$ssh_dir/bastion_authorized_keys"

write_if_changed "$ssh_dir/bastion_sshd_config" <<EOF
Port $bastion_port
ListenAddress 127.0.0.1
HostKey $ssh_dir/bastion_host_ed25519
PidFile $ssh_dir/bastion-sshd.pid
AuthorizedKeysFile $ssh_dir/bastion_authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers $jump_user
StrictModes no
UsePAM no
PrintMotd no
# A bastion: no shell work, forwarding to the login node only.
AllowTcpForwarding local
PermitOpen 127.0.0.1:$login_port
X11Forwarding no
# DEBUG1 logs each forwarded connection ("target 127.0.0.1 port $login_port"): tests count them.
LogLevel DEBUG1
MaxStartups 64:30:128
EOF

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if ! alive "$pid_file"; then
  log "starting the bastion sshd on 127.0.0.1:$bastion_port"
  install -d -m 755 /run/sshd
  setsid /usr/sbin/sshd -D -e -f "$ssh_dir/bastion_sshd_config" >>"$env_dir/log/bastion-sshd.out" 2>&1 </dev/null &
  echo $! >"$pid_file"
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$bastion_port") 2>/dev/null && break
    alive "$pid_file" || die "the bastion sshd exited; see $env_dir/log/bastion-sshd.out"
    sleep 0.05
  done
fi

mkdir -p "$repo/.test-env"
write_if_changed "$repo/.test-env/bastion.json" <<EOF
{
  "host": "127.0.0.1",
  "port": $bastion_port,
  "user": "$jump_user",
  "hostKey": "$(cut -d' ' -f1,2 "$ssh_dir/bastion_host_ed25519.pub")",
  "loginPort": $login_port,
  "agentKey": "$ssh_dir/agent_ed25519",
  "agentKeyPassphraseFile": "$ssh_dir/agent_ed25519.passphrase",
  "log": "$env_dir/log/bastion-sshd.out",
  "pidFile": "$pid_file"
}
EOF
cat "$repo/.test-env/bastion.json"
