"""A cluster that survives its faults: cut links, lost tasks, signals.

One parameter server and two workers (two parameter servers for the cuts
between them or of one of them, and two and five for two faults at once),
each in a network namespace of its own (tests/netns.py: separate addresses,
as separate hosts, on a bridge whose ports can be unplugged), or on localhost
under scripts/local_cluster.sh --restart for the killed tasks; asynchronous,
and synchronous (--sync_replicas). Every run must end at exactly --max_steps
with its last checkpoint holding that step and restoring; every task must
end by itself (none killed by the tests' time bound) and none be left.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

import mnist_tf1  # noqa: F401  (imports TensorFlow in graph mode, quietly)
import tensorflow.compat.v1 as tf

import netns
from test_distributed import LOCAL_CLUSTER, TRAIN, restore_and_evaluate

pytestmark = pytest.mark.slow

# Every wait is bounded: a cluster that hangs fails the test.
BOUND = 200
STEP_LINE = re.compile(r'^Step (\d+): ', re.M)
BATCHES = re.compile(r'^Worker \d: trained on (\d+) batches; the global step '
                     r'is (\d+)\.$', re.M)


def stepped_past(n):
    return lambda out: max(map(int, STEP_LINE.findall(out)), default=-1) >= n


def tasks(num_ps, num_workers):
    return tuple(['ps %d' % i for i in range(num_ps)] +
                 ['worker %d' % i for i in range(num_workers)])


class Cluster(object):
    """Parameter servers and workers (1 and 2 unless told), each on its own
    host (namespace) of a Network.

    With supervise=True, a supervisor as in local_cluster.sh --restart: a
    task that exits non-zero is started again, until the chief exited 0.
    """

    def __init__(self, tmp_path, flags, supervise=False, num_ps=1,
                 num_workers=2):
        self.dir = tmp_path
        self.log_dir = tmp_path / 'logs'
        self.tasks = tasks(num_ps, num_workers)
        self.net = netns.Network(len(self.tasks))
        self.port = 2222
        hosts = ['%s:%d' % (a, self.port) for a in self.net.addresses]
        self._flags = ['--ps_hosts=%s' % ','.join(hosts[:num_ps]),
                       '--worker_hosts=%s' % ','.join(hosts[num_ps:]),
                       '--log_dir=%s' % self.log_dir] + list(flags)
        self._supervise = supervise
        self.runs = {task: [] for task in self.tasks}  # [(proc, output)]
        self.killed_by_bound = []
        try:
            for task in self.tasks:
                self.start(task)
        except BaseException:
            # The fixture never saw this cluster: its namespaces and the
            # tasks already started go here.
            self.net.close()
            raise

    def host(self, task):
        return self.tasks.index(task)

    def start(self, task):
        job, index = task.split()
        out = self.dir / ('%s%s.%d.out' % (job, index, len(self.runs[task])))
        with open(out, 'w') as f:
            proc = self.net.popen(
                self.host(task), TRAIN + self._flags + [
                    '--job_name=%s' % job, '--task_index=%s' % index],
                stdout=f, stderr=subprocess.STDOUT,
                env=dict(os.environ, PYTHONUNBUFFERED='1'))
        self.runs[task].append((proc, out))

    def proc(self, task):
        return self.runs[task][-1][0]

    def output(self, task):
        """Everything the task printed, over all its runs."""
        return ''.join(out.read_text() for _, out in self.runs[task])

    def exits(self, task):
        return [proc.returncode for proc, _ in self.runs[task]]

    def supervise(self):
        """Starts again a task that exited non-zero (until the chief is
        done); True while some task still runs."""
        running = False
        chief_done = self.proc('worker 0').poll() == 0
        for task in self.tasks:
            code = self.proc(task).poll()
            if code is None:
                running = True
            elif code != 0 and self._supervise and not chief_done:
                self.start(task)
                running = True
        return running

    def wait_for(self, task, predicate, what):
        deadline = time.time() + BOUND
        while not predicate(self.output(task)):
            self.supervise()
            assert time.time() < deadline, (what, self.output(task))
            time.sleep(0.1)

    def cut_until_it_gives_up(self, task):
        """Cuts the task's link (if not yet) and waits for the task's run to
        exit; the link stays cut."""
        self.net.cut(self.host(task))
        run = self.proc(task)
        self.wait_for(task, lambda _: run.poll() is not None,
                      '%s giving up' % task)

    def wait(self):
        """Waits for every task to end by itself."""
        deadline = time.time() + BOUND
        while self.supervise():
            if time.time() > deadline:
                self.killed_by_bound = [t for t in self.tasks
                                        if self.proc(t).poll() is None]
                return
            time.sleep(0.2)

    def close(self):
        """Removes everything; returns the processes left running."""
        left = self.net.leftovers()
        self.net.close()
        return left


@pytest.fixture
def cluster_of(tmp_path):
    """Starts a Cluster; on the way out checks nothing was left, removes it."""
    clusters = []

    def start(flags, supervise=False, **sizes):
        clusters.append(Cluster(tmp_path, flags, supervise, **sizes))
        return clusters[-1]

    yield start
    names = [n for cluster in clusters for n in cluster.net.namespaces]
    # Everything is removed first, whatever is found left.
    left = [pid for cluster in clusters for pid in cluster.close()]
    listed = subprocess.run(['ip', 'netns', 'list'], capture_output=True,
                            text=True).stdout
    assert left == [], 'processes left in the namespaces'
    assert not [n for n in names if n in listed]


def assert_run_complete(cluster, max_steps, data_dir, finished=None):
    """Every task ended by itself, those in `finished` (all) with status 0,
    and the run is whole at max_steps."""
    assert cluster.killed_by_bound == [], [
        (t, cluster.output(t)) for t in cluster.killed_by_bound]
    for task in finished or cluster.tasks:
        assert cluster.exits(task)[-1] == 0, (task, cluster.output(task))
    latest = tf.train.latest_checkpoint(str(cluster.log_dir))
    assert latest.endswith('model.ckpt-%d' % max_steps)
    step, _, _ = restore_and_evaluate(cluster.log_dir, data_dir)
    assert step == max_steps


def one_error_line(output):
    errors = [l for l in output.splitlines() if ': error: ' in l]
    assert len(errors) == 1 and 'Traceback' not in output, output
    return errors[0]


def test_a_worker_cut_off_briefly_carries_on(cluster_of, mnist_data_dir):
    """Cut for less than --cluster_timeout: it waits, then goes on; the
    steps of both workers add up to exactly --max_steps."""
    # Steps enough for the run to go on well past the cut (about 150 a
    # second on a loaded 2-core machine).
    # Supervised: a task that gave up would be started again, and counted.
    cluster = cluster_of(['--max_steps=4000', '--save_checkpoint_steps=1000',
                          '--cluster_timeout=30',
                          '--input_data_dir=%s' % mnist_data_dir],
                         supervise=True)
    cluster.wait_for('worker 1', stepped_past(0), 'worker 1 training')
    cluster.net.cut(cluster.host('worker 1'))
    cluster.wait_for('worker 1', lambda out: 'waiting up to 30 s' in out,
                     'worker 1 noticing the cut')
    time.sleep(3)
    cluster.net.restore(cluster.host('worker 1'))
    cluster.wait()
    assert_run_complete(cluster, 4000, mnist_data_dir)
    assert [len(cluster.runs[t]) for t in cluster.tasks] == [1, 1, 1]
    out = cluster.output('worker 1')
    assert re.search(r'^Worker 1: lost parameter server 0 at 10\.213\.\d+\.1:'
                     r'2222 \(.+\); waiting up to 30 s\.$', out, re.M), out
    assert re.search(r'^Worker 1: the parameter servers answer again after '
                     r'\d+\.\d s; carrying on\.$', out, re.M), out
    # No step was taken twice: the workers' batches add up to the global
    # step at most (a step whose answer the cut swallowed is in the global
    # step, but its worker could not count it).
    batches = [BATCHES.search(cluster.output(w)).groups()
               for w in ('worker 0', 'worker 1')]
    assert 4000 - 2 <= sum(int(b) for b, _ in batches) <= 4000
    assert [int(s) for _, s in batches] == [4000, 4000]


def test_a_worker_cut_off_too_long_gives_up_and_comes_back(cluster_of,
                                                         mnist_data_dir):
    """Cut for longer than --cluster_timeout: one line naming the parameter
    server, exit 1; started again by the supervisor, it rejoins. (The chief,
    paused meanwhile, carries on.)"""
    # The chief's next checkpoint (where worker 1, started again, must wait
    # for it) is far from where it is paused: step 2000.
    cluster = cluster_of(['--fake_data', '--max_steps=3000',
                          '--save_checkpoint_steps=2000',
                          '--cluster_timeout=10'], supervise=True)
    cluster.wait_for('worker 1', stepped_past(0), 'worker 1 training')
    # The chief is paused until worker 1 is back, so that the run is still
    # going then, however fast the machine: a chief that finished first would
    # leave nothing to rejoin (and a supervisor does not start a task again
    # once the chief is done). Paused longer than --cluster_timeout, the
    # chief must carry on when woken.
    chief = cluster.proc('worker 0')
    os.killpg(chief.pid, signal.SIGSTOP)
    try:
        cluster.net.cut(cluster.host('worker 1'))
        first = cluster.runs['worker 1'][0][0]
        cluster.wait_for('worker 1', lambda _: first.poll() is not None,
                         'worker 1 giving up')
        cluster.net.restore(cluster.host('worker 1'))
        # The supervisor starts it again; it trains alone up to step 2000.
        def training_again(_):
            runs = cluster.runs['worker 1']
            return len(runs) == 2 and stepped_past(0)(runs[1][1].read_text())
        cluster.wait_for('worker 1', training_again, 'worker 1 training again')
    finally:
        os.killpg(chief.pid, signal.SIGCONT)
    cluster.wait()
    assert_run_complete(cluster, 3000, mnist_data_dir)
    assert cluster.exits('worker 1')[0] == 1
    line = one_error_line(cluster.runs['worker 1'][0][1].read_text())
    assert re.search(r'error: worker 1: parameter server 0 at 10\.213\.\d+\.1:'
                     r'2222 \(.+\): gone for 10 s \(--cluster_timeout\); '
                     r'check that it runs and the network to it, then start '
                     r'this task again', line), line
    # Started again, it trained with the chief until the run was done; the
    # chief ran once.
    assert [len(cluster.runs[t]) for t in cluster.tasks] == [1, 1, 2]
    rejoined = cluster.runs['worker 1'][1][1].read_text()
    batches, step = BATCHES.search(rejoined).groups()
    assert int(batches) > 0 and int(step) == 3000, rejoined


def test_the_chief_cut_off_too_long_holds_the_others(cluster_of,
                                                      mnist_data_dir):
    """The chief cut off: the other worker trains to the next checkpoint's
    step and no further; the chief gives up in one line; started again, it
    restores its last checkpoint and the run ends whole."""
    cluster = cluster_of(['--fake_data', '--max_steps=3000',
                          '--save_checkpoint_steps=1000',
                          '--cluster_timeout=10'], supervise=True)
    cluster.wait_for('worker 0', stepped_past(1100), 'the chief training')
    cluster.cut_until_it_gives_up('worker 0')
    # The other worker went no further than the checkpoint the chief owes:
    # the one after its last (1000, or 2000 when the chief got there before
    # the cut).
    last = int(tf.train.latest_checkpoint(str(cluster.log_dir)).rsplit(
        '-', 1)[1])
    assert last in (1000, 2000)
    assert max(map(int, STEP_LINE.findall(
        cluster.output('worker 1'))), default=0) < last + 1000
    cluster.net.restore(cluster.host('worker 0'))
    cluster.wait()
    assert_run_complete(cluster, 3000, mnist_data_dir)
    assert cluster.exits('worker 0')[0] == 1
    line = one_error_line(cluster.runs['worker 0'][0][1].read_text())
    assert 'error: worker 0: parameter server 0 at 10.213.' in line, line
    restarted = cluster.runs['worker 0'][-1][1].read_text()
    assert re.search(r'^Restored .*model\.ckpt-(\d+) \(step \1\)\.$',
                     restarted, re.M), restarted


def test_sigterm_ends_a_worker_hung_on_a_cut_link(cluster_of,
                                                  mnist_data_dir):
    """SIGTERM to a worker whose link is cut: it ends with 143 and one line
    while the link is still cut; the others finish the run."""
    cluster = cluster_of(['--fake_data', '--max_steps=2000',
                          '--save_checkpoint_steps=1000',
                          '--cluster_timeout=15'])
    cluster.wait_for('worker 1', stepped_past(0), 'worker 1 training')
    cluster.net.cut(cluster.host('worker 1'))
    cluster.wait_for('worker 1', lambda out: 'waiting up to 15 s' in out,
                     'worker 1 noticing the cut')
    cluster.proc('worker 1').send_signal(signal.SIGTERM)
    # It ends by the signal (143), while its link is still cut: not by
    # giving up on the parameter server after --cluster_timeout (1).
    assert cluster.proc('worker 1').wait(timeout=BOUND) == 143
    line = one_error_line(cluster.output('worker 1'))
    assert re.search(r'error: worker 1: stopped by SIGTERM while waiting for '
                     r'parameter server 0 at 10\.213\.\d+\.1:2222', line), line
    cluster.net.restore(cluster.host('worker 1'))
    cluster.wait()
    assert_run_complete(cluster, 2000, mnist_data_dir,
                        finished=('ps 0', 'worker 0'))


SYNC_END = re.compile(r'^Worker \d: trained on (\d+) batches; the global '
                      r'step is (\d+) \(each update averages (\d+) '
                      r'batches\)\.$', re.M)


def sync_end(output):
    """(batches, global step, batches per update) of a synchronous
    worker's run."""
    found = SYNC_END.findall(output)
    assert len(found) == 1, output
    return tuple(int(v) for v in found[0])


