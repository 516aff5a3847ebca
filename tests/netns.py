"""Tasks on separate hosts, on one machine: a network namespace per task.

Each host is a network namespace with one veth link to a bridge that lives in
a namespace of its own (the switch), so nothing is added to this machine's own
network: the addresses (10.213.N.x) exist only inside the namespaces made
here, and removing them removes everything. Cutting a host's link (its switch
port down) drops its packets both ways, as an unplugged cable or a partition
does; TCP sees nothing but silence.

Needs root (CI runs as root) and iproute2. Every namespace, link and process is
removed by close(), which the tests call in `finally`.
"""

import itertools
import os
import signal
import subprocess
import time

import processes

_IP = 'ip'
# Every namespace made here is named PREFIX + the making process's id in hex
# + '-' (prefix_of): the end of a test session finds its own (conftest.py).
PREFIX = 'mt1-'
_NUMBERS = itertools.count()
# How long the processes in a namespace may take to be gone after SIGKILL.
_GONE_WITHIN = 60


def _ip(*args, check=True):
    return subprocess.run([_IP] + list(args), check=check,
                          capture_output=True, text=True)


def prefix_of(pid):
    """The start of the names of the namespaces process pid made."""
    return '%s%x-' % (PREFIX, pid)


def namespaces_of(pid):
    """The namespaces made here by process pid that still exist."""
    listed = _ip('netns', 'list', check=False).stdout.split('\n')
    return sorted(line.split()[0] for line in listed
                  if line.startswith(prefix_of(pid)))


def remove(namespace):
    """Kills every process in a namespace, then deletes it.

    Raises:
      RuntimeError: processes still ran in it a minute after SIGKILL.
    """
    deadline = time.monotonic() + _GONE_WITHIN
    while True:
        pids = _ip('netns', 'pids', namespace, check=False).stdout.split()
        if not pids:
            break
        if time.monotonic() > deadline:
            raise RuntimeError('processes %s still run in network namespace '
                               '%s a minute after SIGKILL' %
                               (' '.join(pids), namespace))
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        time.sleep(0.05)
    _ip('netns', 'delete', namespace)


class Network(object):
    """A switch and `hosts` namespaces, each linked to it.

    Attributes:
      addresses: the hosts' IPv4 addresses, host i at addresses[i].
    """

    def __init__(self, hosts, subnet=None):
        # Unique per process and instance: several test runs may share the
        # machine, and a name must not meet a namespace someone else made.
        self._prefix = '%s%d' % (prefix_of(os.getpid()), next(_NUMBERS))
        self.subnet = subnet if subnet is not None else os.getpid() % 250 + 1
        self._switch = self._prefix + '-sw'
        self.namespaces = []
        self.addresses = []
        self._procs = []
        try:
            self._make_switch()
            for i in range(hosts):
                self._add_host(i)
        except BaseException:
            try:
                self.close()
            except RuntimeError:
                pass  # What is left, the session's end reports (conftest.py).
            raise

    def _make_switch(self):
        _ip('netns', 'add', self._switch)
        self.namespaces.append(self._switch)
        _ip('-n', self._switch, 'link', 'add', 'br0', 'type', 'bridge')
        _ip('-n', self._switch, 'link', 'set', 'br0', 'up')

    def _add_host(self, i):
        ns = '%s-h%d' % (self._prefix, i)
        _ip('netns', 'add', ns)
        self.namespaces.append(ns)
        address = '10.213.%d.%d' % (self.subnet, i + 1)
        # The pair is made in the host's namespace and one end moved to the
        # switch: names only need to be unique inside a namespace.
        _ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth',
            'peer', 'name', 'port%d' % i)
        _ip('-n', ns, 'link', 'set', 'port%d' % i, 'netns', self._switch)
        _ip('-n', self._switch, 'link', 'set', 'port%d' % i, 'master', 'br0')
        _ip('-n', self._switch, 'link', 'set', 'port%d' % i, 'up')
        _ip('-n', ns, 'addr', 'add', address + '/24', 'dev', 'eth0')
        _ip('-n', ns, 'link', 'set', 'eth0', 'up')
        _ip('-n', ns, 'link', 'set', 'lo', 'up')
        self.addresses.append(address)

    def host_namespace(self, i):
        return self.namespaces[i + 1]

    def popen(self, i, argv, **kwargs):
        """Starts argv on host i, in a session of its own."""
        proc = subprocess.Popen(
            [_IP, 'netns', 'exec', self.host_namespace(i)] + list(argv),
            start_new_session=True, **kwargs)
        self._procs.append(proc)
        return proc

    def cut(self, i):
        """Host i's cable out: its packets, both ways, go nowhere."""
        _ip('-n', self._switch, 'link', 'set', 'port%d' % i, 'down')

    def restore(self, i):
        _ip('-n', self._switch, 'link', 'set', 'port%d' % i, 'up')

    def cut_calls(self, i, j, port):
        """Host i's calls to `port` on host j cut: its packets on the
        connections it opens to that port, both ways, go nowhere (a firewall
        between them that lets only j call i). The connections j opens to
        host i still work."""
        self._calls(i, j, port, '-A')

    def restore_calls(self, i, j, port):
        """Ends cut_calls(i, j, port)."""
        self._calls(i, j, port, '-D')

    def _calls(self, i, j, port, action):
        for chain, peer, peer_port in (('OUTPUT', '-d', '--dport'),
                                       ('INPUT', '-s', '--sport')):
            _ip('netns', 'exec', self.host_namespace(i), 'iptables', action,
                chain, '-p', 'tcp', peer, self.addresses[j], peer_port,
                str(port), '-j', 'DROP')

    def leftovers(self):
        """The processes still running in the namespaces (pids)."""
        return [int(pid) for ns in self.namespaces
                for pid in _ip('netns', 'pids', ns, check=False).stdout.split()]

    def close(self):
        """Kills every process started here or still in a namespace, then
        removes the namespaces (their links and bridge go with them).

        Raises:
          RuntimeError: some of them could not be removed (after trying
            all); self.namespaces then lists those still there, and
            leftovers() the processes in them.
        """
        failures = []
        for proc in self._procs:
            try:
                processes.kill_group(proc)
            except RuntimeError as e:
                failures.append(str(e))
        for ns in reversed(list(self.namespaces)):
            try:
                remove(ns)
                self.namespaces.remove(ns)
            except (RuntimeError, subprocess.CalledProcessError) as e:
                failures.append(str(e))
        if failures:
            raise RuntimeError('; '.join(failures))

    def __enter__(self):
        return self

    def __exit__(self, *unused):
        self.close()
