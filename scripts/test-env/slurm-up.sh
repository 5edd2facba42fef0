#!/usr/bin/env bash
# Starts a real one-node Slurm (munge, slurmctld, slurmd) and an sshd on 127.0.0.1:2222 for the
# `slurm` test tier and the Slurm benchmarks, and a bastion sshd in front of it (bastion-up.sh). Idempotent: run it again and it only starts what is
# not running. Must run as root (it installs Debian packages and starts daemons without systemd).
#
#   bash scripts/test-env/slurm-up.sh        # prints the connection settings as JSON
#
# Everything it creates lives under $GPU_DAG_TEST_ENV_DIR (default /tmp/gpu-dag-slurm), except
# /etc/slurm/{slurm,gres}.conf (so `sbatch` finds them without SLURM_CONF), the `gpudag` user and
# its home. The pids it started are in $GPU_DAG_TEST_ENV_DIR/pids; slurm-down.sh stops those only.
# Connection settings are written to <repo>/.test-env/slurm.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
env_dir="${GPU_DAG_TEST_ENV_DIR:-/tmp/gpu-dag-slurm}"
ssh_port="${GPU_DAG_SSH_PORT:-2222}"
ssh_user="${GPU_DAG_SSH_USER:-gpudag}"
pid_dir="$env_dir/pids"
node_name="$(hostname -s 2>/dev/null || echo localhost)"