def assert_no_closed_queue(cluster):
    for task in cluster.tasks:
        out = cluster.output(task)
        assert 'is closed' not in out and 'Traceback' not in out, (task, out)


def test_sync_a_worker_cut_off_briefly_is_waited_for(cluster_of,
                                                     mnist_data_dir):
    """--sync_replicas, a cut shorter than --cluster_timeout: the updates
    wait for worker 1's batches, then go on; no task gives up. Each update
    took one batch of each worker: the chief's every one, worker 1's but
    those whose answer the cut swallowed."""
    cluster = cluster_of(['--fake_data', '--sync_replicas',
                          '--max_steps=600', '--save_checkpoint_steps=300',
                          '--cluster_timeout=40'], supervise=True)
    cluster.wait_for('worker 1', stepped_past(100), 'worker 1 training')
    cluster.net.cut(cluster.host('worker 1'))
    # Long enough for gRPC to drop the link's connections (3 s).
    time.sleep(10)
    cluster.net.restore(cluster.host('worker 1'))
    cluster.wait()
    assert_run_complete(cluster, 600, mnist_data_dir)
    assert [len(cluster.runs[t]) for t in cluster.tasks] == [1, 1, 1]
    assert_no_closed_queue(cluster)
    assert sync_end(cluster.output('worker 0')) == (600, 600, 2)
    batches, step, averaged = sync_end(cluster.output('worker 1'))
    assert 600 - 2 <= batches <= 600 and (step, averaged) == (600, 2)


