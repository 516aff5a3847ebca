#!/usr/bin/env bash
# Trains on a TensorFlow cluster of N parameter servers and M workers, all on
# this machine, on free localhost ports: each task is mnist-tf1-train with
# --ps_hosts, --worker_hosts, --job_name and --task_index, plus the flags
# given here. Every line a task prints comes out with the task's name in
# front. Waits for them all; if one fails, stops the others. Exits 0 when
# every task exited 0, else 1.
#
# The tasks run in a network namespace of their own, with only loopback
# inside: a task's gRPC server listens on every interface and runs whatever
# graph anyone sends it, so no other host must reach it (docs/cluster.md,
# "Security"). As root: unshare --net; otherwise a user namespace too
# (unshare --user --map-root-user --net), where the system allows it. Files
# (--log_dir, the data) are shared as usual; the data are downloaded and
# verified here first, outside, as the tasks cannot. Where no such namespace
# can be made, it stops before starting anything; --exposed runs the tasks
# on this machine's network anyway, reachable by every host that reaches it.
#
# With --restart it is a supervisor instead, as a Kubernetes restart policy
# would be: a task that exits non-zero (a lost peer, a kill) is started again
# on its port, up to $LOCAL_CLUSTER_RESTARTS times (10), and rejoins the run;
# once the chief has finished (exit 0) nothing is restarted. Exits 0 when the
# run finished: every task's last exit 0.
#
#   scripts/local_cluster.sh [--restart] [--exposed] N_PS M_WORKERS [mnist-tf1-train flags...]
#   scripts/local_cluster.sh 1 2 --max_steps=2000 --log_dir=/tmp/cluster_run
#   scripts/local_cluster.sh 1 2 --sync_replicas --log_dir=/tmp/sync_run
#   scripts/local_cluster.sh --restart 1 2 --log_dir=/tmp/cluster_run
#
# Runs $MNIST_TF1_TRAIN when set (e.g. "python -m mnist_tf1.fully_connected_feed"),
# else mnist-tf1-train from .venv (made or updated as scripts/train.sh does).
set -uo pipefail

usage() {
    echo "usage: $0 [--restart] [--exposed] N_PS M_WORKERS [mnist-tf1-train flags...]" >&2
    exit 2
}
ARGS=("$@")
restart=0
exposed=0
while :; do
    case "${1:-}" in
        --restart) restart=1; shift ;;
        --exposed) exposed=1; shift ;;
        *) break ;;
    esac
done
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
    if [ -n "${_LOCAL_CLUSTER_VENV:-}" ]; then
        VENV=$_LOCAL_CLUSTER_VENV  # made outside: pip has no network here
    else
        EXTRAS="" source "$(dirname "$0")/_venv.sh"
        set +e  # _venv.sh sets -e; a failing task must not end this script.
    fi
    TRAIN=("$VENV/bin/mnist-tf1-train")
    PYTHON_FOR_PORTS="$VENV/bin/python"
fi

# Brings up loopback, the only interface of a new network namespace (down
# until then), and fails where there is any other. Python rather than
# iproute2's ip, which may not be installed.
LOOPBACK_UP='
import fcntl, socket, struct, sys
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sH", b"lo", 0)))[1]
fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))
others = [name for _, name in socket.if_nameindex() if name != "lo"]
if others:
    sys.exit("interfaces besides loopback: " + ", ".join(others))
'
# Downloads and verifies the MNIST files the flags name (--input_data_dir,
# --data_source_url; none with --fake_data), as the tasks would.
FETCH_DATA='
import sys
try:
    from absl import flags
    from mnist_tf1.cli import tf_logging
except ImportError:  # a program of your own ($MNIST_TF1_TRAIN): its data
    print("cannot import mnist_tf1 to fetch the data: the tasks, without a "
          "network, must find it on disk or at a file:// source")
    sys.exit(0)
tf_logging.start_command()
from mnist_tf1.cli import errors
from mnist_tf1.cli import flags as _  # the training flags
from mnist_tf1.data import download
FLAGS = flags.FLAGS
try:
    FLAGS(["local_cluster"] + sys.argv[1:], known_only=True)
except flags.Error:
    sys.exit(0)  # the tasks refuse the flags themselves, in one line
try:
    if not FLAGS.fake_data:
        for name in sorted(download.FILES):
            download.maybe_download(name, FLAGS.input_data_dir, FLAGS.data_source_url)
except errors.UserError as e:
    errors.print_error(e, program="local_cluster")
    sys.exit(1)
'

if [ -z "${_LOCAL_CLUSTER_INSIDE:-}" ] && [ "$exposed" -eq 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        UNSHARE=(unshare --net)
    else
        UNSHARE=(unshare --user --map-root-user --net)
    fi
    # Tried first, so that nothing starts where the tasks could not be private.
    if ! why=$("${UNSHARE[@]}" -- "$PYTHON_FOR_PORTS" -c "$LOOPBACK_UP" 2>&1); then
        why=$(printf '%s\n' "$why" | grep -v '^[[:space:]]*$' | tail -n 1)
        echo "local_cluster: error: cannot give the tasks a private network" \
             "(${UNSHARE[*]}: ${why:-failed}); run it as root or where user" \
             "namespaces are allowed, or pass --exposed to run the tasks" \
             "on this machine's network, reachable by every host that" \
             "reaches it" >&2
        exit 1
    fi
    "$PYTHON_FOR_PORTS" -c "$FETCH_DATA" "$@" |
        while IFS= read -r line; do echo "[local_cluster] $line"; done
    [ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
    export _LOCAL_CLUSTER_INSIDE=1 _LOCAL_CLUSTER_VENV="${VENV:-}"
    # exec: the same process, now in the namespace; it starts the tasks.
    exec "${UNSHARE[@]}" -- "$BASH" "$0" "${ARGS[@]}"
fi
if [ -n "${_LOCAL_CLUSTER_INSIDE:-}" ]; then
    unset _LOCAL_CLUSTER_INSIDE _LOCAL_CLUSTER_VENV  # not the tasks'
    why=$("$PYTHON_FOR_PORTS" -c "$LOOPBACK_UP" 2>&1) || {
        why=$(printf '%s\n' "$why" | grep -v '^[[:space:]]*$' | tail -n 1)
        echo "local_cluster: error: the tasks' network is not private" \
             "(${why:-loopback not up}); pass --exposed to run them on this" \
             "machine's network" >&2
        exit 1
    }
    echo "[local_cluster] the tasks run in a network namespace of their own," \
         "with only loopback: no other host can reach them."
else
    echo "[local_cluster] --exposed: the tasks' ports are open to every host" \
         "that can reach this machine, without authentication" \
         "(docs/cluster.md, \"Security\")."
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
