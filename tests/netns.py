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

import os
import signal
import subprocess
import time

import processes

_IP = 'ip'


def _ip(*args, check=True):
    return subprocess.run([_IP] + list(args), check=check,
                          capture_output=True, text=True)


class Network(object):
    """A switch and `hosts` namespaces, each linked to it.

    Attributes:
      addresses: the hosts' IPv4 addresses, host i at addresses[i].
    """

    def __init__(self, hosts, subnet=None):
        # Unique per process and instance: several test runs may share the
        # machine, and a name must not meet a namespace someone else made.
        tag = '%x%x' % (os.getpid() & 0xfffff, id(self) & 0xfff)
        self._prefix = 'mt1-%s' % tag
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
            self.close()
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

    def leftovers(self):
        """The processes still running in the namespaces (pids)."""
        return [int(pid) for ns in self.namespaces
                for pid in _ip('netns', 'pids', ns, check=False).stdout.split()]

    def close(self):
        """Kills every process started here or still in a namespace, then
        removes the namespaces (their links and bridge go with them)."""
        for proc in self._procs:
            processes.kill_group(proc)
        for ns in reversed(self.namespaces):
            self._kill_inside(ns)
            _ip('netns', 'delete', ns, check=False)
        self.namespaces = []

    @staticmethod
    def _kill_inside(ns):
        deadline = time.time() + 10
        while time.time() < deadline:
            pids = _ip('netns', 'pids', ns, check=False).stdout.split()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            time.sleep(0.05)

    def __enter__(self):
        return self

    def __exit__(self, *unused):
        self.close()
