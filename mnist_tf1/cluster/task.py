"""A task's life: start its server, serve or train, and exit.

A parameter server serves until the run is finished or abandoned; a worker
trains, then reports done. The process then exits at once with its status
(see run_task): 0 when its part of the run is done, 128 + the signal's
number when Ctrl-C or SIGTERM stopped it, 1 (after one line that says what
to do) when it failed, a peer gone too long included. A supervisor that
starts again a task that exited non-zero (scripts/local_cluster.sh
--restart, a Kubernetes restart policy) brings the run to its end.
"""

import os
import sys
import traceback

import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors
from mnist_tf1.cluster import config as cluster_config
from mnist_tf1.cluster import exposure
from mnist_tf1.cluster import parameter_server
from mnist_tf1.cluster import peers
from mnist_tf1.cluster import run_info
from mnist_tf1.cluster import session
from mnist_tf1.cluster import sync_updates
from mnist_tf1.platform import device


def run_task(cluster, train, on_exit=None):
    """Runs this task of the cluster to its end, then exits the process.

    The process exits through os._exit as soon as its outcome is known and
    its output flushed: tearing down a process that holds a gRPC server and
    sessions can take seconds, and forever once a parameter server is gone
    (freeing a Session then waits on it). So this never returns, and an error
    is never released before the exit.

    Args:
      cluster: a Cluster, from spec.Cluster.from_flags().
      train: called with no arguments on a worker; runs the training loop
        and returns the exit status (0, or 128 + a stop signal's number).
      on_exit: called with no arguments just before the exit, however the
        task ended (os._exit runs no `finally`): the chief's run lock is
        released there.
    """
    status = _outcome(cluster, train)
    if on_exit is not None:
        on_exit()
    _exit(status)


def _outcome(cluster, train):
    """Runs the task; returns its exit status, its error said in one line."""
    try:
        return _run(cluster, train)
    except errors.UserError as e:
        errors.print_error(e)
        return 1
    except session.Stopped as e:
        errors.print_error(e)
        return e.exit_status
    except tf.errors.OpError as e:
        errors.print_error(_failure(cluster, e))
        return 1
    except KeyboardInterrupt:
        errors.print_error('%s: stopped by Ctrl-C' % cluster.name)
        return 130
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else int(e.code is not None)
    except BaseException:  # pylint: disable=broad-except
        traceback.print_exc()
        return 1


def _run(cluster, train):
    """Serves or trains; returns the exit status."""
    # Before the server: TensorFlow reads the options once, for good.
    cluster_config.set_grpc_options()
    _start_server(cluster)
    line = exposure.start_line(cluster)
    if line:
        print(line, flush=True)
    if cluster.job_name == 'ps':
        parameter_server.serve(cluster)
        return 0
    print('%s of %d%s at %s; parameter servers %s; %s training.' % (
        cluster.name.capitalize(), len(cluster.worker_hosts),
        ' (the chief)' if cluster.is_chief else '',
        cluster.worker_hosts[cluster.task_index], ','.join(cluster.ps_hosts),
        'synchronous' if cluster.sync else 'asynchronous'), flush=True)
    try:
        status = train()
    except run_info.RunFinished as e:
        print(e, flush=True)
        status = 0
    if status == 0:
        # A worker stopped by a signal is not done: it may come back.
        parameter_server.report_done(cluster)
    return status


def _failure(cluster, error):
    """One line for a TensorFlow error that ended the task."""
    runner = cluster.update_runner
    if runner is not None and runner.failure is not None:
        # A synchronous chief's steps wait in vain once its updates stopped.
        error = runner.failure
        if isinstance(error, errors.UserError):
            return str(error)
    gone = peers.unreachable('ps', cluster.ps_hosts)
    if gone:
        return ('%s: lost %s (%s: %s); start it again, then this task' % (
            cluster.name, peers.describe(gone), type(error).__name__,
            errors.tf_reason(error, limit=120)))
    if cluster.sync and isinstance(error, tf.errors.DeadlineExceededError):
        return sync_updates.late_batches(cluster)
    return '%s: the cluster failed (%s: %s); check the other tasks' % (
        cluster.name, type(error).__name__, errors.tf_reason(error))


def _exit(status):
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)  # pylint: disable=protected-access


def _start_server(cluster):
    config = cluster_config.server_config(cluster, device.session_config())
    try:
        cluster.server = tf.train.Server(
            cluster.spec, job_name=cluster.job_name,
            task_index=cluster.task_index, config=config, start=True)
    except (tf.errors.OpError, ValueError) as e:
        hosts = cluster.ps_hosts if cluster.job_name == 'ps' else \
            cluster.worker_hosts
        raise errors.UserError(
            '%s: cannot start its server on %s (%s); is the port free?' %
            (cluster.name, hosts[cluster.task_index], errors.tf_reason(e)))