def test_sync_a_worker_cut_off_too_long_comes_back(cluster_of,
                                                   mnist_data_dir):
    """--sync_replicas, a cut longer than --cluster_timeout: worker 1 gives
    up in one line naming the parameter server (the chief, without its
    batches, in one line naming it); started again, every task rejoins (no
    closed token queue) and the run ends whole."""
    cluster = cluster_of(['--fake_data', '--sync_replicas',
                          '--max_steps=600', '--save_checkpoint_steps=200',
                          '--cluster_timeout=10'], supervise=True)
    cluster.wait_for('worker 1', stepped_past(100), 'worker 1 training')
    cluster.cut_until_it_gives_up('worker 1')
    cluster.net.restore(cluster.host('worker 1'))
    cluster.wait()
    assert_run_complete(cluster, 600, mnist_data_dir)
    assert_no_closed_queue(cluster)
    assert cluster.exits('worker 1')[0] == 1
    line = one_error_line(cluster.runs['worker 1'][0][1].read_text())
    assert re.search(r'error: worker 1: (lost )?parameter server 0 at '
                     r'10\.213\.\d+\.1:2222', line), line
    # The chief, if it gave up meanwhile, said why in one line.
    for _, out in cluster.runs['worker 0'][:-1]:
        line = one_error_line(out.read_text())
        assert re.search(r"error: worker 0: a synchronous step waited "
                         r"--cluster_timeout \(10 s\) for the other "
                         r"workers' batches", line), line
    assert sync_end(cluster.runs['worker 1'][-1][1].read_text())[1:] == (
        600, 2)


