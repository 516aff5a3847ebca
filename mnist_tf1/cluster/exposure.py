"""Who can reach this task's server: said in one line when it starts.

TensorFlow's gRPC server listens on every interface of its machine, whatever
address the cluster names, and runs whatever graph a client sends it, as this
process's user, without authentication. So every task says at start whether
other hosts can reach its port: they can, unless its network namespace has
no interface but loopback (scripts/local_cluster.sh runs its tasks in one).
docs/cluster.md ("Security") says how to keep a cluster private.
"""

import os
import pwd
import re
import socket

_LOOPBACK = re.compile(r'lo\d*$')


def loopback_only():
    """Whether this process's network has no interface but loopback."""
    try:
        names = [name for _, name in socket.if_nameindex()]
    except OSError:
        return False
    return bool(names) and all(_LOOPBACK.match(name) for name in names)


def _user():
    """This process's user, by name where it has one."""
    try:
        return 'user ' + pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return 'user id %d' % os.geteuid()


def start_line(cluster):
    """The line a task prints once its server serves; None to print none
    (--cluster_ports_closed)."""
    if cluster.ports_closed:
        return None
    hosts = cluster.ps_hosts if cluster.job_name == 'ps' else \
        cluster.worker_hosts
    port = hosts[cluster.task_index].rpartition(':')[2]
    if loopback_only():
        return ('%s: port %s is private: this task\'s network has only '
                'loopback, no other host can reach it.' % (cluster.name, port))
    return ('%s: port %s is open to every host that can reach this machine, '
            'without authentication: whoever connects can run any TensorFlow '
            'op in this task, as %s. Close it to all but the cluster '
            '(docs/cluster.md, "Security"), then --cluster_ports_closed '
            'leaves this line out.' % (cluster.name, port, _user()))
