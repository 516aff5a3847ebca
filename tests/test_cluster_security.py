"""Who can reach a cluster's tasks (docs/cluster.md, "Security").

scripts/local_cluster.sh runs its tasks in a network namespace of their own,
so that another host, here a process in a network namespace linked to this
machine by a veth pair, cannot connect to their ports; it stops in one line
where no such namespace can be made. Every task says at start whether its
port is open. The Kubernetes manifests in docs/kubernetes agree with the
cluster description the project parses.
"""

import copy
import functools
import http.server
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import yaml

from mnist_tf1 import fully_connected_feed
from mnist_tf1.cluster import spec
import netns
from netns import Network
from processes import free_ports
from processes import kill_group

REPO = pathlib.Path(__file__).resolve().parent.parent
LOCAL_CLUSTER = str(REPO / 'scripts' / 'local_cluster.sh')
TRAIN = [sys.executable, '-m', 'mnist_tf1.fully_connected_feed']
# Every wait here is bounded; a cluster that hangs fails the test.
BOUND = 300

_PROBE = '''
import json, socket, sys
out = {}
for port in sys.argv[2:]:
    try:
        socket.create_connection((sys.argv[1], int(port)), timeout=5).close()
        out[port] = "connected"
    except OSError as e:
        out[port] = type(e).__name__
print(json.dumps(out))
'''


def _ip(*args, check=True):
    return subprocess.run(['ip'] + list(args), check=check,
                          capture_output=True, text=True)


class OtherHost(object):
    """A network namespace linked to this machine by a veth pair: another
    host, on a private /30 of its own (10.214.N.0/30, this machine .1, the
    other host .2), used only between the two. close() removes the
    namespace, which takes the pair with it."""

    def __init__(self):
        tag = '%x' % (os.getpid() & 0xffffff)
        # Named as netns.py names its own, so that the session's end finds
        # it if a test left it (conftest.py).
        self.namespace = netns.prefix_of(os.getpid()) + 'other'
        self._link = 'mt1s%s' % tag  # at most 15 characters
        subnet = os.getpid() % 250 + 1
        self.this_machine = '10.214.%d.1' % subnet
        address = '10.214.%d.2' % subnet
        try:
            _ip('netns', 'add', self.namespace)
            _ip('link', 'add', self._link, 'type', 'veth', 'peer', 'name',
                'eth0', 'netns', self.namespace)
            _ip('addr', 'add', self.this_machine + '/30', 'dev', self._link)
            _ip('link', 'set', self._link, 'up')
            _ip('-n', self.namespace, 'addr', 'add', address + '/30', 'dev',
                'eth0')
            _ip('-n', self.namespace, 'link', 'set', 'eth0', 'up')
            _ip('-n', self.namespace, 'link', 'set', 'lo', 'up')
        except BaseException:
            self.close()
            raise

    def connect(self, ports):
        """{port: 'connected' or the error} for a connection from the other
        host to each of this machine's ports, at its address on the link."""
        result = subprocess.run(
            ['ip', 'netns', 'exec', self.namespace, sys.executable, '-c',
             _PROBE, self.this_machine] + [str(p) for p in ports],
            capture_output=True, text=True, timeout=BOUND, check=True)
        return {int(p): how for p, how in json.loads(result.stdout).items()}

    def close(self):
        pids = _ip('netns', 'pids', self.namespace, check=False).stdout
        for pid in pids.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        _ip('netns', 'delete', self.namespace, check=False)
        _ip('link', 'delete', self._link, check=False)


class Script(object):
    """scripts/local_cluster.sh, its output read as it comes."""

    def __init__(self, args, env=None):
        self.lines = []
        self.proc = subprocess.Popen(
            [LOCAL_CLUSTER] + list(args), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
            env=dict(os.environ, MNIST_TF1_TRAIN=' '.join(TRAIN),
                     PYTHON=sys.executable, **(env or {})))
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip('\n'))

    def output(self):
        return '\n'.join(self.lines)

    def wait_for(self, pattern, count=1):
        """The matches of pattern, once there are `count` of them."""
        deadline = time.time() + BOUND
        while True:
            found = re.findall(pattern, self.output(), re.M)
            if len(found) >= count:
                return found
            assert self.proc.poll() is None, (pattern, self.output())
            assert time.time() < deadline, (pattern, self.output())
            time.sleep(0.1)

    def close(self):
        kill_group(self.proc)
        self._reader.join(timeout=10)