# A worker's line for updates a cut link left applied in part, or uncounted
# (update_marks.py).
_SERVERS = r'(?:parameter server \d(?: \(\d+ updates?\))?(?: and )?)+'
UNCOUNTED = re.compile(
    r'^Worker \d: a link cut (?:during (?:an update|\d+ updates|updates) left '
    r'(?:it|them) applied in part: ' + _SERVERS + r' applied (?:it|them), ' +
    _SERVERS + r' did not; the global step \((?P<step>\d+)\) does not count '
    r'(?:it|them)|as an update ended lost its count: every parameter server '
    r'applied \d+ updates? that the global step \((?P<uncounted>\d+)\) does '
    r'not count); training goes on\.$', re.M)
WAITING = re.compile(r'^Worker \d: .*; waiting up to \d+ s\.$', re.M)


def test_an_update_cut_between_parameter_servers_is_said(cluster_of,
                                                         mnist_data_dir):
    """2 parameter servers (the variables split between them), 2 workers,
    asynchronous; parameter server 1's calls to parameter server 0 cut (a
    firewall between them lets only 0 call 1; both still reach the
    workers). Each update is applied on parameter server 0, which holds the
    step gate, and never on parameter server 1, which cannot ask it for the
    gate's answer: the worker's call gives up at its deadline, the update
    half done, and is asked again until the link is back. Then one line
    says how many updates parameter server 1 missed; the run goes on,
    without a restart, and ends whole."""
    steps = 3000
    cluster = cluster_of(['--fake_data', '--max_steps=%d' % steps,
                          '--save_checkpoint_steps=1000',
                          '--cluster_timeout=30'], num_ps=2, num_workers=2)
    workers = ('worker 0', 'worker 1')
    cluster.wait_for('worker 0', stepped_past(300), 'training')
    ps0, ps1 = cluster.host('ps 0'), cluster.host('ps 1')
    cluster.net.cut_calls(ps1, ps0, cluster.port)
    # Past a call's deadline (10 s at --cluster_timeout=30): the update
    # under way is given up, not finished late once the link is back.
    time.sleep(12)
    cluster.net.restore_calls(ps1, ps0, cluster.port)
    cluster.wait()
    outputs = [cluster.output(w) for w in workers]
    said = [m for out in outputs for m in UNCOUNTED.finditer(out)]
    assert said, outputs
    # Said only after a fault waited out, by the first worker to look.
    assert len(said) <= sum(len(WAITING.findall(out)) for out in outputs)
    for match in said:
        assert int(match.group('step') or match.group('uncounted')) < steps
    assert_run_complete(cluster, steps, mnist_data_dir)
    assert all(len(cluster.runs[t]) == 1 for t in cluster.tasks)


