"""A task's life: start its server, serve or train, and exit.

A parameter server serves until the workers are done; a worker trains. The
process then exits at once with its status (see run_task).
"""

import os
import sys
import traceback

import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors
from mnist_tf1.cluster import config as cluster_config
from mnist_tf1.cluster import parameter_server
from mnist_tf1.platform import device


def _report(message):
    """One line on stderr, as errors.run_cli writes it."""
    prog = sys.argv[0].rsplit('/', 1)[-1] if sys.argv else 'mnist-tf1'
    sys.stderr.write('%s: error: %s\n' % (prog, message))


def _one_line(e):
    """The first line of a TensorFlow error, without its decorations."""
    text = getattr(e, 'message', None) or str(e) or type(e).__name__
    lines = [l.strip() for l in text.splitlines()
             if l.strip() and not l.startswith(
                 ('From /job', '=====', 'Graph execution error'))]
    return (lines[0] if lines else type(e).__name__)[:300]


def run_task(cluster, train):
    """Runs this task of the cluster to its end, then exits the process.

    A parameter server serves until the workers are done; a worker calls
    train(). Errors end in one line on stderr and exit status 1.

    The process exits through os._exit as soon as its outcome is known and
    its output flushed: tearing down a process that holds a gRPC server and
    sessions can take seconds, and forever once a parameter server is gone
    (freeing a Session then waits on it). So this never returns, and an error
    is never released before the exit.

    Args:
      cluster: a Cluster, from from_flags().
      train: called with no arguments on a worker; runs the training loop.
    """
    try:
        _start_server(cluster)
        if cluster.job_name == 'ps':
            parameter_server.serve(cluster)
        else:
            print('%s of %d%s at %s; parameter servers %s; %s training.' % (
                cluster.name.capitalize(), len(cluster.worker_hosts),
                ' (the chief)' if cluster.is_chief else '',
                cluster.worker_hosts[cluster.task_index],
                ','.join(cluster.ps_hosts),
                'synchronous' if cluster.sync else 'asynchronous'))
            sys.stdout.flush()
            train()
            parameter_server.report_done(cluster)
    except errors.UserError as e:
        _report(e)
        _exit(1)
    except tf.errors.OpError as e:
        _report('%s: the cluster failed (%s: %s); check the other tasks' %
                (cluster.name, type(e).__name__, _one_line(e)))
        _exit(1)
    except KeyboardInterrupt:
        _exit(130)
    except SystemExit as e:
        _exit(e.code if isinstance(e.code, int) else int(e.code is not None))
    except BaseException:  # pylint: disable=broad-except
        traceback.print_exc()
        _exit(1)
    _exit(0)


def _exit(status):
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)  # pylint: disable=protected-access


def _start_server(cluster):
    if cluster.job_name == 'ps':
        # A parameter server only holds variables: no GPU memory for it.
        config = tf.ConfigProto(device_count={'GPU': 0})
    else:
        config = cluster_config.cluster_config(device.session_config())
    try:
        cluster.server = tf.train.Server(
            cluster.spec, job_name=cluster.job_name,
            task_index=cluster.task_index, config=config, start=True)
    except (tf.errors.OpError, ValueError) as e:
        hosts = cluster.ps_hosts if cluster.job_name == 'ps' else \
            cluster.worker_hosts
        raise errors.UserError(
            '%s: cannot start its server on %s (%s); is the port free?' %
            (cluster.name, hosts[cluster.task_index], _one_line(e)))
