"""Which of the other tasks answer at all: a TCP connection to each.

Cheaper and more telling than a TensorFlow call: it names the peer that is
gone (process stopped, host down, link cut) when a call fails or hangs.
"""

import concurrent.futures
import socket
import time

from mnist_tf1.cli import errors
from mnist_tf1.cluster import config as cluster_config
from mnist_tf1.cluster import spec

# A peer on a working network accepts in milliseconds; a cut link never does.
_PROBE_SECS = 1.0


def probe(host, timeout=_PROBE_SECS):
    """None when host ('name:port') accepts a connection, else why not."""
    name, _, port = host.rpartition(':')
    try:
        socket.create_connection((name.strip('[]'), int(port)),
                                 timeout=timeout).close()
        return None
    except OSError as e:
        if isinstance(e, socket.timeout):
            return 'no answer'
        return e.strerror or str(e)


def unreachable(job, hosts):
    """[(name, host, why)] of the tasks in hosts that do not answer.

    Args:
      job: 'ps' or 'worker', for the names ('parameter server 0').
      hosts: their host:port, in task order.
    """
    if not hosts:
        return []
    with concurrent.futures.ThreadPoolExecutor(len(hosts)) as pool:
        reasons = list(pool.map(probe, hosts))
    return [(task_name(job, i), host, why)
            for i, (host, why) in enumerate(zip(hosts, reasons)) if why]


def task_name(job, index):
    """'parameter server 0', 'worker 1': how messages name another task."""
    return '%s %d' % ('parameter server' if job == 'ps' else 'worker', index)


def describe(gone):
    """'parameter server 0 at h:2222 (no answer)' for unreachable()'s list."""
    return ', '.join('%s at %s (%s)' % g for g in gone)


def wait_for_parameter_servers(cluster):
    """Waits (up to --cluster_timeout) for every parameter server to accept.

    Raises:
      errors.UserError: one did not within --cluster_timeout.
    """
    deadline = time.time() + cluster.timeout
    for index, host in enumerate(cluster.ps_hosts):
        while True:
            why = probe(host, timeout=2)
            if why is None:
                break
            if time.time() > deadline:
                raise errors.UserError(
                    '%s: cannot reach parameter server %d at %s after %g s '
                    '(%s); start it, or check --ps_hosts/%s' % (
                        cluster.name, index, host, cluster.timeout, why,
                        spec.TF_CONFIG))
            time.sleep(cluster_config.POLL_SECS)