# The chief's line for an update a cut link stopped (update_runner.py).
CLOSED = re.compile(
    r"^Worker 0: step (\d+)'s update (?:was lost: no parameter server "
    r"applied it|was applied on parameter server \d but not on parameter "
    r"server \d) \(a link was cut while it was under way\); it counts as "
    r"done, and training goes on from step (\d+)\.$", re.M)


def test_sync_a_parameter_server_cut_briefly_is_waited_out(cluster_of,
                                                           mnist_data_dir):
    """--sync_replicas, 2 parameter servers, parameter server 1 cut for
    4.5 s four times: every task waits each cut out and none gives up
    (once, the chief's step, sent again while its update runner closed the
    update the cut had stopped, waited for an update only its own next
    batch could make, until --cluster_timeout). Each update a cut stopped
    is said in one line and counted; the run ends whole. The chief's two
    threads meet each cut at once: their lines stay apart."""
    steps = 1200
    cluster = cluster_of(['--fake_data', '--sync_replicas',
                          '--max_steps=%d' % steps,
                          '--save_checkpoint_steps=%d' % steps,
                          '--cluster_timeout=30'], num_ps=2)
    cluster.wait_for('worker 0', stepped_past(200), 'training')
    for _ in range(4):
        # Long enough for gRPC to drop the link's connections (3 s).
        cluster.net.cut(cluster.host('ps 1'))
        time.sleep(4.5)
        cluster.net.restore(cluster.host('ps 1'))
        # Training goes on about a second after the link is back.
        time.sleep(4)
    cluster.wait()
    assert_run_complete(cluster, steps, mnist_data_dir)
    assert_no_closed_queue(cluster)
    chief = cluster.output('worker 0')
    assert WAITING.search(chief), chief
    assert not re.search(r'\SWorker \d: ', chief), chief
    for step, then in CLOSED.findall(chief):
        assert int(then) == int(step) + 1 and int(step) < steps, chief
    for worker in ('worker 0', 'worker 1'):
        assert sync_end(cluster.output(worker))[1:] == (steps, 2)


