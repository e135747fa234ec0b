#!/bin/bash
# A single-node Slurm cluster on this machine, for the tests of `pixelgpt slurm eval` (docs/cluster.md).
#   scripts/slurm-local.sh start   installs slurm-wlm and munge (apt-get) if missing, starts munged, slurmctld
#                                  and slurmd on localhost, waits until the node is idle, prints SLURM_CONF=...
#   scripts/slurm-local.sh stop    stops each daemon by its own PID
# Needs root (the sandbox layout: SlurmUser=root, proctrack/linuxproc, task/none). State lives in
# $PIXELGPT_SLURM_DIR (default /tmp/pixelgpt-slurm); ports are away from Slurm's defaults (6817/6818): the
# first free pair from 17817/17818 up, so that clusters started at once (parallel test runs) do not meet, or
# $PIXELGPT_SLURMCTLD_PORT and $PIXELGPT_SLURMD_PORT.
set -eu
DIR=${PIXELGPT_SLURM_DIR:-/tmp/pixelgpt-slurm}

port_taken() {  # $1: a TCP port something on localhost listens on
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

fail() {  # $1: the daemon that did not start; $2: its log
    echo "slurm-local.sh: $1 did not start (see $2: $(tail -n 1 "$2" 2>/dev/null || echo 'no log'))" >&2
    exit 1
}

stop_pid() {  # $1: pid file; stops that process only: TERM, then KILL after 10 s
    [ -f "$1" ] || return 0
    local pid
    pid=$(cat "$1")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$1"
}

case "${1:-}" in
start)
    [ "$(id -u)" = 0 ] || { echo "slurm-local.sh: needs root" >&2; exit 1; }
    if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slurm-wlm munge >&2
    fi
    host=$(hostname -s)
    CTLD_PORT=${PIXELGPT_SLURMCTLD_PORT:-}
    SLURMD_PORT=${PIXELGPT_SLURMD_PORT:-}
    if [ -z "$CTLD_PORT" ] || [ -z "$SLURMD_PORT" ]; then
        CTLD_PORT=17817
        while port_taken "$CTLD_PORT" || port_taken $((CTLD_PORT + 1)); do CTLD_PORT=$((CTLD_PORT + 2)); done
        SLURMD_PORT=$((CTLD_PORT + 1))
    fi
    # The daemons keep none of the caller's descriptors beyond stdio, so that a caller waiting for this
    # script's end (a test's process monitor, a pipe read to EOF) is not held open by them.
    for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done 2>/dev/null || true
    mkdir -p "$DIR/state" "$DIR/spool" "$DIR/munge"
    chmod 700 "$DIR/munge"
    [ -f "$DIR/munge/munge.key" ] || { dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 2>/dev/null; chmod 400 "$DIR/munge/munge.key"; }
    cat > "$DIR/slurm.conf" <<CONF
ClusterName=pixelgpt-local
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    printf 'CgroupPlugin=cgroup/v1\nIgnoreSystemd=yes\n' > "$DIR/cgroup.conf"
    munged --force --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" --pid-file="$DIR/munged.pid" \
        --log-file="$DIR/munged.log" --seed-file="$DIR/munge/munge.seed" </dev/null >/dev/null 2>&1 || fail munged "$DIR/munged.log"
    export SLURM_CONF="$DIR/slurm.conf"
    # The daemons get no stdio of ours: a caller reading our output to its end must not wait for them.
    slurmctld -f "$SLURM_CONF" -i </dev/null >/dev/null 2>&1 || fail slurmctld "$DIR/slurmctld.log"
    slurmd -f "$SLURM_CONF" </dev/null >/dev/null 2>&1 || fail slurmd "$DIR/slurmd.log"
    for _ in $(seq 60); do
        state=$(timeout 10 sinfo -h -n "$host" -o %t 2>/dev/null || true)
        case "$state" in idle*|mix*|alloc*) echo "SLURM_CONF=$SLURM_CONF"; exit 0 ;; esac
        sleep 1
    done
    echo "slurm-local.sh: the node did not come up (state '${state:-none}'; slurmctld.log: $(tail -n 1 "$DIR/slurmctld.log" 2>/dev/null))" >&2
    exit 1
    ;;
stop)
    stop_pid "$DIR/slurmd.pid"
    stop_pid "$DIR/slurmctld.pid"
    stop_pid "$DIR/munged.pid"
    ;;
*)
    echo "usage: scripts/slurm-local.sh start|stop" >&2
    exit 2
    ;;
esac