@pytest.fixture
def mnist_over_http(mnist_source_dir):
    """MNIST served over HTTP on this machine's loopback: a download site
    that the script reaches and its tasks, in their namespace, do not."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=mnist_source_dir)
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield 'http://127.0.0.1:%d/' % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _listener():
    """A socket listening on every address of this machine."""
    sock = socket.socket()
    sock.bind(('0.0.0.0', 0))
    sock.listen(8)
    return sock


@pytest.mark.slow
def test_local_cluster_tasks_train_where_no_other_host_reaches_them(
        mnist_over_http, tmp_path):
    """1 ps and 2 workers train to --max_steps, on data the script fetched
    for them, while another host cannot connect to any of their ports."""
    log_dir = tmp_path / 'logs'
    data_dir = tmp_path / 'data'  # empty: a fresh machine
    other = OtherHost()
    script = None
    control = _listener()
    try:
        script = Script(['1', '2', '--max_steps=1500',
                         '--save_checkpoint_steps=1000',
                         '--input_data_dir=%s' % data_dir,
                         '--log_dir=%s' % log_dir],
                        env={'MNIST_TF1_DATA_SOURCE_URL': mnist_over_http})
        (ps, workers), = script.wait_for(
            r'^\[local_cluster\] ps: 127\.0\.0\.1:(\d+)  workers: (\S+)$')
        ports = [int(ps)] + [int(w.rpartition(':')[2])
                             for w in workers.split(',')]
        script.wait_for(r'^\[(ps 0|worker [01])\] \1: port \d+ is private',
                        count=3)
        script.wait_for(r'^\[worker \d\] Step \d+:')
        # Held while the other host tries, so that every task still serves
        # (the kernel would complete a connection to a held task's port).
        tasks = [int(pid) for pid in script.wait_for(
            r'^\[local_cluster\] started \S+ \d \(pid (\d+)\)$', count=3)]
        for pid in tasks:
            os.kill(pid, signal.SIGSTOP)
        try:
            reached = other.connect(ports + [control.getsockname()[1]])
            namespaces = set(os.readlink('/proc/%d/ns/net' % pid)
                             for pid in tasks)
        finally:
            for pid in tasks:
                os.kill(pid, signal.SIGCONT)
        # The link works: a port open on every address of this machine is
        # reached; the tasks' are not.
        assert reached.pop(control.getsockname()[1]) == 'connected'
        assert reached == {port: 'ConnectionRefusedError' for port in ports}
        assert namespaces != {os.readlink('/proc/self/ns/net')}
        assert len(namespaces) == 1
        assert script.proc.wait(timeout=BOUND) == 0, script.output()
    finally:
        control.close()
        if script is not None:
            script.close()
        other.close()
    output = script.output()
    assert output.splitlines()[-1] == (
        '[local_cluster] ps 0 exit 0, worker 0 exit 0, worker 1 exit 0')
    assert 'Traceback' not in output
    assert sorted(os.listdir(data_dir)) == sorted([
        't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz',
        'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'])
    # The run is on this machine's disk, as TensorBoard outside reads it.
    assert (log_dir / 'model.ckpt-1500.index').is_file()
    assert any(name.startswith('events.out.tfevents.')
               for name in os.listdir(log_dir))
    assert 'the global step is 1500' in output


def test_local_cluster_stops_in_one_line_without_a_private_network(
        tmp_path):
    """No namespace to be had (here an unshare that is refused): one line,
    saying why and naming --exposed, and nothing started."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    fake = bin_dir / 'unshare'
    fake.write_text('#!/bin/sh\necho "unshare: unshare failed: Operation '
                    'not permitted" >&2\nexit 1\n')
    fake.chmod(0o755)
    result = subprocess.run(
        [LOCAL_CLUSTER, '1', '2', '--fake_data',
         '--log_dir=%s' % (tmp_path / 'logs')],
        capture_output=True, text=True, timeout=BOUND,
        env=dict(os.environ, PATH='%s:%s' % (bin_dir, os.environ['PATH']),
                 MNIST_TF1_TRAIN=' '.join(TRAIN), PYTHON=sys.executable))
    assert result.returncode == 1
    assert result.stdout == ''
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith('local_cluster: error: cannot give the tasks '
                               'a private network (unshare ')
    assert 'Operation not permitted' in lines[0]
    assert 'pass --exposed to run the tasks' in lines[0]
    assert not (tmp_path / 'logs').exists()