log() { printf '[slurm-up] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts daemons)"

# --- packages ------------------------------------------------------------------------------
need=()
for pkg in slurmctld slurmd slurm-client munge openssh-server; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

mkdir -p "$env_dir" "$pid_dir" "$env_dir/state" "$env_dir/spool" "$env_dir/log" "$env_dir/gpus" "$env_dir/ssh"
chmod 755 "$env_dir"

# alive PIDFILE: true when the pid recorded in PIDFILE is a live process.
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# start NAME CMD...: starts CMD in the background (foreground mode daemons) and records its pid.
start() {
  local name="$1"; shift
  if alive "$pid_dir/$name.pid"; then return 0; fi
  log "starting $name"
  setsid "$@" >>"$env_dir/log/$name.out" 2>&1 </dev/null &
  echo $! >"$pid_dir/$name.pid"
}

# --- user for SSH ----------------------------------------------------------------------------
if ! id "$ssh_user" >/dev/null 2>&1; then
  useradd -m -s /bin/bash "$ssh_user"
fi
# Under `UsePAM no` a "!" password field means locked: unlock it (no password works anyway).
usermod -p '*' "$ssh_user"
user_home="$(getent passwd "$ssh_user" | cut -d: -f6)"
job_dir="$user_home/gpu-dag-jobs"
install -d -o "$ssh_user" -g "$ssh_user" "$job_dir"
# node for controllers that run on the cluster later.
if [ ! -x /usr/bin/node ] && command -v node >/dev/null; then ln -sf "$(command -v node)" /usr/bin/node; fi

# --- munge -----------------------------------------------------------------------------------
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom bs=1 count=128 of=/etc/munge/munge.key 2>/dev/null
  chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
fi
install -d -o munge -g munge -m 755 /run/munge /var/lib/munge /var/log/munge
start munged runuser -u munge -- /usr/sbin/munged --foreground
for _ in $(seq 50); do [ -S /run/munge/munge.socket.2 ] && break; sleep 0.1; done

# --- slurm config ----------------------------------------------------------------------------
for i in 0 1 2 3; do ln -sf /dev/null "$env_dir/gpus/nvidia$i"; done
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
conf="$(cat <<EOF
# Written by gpu-dag scripts/test-env/slurm-up.sh: a one-node test cluster on loopback.
ClusterName=gpudag-test
SlurmctldHost=$node_name(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$env_dir/state
SlurmdSpoolDir=$env_dir/spool
SlurmctldPidFile=$env_dir/slurmctld.pid
SlurmdPidFile=$env_dir/slurmd.pid
SlurmctldLogFile=$env_dir/log/slurmctld.log
SlurmdLogFile=$env_dir/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$env_dir/log/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SlurmdParameters=config_overrides
MinJobAge=3600
ReturnToService=2
MpiDefault=none
GresTypes=gpu
KillWait=5
InactiveLimit=0
NodeName=$node_name NodeAddr=127.0.0.1 CPUs=8 RealMemory=$mem_mb Gres=gpu:4 State=UNKNOWN
PartitionName=cpu Nodes=$node_name Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu-a100 Nodes=$node_name MaxTime=INFINITE State=UP
PartitionName=gpu-h100 Nodes=$node_name MaxTime=INFINITE State=UP
EOF
)"
gres="Name=gpu File=$env_dir/gpus/nvidia[0-3]"
mkdir -p /etc/slurm
changed=0
if [ "$(cat /etc/slurm/slurm.conf 2>/dev/null)" != "$conf" ]; then printf '%s\n' "$conf" >/etc/slurm/slurm.conf; changed=1; fi
if [ "$(cat /etc/slurm/gres.conf 2>/dev/null)" != "$gres" ]; then printf '%s\n' "$gres" >/etc/slurm/gres.conf; changed=1; fi
if [ "$changed" = 1 ] && alive "$pid_dir/slurmctld.pid"; then
  log "config changed: reconfiguring"
  scontrol reconfigure || true
fi

start slurmctld /usr/sbin/slurmctld -D -i
start slurmd /usr/sbin/slurmd -D

# --- sshd ------------------------------------------------------------------------------------
ssh_dir="$env_dir/ssh"
[ -s "$ssh_dir/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C gpu-dag-test-host -f "$ssh_dir/host_ed25519"
[ -s "$ssh_dir/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C gpu-dag-test-client -f "$ssh_dir/client_ed25519"
# The client key, and the bastion's passphrase-protected agent key once bastion-up.sh made it;
# written atomically (sshd reads the file at every login, also while tests run).
cat "$ssh_dir/client_ed25519.pub" $( [ -s "$ssh_dir/agent_ed25519.pub" ] && echo "$ssh_dir/agent_ed25519.pub" ) >"$ssh_dir/authorized_keys.tmp"
chmod 644 "$ssh_dir/authorized_keys.tmp"
mv -f "$ssh_dir/authorized_keys.tmp" "$ssh_dir/authorized_keys"
printf '[127.0.0.1]:%s %s\n' "$ssh_port" "$(cut -d' ' -f1,2 "$ssh_dir/host_ed25519.pub")" >"$ssh_dir/known_hosts"
cat >"$ssh_dir/sshd_config" <<EOF
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $ssh_dir/host_ed25519
PidFile $ssh_dir/sshd.pid
AuthorizedKeysFile $ssh_dir/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers $ssh_user
StrictModes no
UsePAM no
PrintMotd no
# OpenSSH's default, as on real login nodes: the transport must bound its own channels.
MaxSessions 10
MaxStartups 64:30:128
Subsystem sftp internal-sftp
EOF
install -d -m 755 /run/sshd
start sshd /usr/sbin/sshd -D -e -f "$ssh_dir/sshd_config"

# --- wait until usable -----------------------------------------------------------------------
ssh_cmd=(ssh -p "$ssh_port" -i "$ssh_dir/client_ed25519" -o BatchMode=yes -o ConnectTimeout=3
  -o UserKnownHostsFile="$ssh_dir/known_hosts" -o StrictHostKeyChecking=yes "$ssh_user@127.0.0.1")
deadline=$((SECONDS + 60))
state=""
while :; do
  state="$(sinfo -h -n "$node_name" -o '%T' 2>/dev/null | head -1 || true)"
  case "$state" in
    drain*|drained*|down*)
      log "node is $state: resuming"
      scontrol update nodename="$node_name" state=resume 2>/dev/null || true ;;
    idle*|mixed*|allocated*|completing*) break ;;
  esac
  [ "$SECONDS" -lt "$deadline" ] || die "node not idle after 60 s (state '$state'); see $env_dir/log"
  sleep 0.2
done
until "${ssh_cmd[@]}" sinfo -h -o %P >/dev/null 2>&1; do
  [ "$SECONDS" -lt "$deadline" ] || die "ssh $ssh_user@127.0.0.1:$ssh_port cannot run sinfo; see $env_dir/log/sshd.out"
  sleep 0.2
done

# --- connection settings -------------------------------------------------------------------
mkdir -p "$repo/.test-env"
cat >"$repo/.test-env/slurm.json" <<EOF
{
  "host": "127.0.0.1",
  "port": $ssh_port,
  "user": "$ssh_user",
  "identityFile": "$ssh_dir/client_ed25519",
  "knownHosts": "$ssh_dir/known_hosts",
  "jobDir": "$job_dir",
  "loginNodeJobDir": "$env_dir/login-jobs",
  "envDir": "$env_dir",
  "node": "$node_name",
  "partitions": { "cpu": "cpu", "gpuA100": "gpu-a100", "gpuH100": "gpu-h100" },
  "gpusPerNode": 4,
  "sshdCtl": "$here/sshd-ctl.sh"
}
EOF
# --- bastion (jump host) in front of the login sshd --------------------------------------------
bash "$here/bastion-up.sh" >/dev/null

log "up (node $node_name $state); settings in $repo/.test-env/slurm.json"
cat "$repo/.test-env/slurm.json"
