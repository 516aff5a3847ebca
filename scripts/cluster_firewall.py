#!/usr/bin/env python3
"""Prints firewall rules that close a cluster task's port to all but the
cluster's own hosts (docs/cluster.md, "Security").

Give it the task's own cluster flags (or TF_CONFIG), as you give them to
mnist-tf1-train on that host; it prints nftables rules (or, with --iptables,
iptables commands) that let the cluster's hosts and this host's loopback
connect to the task's port, and drop every other connection to it. Run it
on each host, for each task there, and load what it prints as root:

    .venv/bin/python scripts/cluster_firewall.py --ps_hosts=10.0.0.1:2222 \\
        --worker_hosts=10.0.0.2:2222,10.0.0.3:2222 --job_name=ps | nft -f -
    TF_CONFIG='{...}' .venv/bin/python scripts/cluster_firewall.py --iptables | sh

Host names are looked up here, once: the rules hold addresses. Undo with
the command printed in the first comment line. Then --cluster_ports_closed
leaves out the task's line that says its port is open.
"""

import os
import socket
import sys

from absl import app
from absl import flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# pylint: disable=wrong-import-position
from mnist_tf1.cli import tf_logging
tf_logging.start_command()  # TensorFlow quiet: spec.py imports it.

from mnist_tf1.cli import errors
from mnist_tf1.cluster import flags as cluster_flags
from mnist_tf1.cluster import spec

flags.DEFINE_boolean('iptables', False,
                     'Print iptables and ip6tables commands instead of an '
                     'nftables table.')
cluster_flags.define()
FLAGS = flags.FLAGS


def addresses(hosts):
    """The sorted IPv4 and IPv6 addresses of hosts ('name:port' each)."""
    v4, v6 = set(), set()
    for host in hosts:
        name = host.rpartition(':')[0].strip('[]')
        try:
            infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
        except socket.gaierror as e:
            raise errors.UserError(
                'cannot look up %s (%s); give the cluster by address, or run '
                'this where the name resolves' % (name, e.strerror))
        for family, _, _, _, sockaddr in infos:
            (v6 if family == socket.AF_INET6 else v4).add(sockaddr[0])
    return sorted(v4), sorted(v6)


def task_port(cluster):
    hosts = cluster.ps_hosts if cluster.job_name == 'ps' else \
        cluster.worker_hosts
    return int(hosts[cluster.task_index].rpartition(':')[2])


def nft_rules(cluster, v4, v6):
    """An nftables table for the task: its port open to v4 and v6 only."""
    table = 'mnist_tf1_%s_%d' % (cluster.job_name, cluster.task_index)
    port = task_port(cluster)
    lines = ['# %s: port %d only from the cluster; undo: nft delete table '
             'inet %s' % (cluster.name, port, table),
             'table inet %s {' % table,
             '    chain input {',
             '        type filter hook input priority 0; policy accept;',
             '        iif "lo" tcp dport %d accept' % port]
    if v4:
        lines.append('        ip saddr { %s } tcp dport %d accept' %
                     (', '.join(v4), port))
    if v6:
        lines.append('        ip6 saddr { %s } tcp dport %d accept' %
                     (', '.join(v6), port))
    lines += ['        tcp dport %d drop' % port, '    }', '}']
    return lines


def iptables_rules(cluster, v4, v6):
    """iptables and ip6tables commands: a chain of the task's own, jumped
    to for its port, that returns for the cluster and drops the rest."""
    chain = 'mnist-tf1-%s-%d' % (cluster.job_name, cluster.task_index)
    port = task_port(cluster)
    lines = ['# %s: port %d only from the cluster; undo: for t in iptables '
             'ip6tables; do $t -D INPUT -p tcp --dport %d -j %s; $t -F %s; '
             '$t -X %s; done' % (cluster.name, port, port, chain, chain,
                                 chain)]
    for command, sources in (('iptables', v4), ('ip6tables', v6)):
        lines.append('%s -N %s' % (command, chain))
        lines.append('%s -A %s -i lo -j RETURN' % (command, chain))
        for source in sources:
            lines.append('%s -A %s -s %s -j RETURN' % (command, chain, source))
        lines.append('%s -A %s -j DROP' % (command, chain))
        lines.append('%s -I INPUT -p tcp --dport %d -j %s' %
                     (command, port, chain))
    return lines


def main(argv):
    if len(argv) > 1:
        raise errors.UserError('unexpected arguments: %s' % ' '.join(argv[1:]))
    cluster = spec.Cluster.from_flags(FLAGS)
    if cluster is None:
        raise errors.UserError(
            'give the task: --ps_hosts, --worker_hosts, --job_name and '
            '--task_index, or TF_CONFIG, as to mnist-tf1-train')
    v4, v6 = addresses(cluster.ps_hosts + cluster.worker_hosts)
    rules = iptables_rules if FLAGS.iptables else nft_rules
    print('\n'.join(rules(cluster, v4, v6)))


if __name__ == '__main__':
    errors.run_cli(main)