@pytest.mark.slow
def test_local_cluster_exposed_says_so_and_trains(tmp_path):
    """--exposed: the tasks on this machine's network, as before, and every
    line says their ports are open."""
    script = Script(['--exposed', '1', '1', '--fake_data', '--max_steps=100',
                     '--log_dir=%s' % (tmp_path / 'logs')])
    try:
        assert script.proc.wait(timeout=BOUND) == 0, script.output()
    finally:
        script.close()
    lines = script.output().splitlines()
    assert lines[0] == (
        "[local_cluster] --exposed: the tasks' ports are open to every host "
        'that can reach this machine, without authentication '
        '(docs/cluster.md, "Security").')
    for task in ('ps 0', 'worker 0'):
        said = [l for l in lines if l.startswith('[%s] %s: port ' % (
            task, task))]
        assert len(said) == 1 and ' is open to every host ' in said[0], lines
    assert lines[-1] == '[local_cluster] ps 0 exit 0, worker 0 exit 0'


# A stand-in for mnist-tf1-train, in the standard library only (the user
# below cannot read the project's virtual environment): it listens on its
# port, writes a file, and waits until every task of the cluster answers on
# loopback.
_FAKE_TASK = """
import os, socket, sys, time
args = dict(a[2:].split('=', 1) for a in sys.argv[1:] if '=' in a)
job, index = args['job_name'], int(args['task_index'])
ports = [int(h.rpartition(':')[2]) for h in
         (args['ps_hosts'] + ',' + args['worker_hosts']).split(',')]
hosts = args['ps_hosts' if job == 'ps' else 'worker_hosts'].split(',')
server = socket.socket()
server.bind(('0.0.0.0', int(hosts[index].rpartition(':')[2])))
server.listen(8)
with open(os.path.join(args['log_dir'], '%s-%d' % (job, index)), 'w') as f:
    f.write(os.readlink('/proc/self/ns/net'))
deadline = time.time() + 120
for port in ports:
    while True:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=5).close()
            break
        except OSError:
            assert time.time() < deadline, port
            time.sleep(0.1)
print('every task answers', flush=True)
time.sleep(1)  # the others may still be asking
"""


@pytest.mark.slow
def test_local_cluster_without_root_runs_its_tasks_in_a_user_namespace(
        tmp_path):
    """As an ordinary user (nobody): the tasks share a network namespace of
    their own, reach each other on its loopback, and write files that are
    the user's outside."""
    shared = tmp_path / 'shared'  # what nobody may read and write
    shared.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(shared, 0o777)
    (shared / 'task.py').write_text(_FAKE_TASK)
    log_dir = shared / 'logs'
    log_dir.mkdir()
    os.chown(log_dir, 65534, 65534)
    # pytest's tmp folders are their owner's only: opened to others meanwhile.
    closed = {p: p.stat().st_mode for p in tmp_path.parents
              if p.stat().st_mode & 0o005 != 0o005}
    try:
        for parent, mode in closed.items():
            os.chmod(parent, mode | 0o005)
        result = subprocess.run(
            ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups',
             LOCAL_CLUSTER, '1', '2', '--log_dir=%s' % log_dir],
            capture_output=True, text=True, timeout=BOUND, cwd=shared,
            env=dict(os.environ, PYTHON='/usr/bin/python3',
                     MNIST_TF1_TRAIN='/usr/bin/python3 %s' % (
                         shared / 'task.py')))
    finally:
        for parent, mode in closed.items():
            os.chmod(parent, mode)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert ('[local_cluster] the tasks run in a network namespace of their '
            'own, with only loopback: no other host can reach them.') in lines
    for task in ('ps 0', 'worker 0', 'worker 1'):
        assert '[%s] every task answers' % task in lines
    assert lines[-1] == ('[local_cluster] ps 0 exit 0, worker 0 exit 0, '
                         'worker 1 exit 0')
    written = sorted(log_dir.iterdir())
    assert [p.name for p in written] == ['ps-0', 'worker-0', 'worker-1']
    assert set(p.stat().st_uid for p in written) == {65534}
    namespaces = set(p.read_text() for p in written)
    assert len(namespaces) == 1
    assert namespaces != {os.readlink('/proc/self/ns/net')}


