#!/usr/bin/env bash
# Trains on a TensorFlow cluster of N parameter servers and M workers, all on
# this machine, on free localhost ports: each task is mnist-tf1-train with
# --ps_hosts, --worker_hosts, --job_name and --task_index, plus the flags
# given here. Every line a task prints comes out with the task's name in
# front. Waits for them all; if one fails, stops the others. Exits 0 when
# every task exited 0, else 1.
#
# With --restart it is a supervisor instead, as a Kubernetes restart policy
# would be: a task that exits non-zero (a lost peer, a kill) is started again
# on its port, up to $LOCAL_CLUSTER_RESTARTS times (10), and rejoins the run;
# once the chief has finished (exit 0) nothing is restarted. Exits 0 when the
# run finished: every task's last exit 0.
#
#   scripts/local_cluster.sh [--restart] N_PS M_WORKERS [mnist-tf1-train flags...]
#   scripts/local_cluster.sh 1 2 --max_steps=2000 --log_dir=/tmp/cluster_run
#   scripts/local_cluster.sh 1 2 --sync_replicas --log_dir=/tmp/sync_run
#   scripts/local_cluster.sh --restart 1 2 --log_dir=/tmp/cluster_run
#
# Runs $MNIST_TF1_TRAIN when set (e.g. "python -m mnist_tf1.fully_connected_feed"),
# else mnist-tf1-train from .venv (made or updated as scripts/train.sh does).
set -uo pipefail

usage() {
    echo "usage: $0 [--restart] N_PS M_WORKERS [mnist-tf1-train flags...]" >&2
    exit 2
}
restart=0
if [ "${1:-}" = --restart ]; then
    restart=1
    shift
fi
[ $# -ge 2 ] || usage
n_ps=$1
n_workers=$2
shift 2
[[ "$n_ps" =~ ^[1-9][0-9]*$ && "$n_workers" =~ ^[1-9][0-9]*$ ]] || usage
MAX_RESTARTS="${LOCAL_CLUSTER_RESTARTS:-10}"

if [ -n "${MNIST_TF1_TRAIN:-}" ]; then
    read -r -a TRAIN <<< "$MNIST_TF1_TRAIN"
    PYTHON_FOR_PORTS="${PYTHON:-python3}"
else
    EXTRAS="" source "$(dirname "$0")/_venv.sh"
    set +e  # _venv.sh sets -e; a failing task must not end this script.
    TRAIN=("$VENV/bin/mnist-tf1-train")
    PYTHON_FOR_PORTS="$VENV/bin/python"
fi
# Seconds the parameter servers get to exit once every worker is done (they
# exit as soon as all have reported, so this is only a safety net).
PS_GRACE="${LOCAL_CLUSTER_PS_GRACE:-60}"

# Free ports: bound all at once so that no two are the same, then released.
ports=($("$PYTHON_FOR_PORTS" -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
' $((n_ps + n_workers)))) || { echo "local_cluster: no free ports" >&2; exit 1; }
ps_hosts=""
worker_hosts=""
for ((i = 0; i < n_ps; i++)); do
    ps_hosts+="${ps_hosts:+,}127.0.0.1:${ports[i]}"
done
for ((i = 0; i < n_workers; i++)); do
    worker_hosts+="${worker_hosts:+,}127.0.0.1:${ports[n_ps + i]}"
done
echo "[local_cluster] ps: $ps_hosts  workers: $worker_hosts"

names=()
pids=()
jobs_of=()
indexes=()
restarts=()
prefix() {  # Line by line, as the task writes them.
    local line
    while IFS= read -r line || [ -n "$line" ]; do
        printf '%s%s\n' "$1" "$line"
    done
}

start_task() {  # slot: starts (again) the task of that slot
    local slot=$1 job=${jobs_of[$1]} index=${indexes[$1]}
    local name="$job $index"
    # exec: the background job's pid is the task's own, to wait for and stop.
    ( export PYTHONUNBUFFERED=1
      exec "${TRAIN[@]}" --ps_hosts="$ps_hosts" --worker_hosts="$worker_hosts" \
          --job_name="$job" --task_index="$index" "${flags[@]}" \
          > >(prefix "[$name] ") 2>&1 ) &
    pids[slot]=$!
    names[slot]="$name"
    echo "[local_cluster] started $name (pid ${pids[slot]})"
}

stop_all() {
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
}
trap 'stop_all; exit 130' INT TERM

flags=("$@")
for ((i = 0; i < n_ps + n_workers; i++)); do
    if [ "$i" -lt "$n_ps" ]; then
        jobs_of[i]=ps; indexes[i]=$i
    else
        jobs_of[i]=worker; indexes[i]=$((i - n_ps))
    fi
    restarts[i]=0
    start_task "$i"
done
chief=$n_ps

# Every task writes through its prefix pipe; what is left on this script's
# stderr is bash's own word on a task killed by a signal ("Killed"), which
# the lines below say better.
exec 2>/dev/null

declare -A status
finished=0
workers_left=$n_workers
workers_done_at=""
failed=0
while [ "$finished" -lt "${#pids[@]}" ]; do
    for i in "${!pids[@]}"; do
        [ -n "${status[$i]:-}" ] && continue
        kill -0 "${pids[i]}" 2>/dev/null && continue
        wait "${pids[i]}"
        code=$?
        if [ "$code" -ne 0 ] && [ "$restart" -eq 1 ] && [ "$failed" -eq 0 ] &&
           [ "${status[$chief]:-}" != 0 ] &&
           [ "${restarts[i]}" -lt "$MAX_RESTARTS" ]; then
            restarts[i]=$((restarts[i] + 1))
            echo "[local_cluster] ${names[i]} exited $code; starting it again (restart ${restarts[i]} of $MAX_RESTARTS)"
            sleep 1
            start_task "$i"
            continue
        fi
        status[$i]=$code
        finished=$((finished + 1))
        [ "${jobs_of[i]}" = worker ] && workers_left=$((workers_left - 1))
        if [ "$code" -ne 0 ] && [ "$failed" -eq 0 ]; then
            failed=1
            echo "[local_cluster] ${names[i]} failed (exit $code); stopping the others"
            stop_all
        fi
    done
    if [ "$workers_left" -eq 0 ] && [ "$finished" -lt "${#pids[@]}" ]; then
        workers_done_at=${workers_done_at:-$SECONDS}
        if [ $((SECONDS - workers_done_at)) -gt "$PS_GRACE" ] && [ "$failed" -eq 0 ]; then
            failed=1
            echo "[local_cluster] the parameter servers did not stop ${PS_GRACE} s after the workers; stopping them"
            stop_all
        fi
    fi
    sleep 0.2
done
sleep 0.2  # let the last prefixed lines out

summary=""
for i in "${!pids[@]}"; do
    summary+="${summary:+, }${names[i]} exit ${status[$i]}"
done
echo "[local_cluster] $summary"
exit "$failed"