@pytest.mark.parametrize('mode', ['async', 'sync'])
def test_two_faults_at_once_on_2_ps_and_5_workers(cluster_of, mnist_data_dir,
                                                  mode):
    """2 parameter servers (the variables split between them), 5 workers:
    parameter server 0 killed while worker 1 is cut off past
    --cluster_timeout. Both are started again, the chief puts the whole
    model back on them, and the run ends whole at --max_steps."""
    sync = ['--sync_replicas'] if mode == 'sync' else []
    # Steps enough that the run is under way at the faults, however fast.
    steps = 600 if sync else 3000
    cluster = cluster_of(['--fake_data', '--max_steps=%d' % steps,
                          '--save_checkpoint_steps=%d' % (steps // 3),
                          '--cluster_timeout=15'] + sync, supervise=True,
                         num_ps=2, num_workers=5)
    workers = [t for t in cluster.tasks if t.startswith('worker')]
    # Past the first checkpoint: the chief restores it.
    cluster.wait_for('worker 0', lambda _: any(
        stepped_past(steps // 3 + 100)(cluster.output(w)) for w in workers),
        'training')
    cluster.net.cut(cluster.host('worker 1'))
    os.killpg(cluster.proc('ps 0').pid, signal.SIGKILL)
    cluster.wait_for('worker 0', lambda out: 'Restored ' in out,
                     'the chief restoring the model')
    # Asynchronous, the others could finish the run before worker 1 is
    # back (a supervisor does not start a task again once the chief is
    # done): the chief is paused until then. (Synchronous, the run waits
    # for worker 1's batches.)
    chief = cluster.proc('worker 0')
    if not sync:
        os.killpg(chief.pid, signal.SIGSTOP)
    try:
        cluster.cut_until_it_gives_up('worker 1')
        cluster.net.restore(cluster.host('worker 1'))
        cluster.wait_for('worker 1', lambda _: len(
            cluster.runs['worker 1']) > 1 and 'Training ' in cluster.runs[
                'worker 1'][-1][1].read_text(), 'worker 1 started again')
    finally:
        if not sync:
            os.killpg(chief.pid, signal.SIGCONT)
    cluster.wait()
    assert_run_complete(cluster, steps, mnist_data_dir)
    assert_no_closed_queue(cluster)
    assert cluster.exits('ps 0')[0] == -signal.SIGKILL
    assert cluster.exits('worker 1')[0] == 1
    one_error_line(cluster.runs['worker 1'][0][1].read_text())
    # The chief put the model back from its checkpoint, on both parameter
    # servers (restore_and_evaluate above restored every variable).
    out = cluster.output('worker 0')
    assert re.search(r'^Restored .*model\.ckpt-(\d+) \(step \1\)\.$',
                     out, re.M), out


class LocalCluster(object):
    """scripts/local_cluster.sh --restart, its output read as it comes."""

    def __init__(self, flags):
        self.lines = []
        self.proc = subprocess.Popen(
            [LOCAL_CLUSTER, '--restart', '1', '2'] + list(flags),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=dict(os.environ, MNIST_TF1_TRAIN=' '.join(TRAIN),
                     PYTHON=sys.executable),
            start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip('\n'))

    def output(self):
        return '\n'.join(self.lines)

    def wait_for(self, pattern, what, count=1):
        """Waits for `count` lines that match pattern."""
        deadline = time.time() + BOUND
        while True:
            if len(re.findall(pattern, self.output(), re.M)) >= count:
                return
            assert self.proc.poll() is None, (what, self.output())
            assert time.time() < deadline, (what, self.output())
            time.sleep(0.1)

    def pid(self, task):
        """The pid of the task's latest run."""
        pids = re.findall(r'^\[local_cluster\] started %s \(pid (\d+)\)$' %
                          task, self.output(), re.M)
        return int(pids[-1])

    def kill(self, task):
        os.kill(self.pid(task), signal.SIGKILL)


# The chief restored a checkpoint: exactly the step it is named after.
RESTORED = r'^\[worker 0\] Restored .*model\.ckpt-(\d+) \(step \1\)\.$'


def test_killed_parameter_server_and_chief_restarted_under_local_cluster(
        mnist_data_dir, tmp_path):
    """scripts/local_cluster.sh --restart: a parameter server killed, then
    the chief; each is started again and the run ends whole."""
    log_dir = tmp_path / 'logs'
    # Steps enough after the chief's kill at 2100-2900 that the run cannot
    # be over before it lands, however fast the machine.
    cluster = LocalCluster(['--fake_data', '--max_steps=6000',
                            '--save_checkpoint_steps=1000',
                            '--cluster_timeout=30', '--log_dir=%s' % log_dir])
    try:
        cluster.wait_for(r'^\[worker \d\] Step 1[1-9]00:', 'training')
        cluster.kill('ps 0')
        cluster.wait_for(r'^\[local_cluster\] ps 0 exited -?\d+; starting it '
                         r'again', 'the supervisor restarting ps 0')
        # The chief puts the model back on the new parameter server without
        # a restart of its own; the other worker waits for it.
        cluster.wait_for(r'^\[worker 0\] Worker 0: a parameter server lost '
                         r'the model .*; restoring it\.$', 'the chief noticing')
        cluster.wait_for(RESTORED, 'the chief restoring')
        cluster.wait_for(r'^\[worker \d\] Step 2[1-9]00:', 'training again')
        cluster.kill('worker 0')
        cluster.wait_for(r'^\[local_cluster\] worker 0 exited -?\d+; '
                         r'starting it again', 'the supervisor restarting it')
        cluster.wait_for(RESTORED, 'the restarted chief restoring',
                         count=2)
        assert cluster.proc.wait(timeout=BOUND) == 0, cluster.output()
    finally:
        if cluster.proc.poll() is None:
            os.killpg(cluster.proc.pid, signal.SIGKILL)
            cluster.proc.wait()
        cluster._reader.join(timeout=10)
    output = cluster.output()
    assert output.splitlines()[-1] == (
        '[local_cluster] ps 0 exit 0, worker 0 exit 0, worker 1 exit 0')
    assert 'Traceback' not in output
    latest = tf.train.latest_checkpoint(str(log_dir))
    assert latest.endswith('model.ckpt-6000')
    step, _, _ = restore_and_evaluate(log_dir, mnist_data_dir)
    assert step == 6000
    # No task of the script is left: each exited, none under another name.
    assert not [line for line in subprocess.run(
        ['ps', '-eo', 'args'], capture_output=True, text=True).stdout.split(
            '\n') if str(log_dir) in line]