def _first_lines(argv, count):
    """The first `count` lines a task prints (then it is killed)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            start_new_session=True,
                            env=dict(os.environ, PYTHONUNBUFFERED='1'))
    try:
        return [proc.stdout.readline().rstrip('\n') for _ in range(count)]
    finally:
        kill_group(proc)


@pytest.mark.slow
def test_a_task_says_its_port_is_open_unless_told_it_is_closed():
    ps, worker = free_ports(2)
    task = TRAIN + ['--ps_hosts=127.0.0.1:%d' % ps,
                    '--worker_hosts=127.0.0.1:%d' % worker,
                    '--job_name=ps', '--task_index=0']
    first, second = _first_lines(task, 2)
    assert re.match(
        r'ps 0: port %d is open to every host that can reach this machine, '
        r'without authentication: whoever connects can run any TensorFlow op '
        r'in this task, as user \S+\. Close it to all but the cluster '
        r'\(docs/cluster\.md, "Security"\), then --cluster_ports_closed '
        r'leaves this line out\.$' % ps, first), first
    assert second.startswith('Parameter server 0 of 1 at 127.0.0.1:%d' % ps)
    first, = _first_lines(task + ['--cluster_ports_closed'], 1)
    assert first.startswith('Parameter server 0 of 1 at ')


KUBERNETES = REPO / 'docs' / 'kubernetes'


def _manifests(name):
    with open(KUBERNETES / name) as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def _task(pod, environ_tf_config):
    """The Cluster mnist-tf1-train makes of a pod's args and TF_CONFIG."""
    container, = pod['containers']
    assert container['command'] == ['mnist-tf1-train']
    flag_values = copy.deepcopy(fully_connected_feed.FLAGS)
    flag_values.unparse_flags()
    flag_values(['mnist-tf1-train'] + container['args'])
    cluster = spec.Cluster.from_flags(
        flag_values, environ={spec.TF_CONFIG: environ_tf_config})
    return cluster, flag_values


def test_the_kubernetes_manifests_agree_with_the_cluster_spec():
    """docs/kubernetes/tfjob.yaml: each pod's TF_CONFIG and args are taken
    by mnist-tf1-train, and name the pods as the headless Service does;
    networkpolicy.yaml admits to those ports only the run's own pods."""
    docs = _manifests('tfjob.yaml')
    service, = [d for d in docs if d['kind'] == 'Service']
    assert service['spec']['clusterIP'] == 'None'
    labels = service['spec']['selector']
    jobs = [d for d in docs if d['kind'] == 'Job']
    assert jobs
    tasks = {}
    addresses = set()
    clusters = set()
    for job in jobs:
        pod = job['spec']['template']['spec']
        assert job['spec']['template']['metadata']['labels'] == labels
        assert pod['subdomain'] == service['metadata']['name']
        assert pod['restartPolicy'] == 'OnFailure'
        container, = pod['containers']
        env = {e['name']: e['value'] for e in container['env']}
        port, = [p['containerPort'] for p in container['ports']]
        cluster, flag_values = _task(pod, env[spec.TF_CONFIG])
        assert cluster is not None and cluster.ports_closed
        hosts = (cluster.ps_hosts if cluster.job_name == 'ps' else
                 cluster.worker_hosts)
        # The task's own entry is this pod's name and port.
        address = '%s.%s:%d' % (pod['hostname'], pod['subdomain'], port)
        assert hosts[cluster.task_index] == address
        assert job['metadata']['name'] == '%s-%s' % (
            service['metadata']['name'], pod['hostname'])
        assert pod['hostname'] == '%s-%d' % (cluster.job_name,
                                             cluster.task_index)
        tasks[cluster.name] = (cluster, flag_values, pod)
        addresses.add(address)
        clusters.add((tuple(cluster.ps_hosts), tuple(cluster.worker_hosts)))
        assert port in [p['port'] for p in service['spec']['ports']]
    # One cluster, every task of it a pod here, and no pod outside it.
    (ps_hosts, worker_hosts), = clusters
    assert sorted(addresses) == sorted(ps_hosts + worker_hosts)
    assert len(tasks) == len(ps_hosts) + len(worker_hosts)
    # The chief keeps its checkpoints on a volume that outlives it; the
    # other workers train to the same --max_steps.
    chief, chief_flags, chief_pod = tasks['worker 0']
    assert chief.is_chief
    mounts = [m['mountPath'] for m in chief_pod['containers'][0]['volumeMounts']]
    assert any(chief_flags.log_dir.startswith(m + '/') for m in mounts)
    assert len(set(f.max_steps for c, f, _ in tasks.values()
                   if c.job_name == 'worker')) == 1

    policy, = _manifests('networkpolicy.yaml')
    assert policy['kind'] == 'NetworkPolicy'
    assert policy['apiVersion'] == 'networking.k8s.io/v1'
    selector = policy['spec']['podSelector']['matchLabels']
    assert selector == labels  # every pod of the run, nothing else
    assert policy['spec']['policyTypes'] == ['Ingress']
    rule, = policy['spec']['ingress']
    # From the run's own pods only: no namespaceSelector, no ipBlock.
    assert rule['from'] == [{'podSelector': {'matchLabels': labels}}]
    ports = set(int(h.rpartition(':')[2]) for h in ps_hosts + worker_hosts)
    assert rule['ports'] == [{'protocol': 'TCP', 'port': p}
                             for p in sorted(ports)]


