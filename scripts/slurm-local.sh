#!/usr/bin/env bash
# A real single-node Slurm on localhost, for the corpus tests: munged, slurmctld and slurmd
# with their state, sockets and logs in one folder, and nothing of the system's touched.
#   scripts/slurm-local.sh start DIR   prints the SLURM_CONF to export; waits until the node is idle
#   scripts/slurm-local.sh stop DIR
# Installed by scripts/install-deps.sh (slurmctld slurmd slurm-client munge). Runs as root
# (SlurmUser=root), as on a CI machine or a container.
set -euo pipefail
cmd=${1:?start|stop}
DIR=$(realpath -m "${2:?DIR}")
conf="$DIR/slurm.conf"

stop() {
  for d in slurmd slurmctld munged; do
    [ -f "$DIR/$d.pid" ] && kill "$(cat "$DIR/$d.pid")" 2>/dev/null || true
  done
  sleep 0.5
  for d in slurmd slurmctld munged; do
    [ -f "$DIR/$d.pid" ] && kill -9 "$(cat "$DIR/$d.pid")" 2>/dev/null || true
    rm -f "$DIR/$d.pid"
  done
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "slurm-local: start or stop, not '$cmd'" >&2; exit 2; }
for b in munged slurmctld slurmd sinfo; do
  command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] || { echo "slurm-local: $b is not installed (scripts/install-deps.sh)" >&2; exit 1; }
done
mkdir -p "$DIR"/{munge,state,spool,log}
chmod 700 "$DIR/munge"
host=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))

# munge: a key of our own, its socket in DIR (Slurm is told where by AuthInfo).
[ -f "$DIR/munge/munge.key" ] || dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$DIR/munge/munge.key"
/usr/sbin/munged --force --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/socket" \
  --pid-file="$DIR/munged.pid" --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/seed"

cat > "$conf" <<CONF
ClusterName=framepipe-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/socket
CredType=cred/munge
SlurmctldPort=$(( 20000 + RANDOM % 20000 ))
SlurmdPort=$(( 40000 + RANDOM % 20000 ))
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1,sched_interval=2,batch_sched_delay=1
MaxArraySize=100001
JobRequeue=1
ReturnToService=2
SlurmdTimeout=30
MessageTimeout=10
KillWait=5
MinJobAge=300
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
export SLURM_CONF="$conf"
/usr/sbin/slurmctld -f "$conf" -i
/usr/sbin/slurmd -f "$conf"
for _ in $(seq 1 60); do
  state=$(sinfo -h -o %T 2>/dev/null | head -1 || true)
  [ "$state" = idle ] && { echo "$conf"; exit 0; }
  sleep 0.5
done
echo "slurm-local: the node did not come up (state '${state:-none}'); logs in $DIR/log" >&2
tail -5 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
stop
exit 1