FIREWALL = [sys.executable, str(REPO / 'scripts' / 'cluster_firewall.py')]


def _firewall_rules(hosts, *flags):
    """scripts/cluster_firewall.py's rules for ps 0 of a cluster of hosts
    (ps 0 at hosts[0], the workers at the others)."""
    result = subprocess.run(
        FIREWALL + ['--ps_hosts=%s' % hosts[0],
                    '--worker_hosts=%s' % ','.join(hosts[1:]),
                    '--job_name=ps', '--task_index=0'] + list(flags),
        capture_output=True, text=True, timeout=BOUND)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
@pytest.mark.parametrize('tool', ['nft', 'iptables'])
def test_firewall_rules_admit_only_the_clusters_hosts(tool):
    """Loaded on a task's host, the rules let the cluster's hosts connect to
    the task's port and no other host; its other ports stay as they were."""
    if not shutil.which(tool):
        pytest.fail('%s is not installed: apt-get install nftables iptables '
                    '(.ci/run needs them too)' % tool)
    net = Network(3, subnet=os.getpid() % 250 + 1)
    try:
        task, member, outsider = net.addresses
        port, other_port = 2222, 2223
        rules = _firewall_rules(['%s:%d' % (task, port),
                                 '%s:%d' % (member, port)],
                                *(['--iptables'] if tool == 'iptables'
                                  else []))
        load = ['nft', '-f', '-'] if tool == 'nft' else ['sh', '-e']
        subprocess.run(['ip', 'netns', 'exec', net.host_namespace(0)] + load,
                       input=rules, text=True, check=True, timeout=BOUND)
        listen = ('import socket, sys, time\n'
                  'socks = []\n'
                  'for p in sys.argv[1:]:\n'
                  '    s = socket.socket(); s.bind(("0.0.0.0", int(p)))\n'
                  '    s.listen(8); socks.append(s)\n'
                  'print("listening", flush=True); time.sleep(600)\n')
        server = net.popen(0, [sys.executable, '-c', listen, str(port),
                               str(other_port)], stdout=subprocess.PIPE,
                           text=True)
        assert server.stdout.readline() == 'listening\n'

        def reached(i):
            result = subprocess.run(
                ['ip', 'netns', 'exec', net.host_namespace(i),
                 sys.executable, '-c', _PROBE, task, str(port),
                 str(other_port)],
                capture_output=True, text=True, timeout=BOUND, check=True)
            return json.loads(result.stdout)

        assert reached(1) == {str(port): 'connected',
                              str(other_port): 'connected'}
        # Dropped: the outsider's connection goes unanswered until it
        # gives up.
        assert reached(2) == {str(port): 'TimeoutError',
                              str(other_port): 'connected'}
        assert reached(0)[str(port)] == 'connected'  # the host itself
    finally:
        net.close()


@pytest.mark.slow
def test_firewall_rules_are_made_from_the_cluster_spec(monkeypatch):
    """The same rules from TF_CONFIG as from the flags; a task missing, one
    line."""
    hosts = ['10.9.0.1:2222', '10.9.0.2:2222', '10.9.0.3:2224']
    from_flags = _firewall_rules(hosts)
    assert 'ip saddr { 10.9.0.1, 10.9.0.2, 10.9.0.3 } tcp dport 2222 ' \
        'accept' in from_flags
    assert 'tcp dport 2222 drop' in from_flags
    monkeypatch.setenv('TF_CONFIG', json.dumps({
        'cluster': {'ps': hosts[:1], 'worker': hosts[1:]},
        'task': {'type': 'ps', 'index': 0}}))
    result = subprocess.run(FIREWALL, capture_output=True, text=True,
                            timeout=BOUND)
    assert result.stdout == from_flags
    monkeypatch.delenv('TF_CONFIG')
    result = subprocess.run(FIREWALL, capture_output=True, text=True,
                            timeout=BOUND)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        'cluster_firewall.py: error: give the task: --ps_hosts, '
        '--worker_hosts, --job_name and --task_index, or TF_CONFIG, as to '
        'mnist-tf1-train']
