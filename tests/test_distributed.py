"""Training on a cluster: parameter servers and workers as separate processes
on 127.0.0.1 (TensorFlow's own gRPC runtime), on the real MNIST."""

import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

import tensorflow.compat.v1 as tf

from mnist_tf1 import input_data
from mnist_tf1 import mnist
from mnist_tf1.run_dir import checkpoints
from processes import free_ports
from processes import kill_group
from processes import read_until

# Every test here starts the programs (the slow tier; see conftest.py).
pytestmark = pytest.mark.slow

REPO = pathlib.Path(__file__).resolve().parent.parent
LOCAL_CLUSTER = str(REPO / 'scripts' / 'local_cluster.sh')
TRAIN = [sys.executable, '-m', 'mnist_tf1.fully_connected_feed']

STEP_LINE = re.compile(r'^Step (\d+): loss = \d+\.\d\d \(\d+\.\d\d\d sec\)$')
EVAL_LINE = re.compile(
    r'^  Num examples: (\d+)  Num correct: (\d+)  Precision @ 1: (\d\.\d{4})$')
WORKER_END = re.compile(
    r'^Worker (\d+): trained on (\d+) batches; the global step is (\d+)'
    r'( \(each update averages (\d+) batches\))?\.$')
# Every wait in these tests is bounded; a cluster that hangs fails the test.
RUN_TIMEOUT = 300


def run_local_cluster(n_ps, n_workers, *flags):
    """scripts/local_cluster.sh, as a user runs it; (returncode, output)."""
    env = dict(os.environ,
               MNIST_TF1_TRAIN=' '.join(TRAIN), PYTHON=sys.executable)
    proc = subprocess.Popen(
        [LOCAL_CLUSTER, str(n_ps), str(n_workers)] + list(flags),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=RUN_TIMEOUT)
    finally:
        kill_group(proc)
    return proc.returncode, output


def task_lines(output, task):
    """The lines task ('worker 0', 'ps 0') printed, without the prefix."""
    prefix = '[%s] ' % task
    return [l[len(prefix):] for l in output.splitlines()
            if l.startswith(prefix)]


def step_labels(lines):
    return [int(m.group(1)) for m in map(STEP_LINE.match, lines) if m]


def evals(lines):
    """[(heading, num_examples, num_correct)] in printed order."""
    out = []
    for i, line in enumerate(lines):
        if line.endswith('Data Eval:'):
            m = EVAL_LINE.match(lines[i + 1])
            assert m, lines[i + 1]
            out.append((line, int(m.group(1)), int(m.group(2))))
    return out


def worker_end(lines):
    """(batches, global step, averaging) from a worker's last line."""
    ends = [m for m in map(WORKER_END.match, lines) if m]
    assert len(ends) == 1, lines
    m = ends[0]
    return (int(m.group(2)), int(m.group(3)),
            int(m.group(5)) if m.group(5) else None)


def restore_and_evaluate(log_dir, data_dir):
    """The latest checkpoint in log_dir, restored into a fresh single-process
    graph and evaluated on the test set.

    Returns:
      (global step, num correct, precision) of the whole test set.
    """
    test = input_data.read_data_sets(str(data_dir)).test
    # (The global step as saved: int32 as the tutorial's mnist.py makes it.)
    with tf.Graph().as_default(), checkpoints.global_step_as_saved(
            str(log_dir)):
        images = tf.placeholder(tf.float32, [None, mnist.IMAGE_PIXELS])
        labels = tf.placeholder(tf.int32, [None])
        eval_correct = mnist.evaluation(
            mnist.inference(images, 128, 32), labels)
        global_step = tf.train.get_or_create_global_step()
        saver = tf.train.Saver()
        with tf.Session() as sess:
            saver.restore(sess, tf.train.latest_checkpoint(str(log_dir)))
            correct = 0
            for images_feed, labels_feed in test.batches(2000):
                correct += sess.run(eval_correct, {images: images_feed,
                                                   labels: labels_feed})
            return sess.run(global_step), correct, correct / test.num_examples


@pytest.fixture(scope='module')
def async_run(tmp_path_factory, mnist_data_dir):
    """1 ps and 2 workers, asynchronous, 1,000 steps, via local_cluster.sh."""
    log_dir = tmp_path_factory.mktemp('async') / 'logs'
    returncode, output = run_local_cluster(
        1, 2, '--max_steps=1000', '--log_dir=%s' % log_dir,
        '--input_data_dir=%s' % mnist_data_dir)
    return returncode, output, log_dir


@pytest.fixture(scope='module')
def sync_run(tmp_path_factory, mnist_data_dir):
    """1 ps and 2 workers, synchronous, 2 batches per update, 400 updates."""
    log_dir = tmp_path_factory.mktemp('sync') / 'logs'
    returncode, output = run_local_cluster(
        1, 2, '--sync_replicas', '--replicas_to_aggregate=2',
        '--max_steps=400', '--log_dir=%s' % log_dir,
        '--input_data_dir=%s' % mnist_data_dir)
    return returncode, output, log_dir


@pytest.mark.parametrize('run', ['async_run', 'sync_run'])
def test_every_task_exits_0_and_the_parameter_server_stops(run, request):
    returncode, output, _ = request.getfixturevalue(run)
    assert returncode == 0, output
    assert output.splitlines()[-1] == (
        '[local_cluster] ps 0 exit 0, worker 0 exit 0, worker 1 exit 0')
    assert task_lines(output, 'ps 0')[-1] == (
        'Parameter server 0: all 2 workers are done; stopping.')
    # Quiet: no TensorFlow log lines, warnings or tracebacks from any task.
    for task in ('ps 0', 'worker 0', 'worker 1'):
        for line in task_lines(output, task):
            assert not re.match(r'^(W|E|I)\d{4} |.*(Traceback|WARNING|ERROR)',
                                line), (task, line)


def test_async_workers_take_every_step_exactly_once(async_run):
    _, output, _ = async_run
    chief = task_lines(output, 'worker 0')
    other = task_lines(output, 'worker 1')
    # Under local_cluster.sh each task first says that its port is private.
    assert re.match(r'worker 0: port \d+ is private: ', chief[0]), chief[0]
    assert chief[1].startswith('Worker 0 of 2 (the chief) at 127.0.0.1:')
    assert chief[1].endswith('; asynchronous training.')
    chief_batches, chief_step, _ = worker_end(chief)
    other_batches, _, _ = worker_end(other)
    # Between them the workers trained on 1,000 batches, one per step.
    assert chief_step == 1000
    assert chief_batches + other_batches == 1000
    assert chief_batches > 0 and other_batches > 0
    # Each step was one worker's: every hundredth is printed once, by one.
    labels = step_labels(chief) + step_labels(other)
    assert sorted(labels) == list(range(0, 1000, 100))


def test_only_the_chief_evaluates_and_writes(async_run):
    _, output, log_dir = async_run
    chief = task_lines(output, 'worker 0')
    other = task_lines(output, 'worker 1')
    # The chief took the last step, after all the others: its evaluation is
    # of the finished model.
    assert [(h, n) for h, n, _ in evals(chief)] == [
        ('Training Data Eval:', 55000), ('Validation Data Eval:', 5000),
        ('Test Data Eval:', 10000)]
    assert evals(other) == []
    # One events file (the chief's), one checkpoint, the run's flags.
    files = sorted(os.listdir(log_dir))
    assert len([f for f in files if f.startswith('events.out.')]) == 1
    assert 'flags.txt' in files
    assert tf.train.latest_checkpoint(str(log_dir)).endswith('model.ckpt-1000')
    assert [f for f in files if f.startswith('model.ckpt')] == [
        'model.ckpt-1000.data-00000-of-00001', 'model.ckpt-1000.index',
        'model.ckpt-1000.meta']


@pytest.mark.parametrize('run', ['async_run', 'sync_run'])
def test_the_chiefs_checkpoint_restores_in_one_process(run, request,
                                                       mnist_data_dir):
    _, output, log_dir = request.getfixturevalue(run)
    step, correct, precision = restore_and_evaluate(log_dir, mnist_data_dir)
    # The global step asked for, and the very model the chief evaluated.
    assert step == (1000 if run == 'async_run' else 400)
    printed = evals(task_lines(output, 'worker 0'))
    assert printed[-1][0] == 'Test Data Eval:'
    assert correct == printed[-1][2]
    # Mechanics 101 on one machine: 0.86 after 1,000 steps (the tutorial's
    # 0.8605); about 0.70 after 400. A sync update averages two batches.
    if run == 'async_run':
        assert 0.82 <= precision <= 0.91
    else:
        assert 0.60 <= precision <= 0.85


def test_sync_updates_each_average_two_batches(sync_run):
    _, output, _ = sync_run
    chief = task_lines(output, 'worker 0')
    other = task_lines(output, 'worker 1')
    assert chief[1].endswith('; synchronous training.')
    chief_batches, chief_step, chief_avg = worker_end(chief)
    other_batches, _, other_avg = worker_end(other)
    assert chief_step == 400
    assert chief_avg == other_avg == 2
    # 400 updates of 2 batches each: at least 800 batches were computed
    # (a batch computed against an older step is dropped as stale), and
    # both workers contributed.
    assert chief_batches + other_batches >= 800
    assert chief_batches + other_batches <= 1000
    assert chief_batches >= 300 and other_batches >= 300
    # The chief's step lines follow the global step.
    assert step_labels(chief)[:1] == [0]
    assert all(s % 100 == 0 for s in step_labels(chief))
    assert [h for h, _, _ in evals(chief)] == [
        'Training Data Eval:', 'Validation Data Eval:', 'Test Data Eval:']
    assert evals(other) == []


def test_single_machine_training_continues_a_cluster_checkpoint(
        async_run, mnist_data_dir, tmp_path):
    _, _, log_dir = async_run
    shutil.copytree(log_dir, tmp_path / 'logs')
    result = subprocess.run(
        TRAIN + ['--max_steps=1100', '--log_dir=%s' % (tmp_path / 'logs'),
                 '--input_data_dir=%s' % mnist_data_dir],
        capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert result.returncode == 0, result.stderr
    assert 'model.ckpt-1000 (step 1000).' in result.stdout
    assert step_labels(result.stdout.splitlines()) == [1000]


class Tasks(object):
    """Tasks started one by one, each in its own session, output to files."""

    def __init__(self, base, tf_config_cluster):
        self.base = base
        self.tf_config_cluster = tf_config_cluster
        self.procs = {}
        self.runs = {}

    def start(self, task_type, index, *flags):
        """Starts a task through TF_CONFIG (the chief as its own job)."""
        return self._start('%s%d' % (task_type, index), flags, {
            'TF_CONFIG': json.dumps({
                'cluster': self.tf_config_cluster,
                'task': {'type': task_type, 'index': index}})})

    def start_with_flags(self, name, *flags):
        return self._start(name, flags, {})

    def _start(self, name, flags, env):
        run = self.runs.get(name, 0) + 1
        self.runs[name] = run
        out = self.base / ('%s.%d.out' % (name, run))
        env = dict(os.environ, PYTHONUNBUFFERED='1', **env)
        with open(out, 'w') as f:
            self.procs[name, run] = subprocess.Popen(
                TRAIN + list(flags), stdout=f, stderr=subprocess.STDOUT,
                env=env, start_new_session=True)
        return name, run

    def proc(self, task):
        return self.procs[task]

    def output(self, task):
        name, run = task
        return (self.base / ('%s.%d.out' % (name, run))).read_text()

    def wait_for(self, task, predicate, what):
        deadline = time.time() + RUN_TIMEOUT
        while not predicate(self.output(task)):
            assert self.proc(task).poll() is None, (what, self.output(task))
            assert time.time() < deadline, what
            time.sleep(0.05)

    def wait(self, task):
        return self.proc(task).wait(timeout=RUN_TIMEOUT)

    def kill(self, task):
        os.killpg(self.proc(task).pid, signal.SIGKILL)
        self.proc(task).wait()

    def stop_all(self):
        for proc in self.procs.values():
            kill_group(proc)


def test_killed_workers_rejoin_and_a_restarted_chief_resumes(
        async_run, mnist_data_dir, tmp_path):
    """SIGKILL a worker mid-run and start it again; then the chief."""
    _, _, first_logs = async_run
    log_dir = tmp_path / 'logs'
    shutil.copytree(first_logs, log_dir)   # holds model.ckpt-1000
    ps, chief, worker = ['127.0.0.1:%d' % p for p in free_ports(3)]
    cluster = Tasks(tmp_path, {'ps': [ps], 'chief': [chief],
                               'worker': [worker]})
    flags = ['--max_steps=6000', '--log_dir=%s' % log_dir,
             '--input_data_dir=%s' % mnist_data_dir, '--cluster_timeout=60']
    try:
        ps0 = cluster.start('ps', 0, *flags)
        chief1 = cluster.start('chief', 0, *flags)
        worker1 = cluster.start('worker', 0, *flags)

        def stepped_past(n):
            return lambda out: max(step_labels(out.splitlines()) + [-1]) >= n

        # The non-chief worker dies mid-run; the chief goes on alone.
        cluster.wait_for(worker1, stepped_past(1300), 'worker 1 training')
        cluster.kill(worker1)
        before = step_labels(cluster.output(worker1).splitlines())[-1]

        def going_on_alone(out):
            # Far enough from its next checkpoint that the worker started
            # again can take steps before it (the chief's) is due.
            step = max(step_labels(out.splitlines()) + [-1])
            return step >= before + 200 and step % 1000 <= 700
        cluster.wait_for(chief1, going_on_alone, 'the chief going on alone')
        # The chief is paused until the worker is back: alone, it could
        # finish the run first on a fast machine.
        os.killpg(cluster.proc(chief1).pid, signal.SIGSTOP)
        # Started again, it rejoins: it takes steps from where the run is.
        worker2 = cluster.start('worker', 0, *flags)
        cluster.wait_for(worker2, lambda out: step_labels(out.splitlines()),
                         'worker 1 rejoining')
        assert step_labels(cluster.output(worker2).splitlines())[0] > before

        # The chief dies; started again, it resumes from its last checkpoint
        # (the newest whole one, as it looks for it).
        cluster.kill(chief1)
        last = checkpoints.latest(str(log_dir))
        last_step = int(last.rsplit('-', 1)[1])
        assert last_step >= 1000
        # Read now: the run's later checkpoints push it out (--max_to_keep).
        saved_step = tf.train.load_checkpoint(last).get_tensor('global_step')
        chief2 = cluster.start('chief', 0, *flags)

        for task in (chief2, worker2, ps0):
            assert cluster.wait(task) == 0, cluster.output(task)
        assert cluster.proc(chief1).returncode == -signal.SIGKILL
        assert cluster.proc(worker1).returncode == -signal.SIGKILL
        chief_lines = cluster.output(chief2).splitlines()
        # The step it says is the global step once restored: exactly the one
        # saved, which is the one in the file's name (the other workers wait
        # while the chief saves, and for the restore).
        assert saved_step == last_step
        restored = [re.match(r'^Restored (.*) \(step (\d+)\)\.$', line)
                    for line in chief_lines]
        restored = [m.groups() for m in restored if m]
        assert len(restored) == 1 and restored[0][0] == last, chief_lines
        assert int(restored[0][1]) == saved_step, (saved_step, chief_lines)
        assert worker_end(cluster.output(worker2).splitlines())[0] > 0
        assert cluster.output(ps0).splitlines()[-1] == (
            'Parameter server 0: all 2 workers are done; stopping.')
    finally:
        cluster.stop_all()

    # Not a step lost, the killed workers' included.
    step, _, precision = restore_and_evaluate(log_dir, mnist_data_dir)
    assert step == 6000
    assert tf.train.latest_checkpoint(str(log_dir)).endswith(
        'model.ckpt-%d' % step)
    assert 0.88 <= precision <= 0.95


def test_a_worker_that_cannot_reach_a_parameter_server_gives_up(tmp_path):
    ps, worker = free_ports(2)
    result = subprocess.run(
        TRAIN + ['--ps_hosts=127.0.0.1:%d' % ps,
                 '--worker_hosts=127.0.0.1:%d' % worker, '--job_name=worker',
                 '--task_index=0', '--cluster_timeout=2', '--fake_data',
                 '--log_dir=%s' % tmp_path],
        capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert result.returncode == 1
    errors = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(errors) == 1, result.stderr
    assert ('worker 0: cannot reach parameter server 0 at 127.0.0.1:%d after '
            '2 s (Connection refused)' % ps) in errors[0]


def test_a_worker_waits_for_the_chief_then_gives_up(tmp_path):
    hosts = ['127.0.0.1:%d' % p for p in free_ports(3)]
    common = ['--ps_hosts=%s' % hosts[0], '--worker_hosts=%s' % ','.join(
        hosts[1:]), '--cluster_timeout=3', '--fake_data',
        '--log_dir=%s' % tmp_path]
    ps = subprocess.Popen(TRAIN + common + ['--job_name=ps'],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, start_new_session=True,
                          env=dict(os.environ, PYTHONUNBUFFERED='1'))
    try:
        # Once the parameter server serves (it says its port is open, then
        # that it serves), worker 1 waits for the chief.
        port, serving = read_until(ps, '', RUN_TIMEOUT, count=2)
        assert port.startswith('ps 0: port ')
        assert serving.startswith('Parameter server 0 of 1 at ')
        result = subprocess.run(
            TRAIN + common + ['--job_name=worker', '--task_index=1'],
            capture_output=True, text=True, timeout=RUN_TIMEOUT)
    finally:
        kill_group(ps)
    assert result.returncode == 1
    errors = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(errors) == 1, result.stderr
    assert ('worker 1: the chief (worker 0 at %s) has not initialized the '
            'model after 3 s' % hosts[1]) in errors[0]
    assert os.listdir(tmp_path) == []


def test_a_sync_run_waits_for_a_late_worker_up_to_the_cluster_timeout(
        tmp_path):
    # A worker started later than the others (another machine, a pod
    # scheduled late): a synchronous step waits for its batches as long as
    # --cluster_timeout, not only as long as one call's deadline (10 s here).
    hosts = ['127.0.0.1:%d' % p for p in free_ports(3)]
    common = ['--ps_hosts=%s' % hosts[0],
              '--worker_hosts=%s' % ','.join(hosts[1:]), '--sync_replicas',
              '--cluster_timeout=30', '--fake_data', '--max_steps=50']
    tasks = Tasks(tmp_path, None)
    try:
        ps = tasks.start_with_flags('ps', '--job_name=ps',
                                    '--log_dir=%s' % (tmp_path / 'ps'),
                                    *common)
        chief = tasks.start_with_flags('w0', '--job_name=worker',
                                       '--task_index=0',
                                       '--log_dir=%s' % (tmp_path / 'w0'),
                                       *common)
        tasks.wait_for(chief, lambda out: 'Training mechanics101' in out,
                       'the chief starting to train')
        time.sleep(15)
        late = tasks.start_with_flags('w1', '--job_name=worker',
                                      '--task_index=1',
                                      '--log_dir=%s' % (tmp_path / 'w1'),
                                      *common)
        assert tasks.wait(late) == 0, tasks.output(late)
        assert tasks.wait(chief) == 0, tasks.output(chief)
        assert tasks.wait(ps) == 0, tasks.output(ps)
    finally:
        tasks.stop_all()
    assert worker_end(tasks.output(chief).splitlines())[1] == 50


def test_a_sync_step_that_waits_out_the_cluster_timeout_says_for_whom(
        tmp_path):
    hosts = ['127.0.0.1:%d' % p for p in free_ports(3)]
    common = ['--ps_hosts=%s' % hosts[0],
              '--worker_hosts=%s' % ','.join(hosts[1:]), '--sync_replicas',
              '--cluster_timeout=6', '--fake_data']
    tasks = Tasks(tmp_path, None)
    try:
        tasks.start_with_flags('ps', '--job_name=ps',
                               '--log_dir=%s' % (tmp_path / 'ps'), *common)
        chief = tasks.start_with_flags('w0', '--job_name=worker',
                                       '--task_index=0',
                                       '--log_dir=%s' % (tmp_path / 'w0'),
                                       *common)
        assert tasks.wait(chief) == 1
    finally:
        tasks.stop_all()
    output = tasks.output(chief)
    assert 'Traceback' not in output
    assert output.splitlines()[-1].endswith(
        "error: worker 0: a synchronous step waited --cluster_timeout (6 s) "
        "for the other workers' batches (worker 1 at %s (Connection "
        'refused)); start them, or raise --cluster_timeout' % hosts[2])


def test_workers_stop_in_one_line_when_a_parameter_server_dies(tmp_path):
    ps, worker = ['127.0.0.1:%d' % p for p in free_ports(2)]
    # (A worker waits --cluster_timeout for a parameter server to come back.)
    flags = ['--ps_hosts=%s' % ps, '--worker_hosts=%s' % worker, '--fake_data',
             '--max_steps=1000000', '--log_dir=%s' % tmp_path,
             '--cluster_timeout=5']
    tasks = Tasks(tmp_path, None)
    try:
        ps0 = tasks.start_with_flags('ps0', *flags, '--job_name=ps')
        chief = tasks.start_with_flags('chief', *flags, '--job_name=worker')
        tasks.wait_for(chief, lambda out: 'Step 300:' in out, 'training')
        tasks.kill(ps0)
        assert tasks.wait(chief) == 1
    finally:
        tasks.stop_all()
    lines = tasks.output(chief).splitlines()
    assert 'Traceback' not in tasks.output(chief)
    assert re.search(r'error: worker 0: parameter server 0 at %s \(Connection '
                     r'refused\): gone for 5 s \(--cluster_timeout\); check '
                     r'that it runs and the network to it, then start this '
                     r'task again' % re.escape(ps), lines[-1]), lines[-1]


@pytest.mark.parametrize('flags,env,words', [
    (['--job_name=worker'], {},
     'a cluster task needs --ps_hosts, --worker_hosts too'),
    (['--ps_hosts=localhost', '--worker_hosts=localhost:1',
      '--job_name=ps'], {}, "--ps_hosts: 'localhost' is not host:port"),
    (['--ps_hosts=localhost:1', '--worker_hosts=localhost:2',
      '--job_name=worker', '--task_index=1'], {}, 'there is no worker task 1'),
    (['--sync_replicas'], {}, '--sync_replicas is for a cluster'),
    ([], {'TF_CONFIG': '{"cluster": '}, 'TF_CONFIG is not a cluster'),
    ([], {'TF_CONFIG': json.dumps({'cluster': {'worker': ['localhost:1']},
                                   'task': {'type': 'evaluator'}})},
     "TF_CONFIG task type 'evaluator' is not one this program runs"),
    ([], {'TF_CONFIG': json.dumps({'cluster': {'worker': ['localhost:1'],
                                               'ps': ['ps0']},
                                   'task': {'type': 'worker'}})},
     "TF_CONFIG cluster 'ps': 'ps0' is not host:port"),
    ([], {'TF_CONFIG': json.dumps({'cluster': {'worker': ['localhost:1'],
                                               'ps': 'localhost:2'},
                                   'task': {'type': 'worker'}})},
     "TF_CONFIG: cluster 'ps' is 'localhost:2', not a list of host:port"),
    ([], {'TF_CONFIG': json.dumps({'cluster': {'chief': ['localhost:1'],
                                               'worker': ['localhost:3'],
                                               'ps': ['localhost:2']},
                                   'task': {'type': 'chief', 'index': 1}})},
     'TF_CONFIG: a cluster has one chief, task 0'),
])
def test_a_bad_cluster_description_is_refused_in_one_line(flags, env, words,
                                                          tmp_path):
    result = subprocess.run(
        TRAIN + flags + ['--fake_data', '--log_dir=%s' % (tmp_path / 'logs')],
        capture_output=True, text=True, env=dict(os.environ, **env),
        timeout=RUN_TIMEOUT)
    assert result.returncode == 1
    errors = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(errors) == 1 and words in errors[0], result.stderr
    assert not (tmp_path / 'logs').exists()


def test_local_cluster_fails_when_a_task_fails(tmp_path):
    returncode, output = run_local_cluster(
        1, 2, '--max_steps=0', '--fake_data', '--log_dir=%s' % tmp_path)
    assert returncode == 1
    assert '--max_steps must be a positive integer' in output
    assert re.search(r'^\[local_cluster\] .* failed \(exit 1\); stopping the '
                     r'others$', output, re.M), output
    assert output.splitlines()[-1].startswith('[local_cluster] ps 0 exit ')


def test_a_run_aborted_by_a_refused_duplicate_request_runs_again(
        monkeypatch, capsys):
    # TensorFlow's gRPC client resends a request after a transient failure;
    # a task that got the first copy refuses the second, and the run fails
    # with this AbortedError. It cannot be caused at will, so the parent
    # Session.run fails that way once, under a real session on a real
    # in-process server.
    from mnist_tf1.cluster import session
    server = tf.train.Server.create_local_server()
    with tf.Graph().as_default():
        counter = tf.Variable(0, name='counter')
        increment = counter.assign_add(1)
        sess = session.ClusterSession('worker 0', server.target,
                                           config=tf.ConfigProto())
        sess.run(counter.initializer)
        real_run = tf.Session.run
        failures = []

        def flaky_run(self, *args, **kwargs):
            if len(failures) < 1:
                failures.append(1)
                raise tf.errors.AbortedError(
                    None, None, 'The same RunGraph (Worker) request was '
                    'received twice. goo.gle/debugproto')
            return real_run(self, *args, **kwargs)

        monkeypatch.setattr(tf.Session, 'run', flaky_run)
        assert sess.run(increment) == 1
        assert capsys.readouterr().out == (
            'Worker 0: the cluster refused a resent request as a duplicate; '
            'running again.\n')

        # Any other AbortedError ends the run as before, at once.
        def aborted_run(self, *args, **kwargs):
            failures.append(1)
            raise tf.errors.AbortedError(None, None, 'Queue is closed.')

        monkeypatch.setattr(tf.Session, 'run', aborted_run)
        failures.clear()
        with pytest.raises(tf.errors.AbortedError):
            sess.run(increment)
        assert len(failures) == 1
        monkeypatch.undo()
        assert sess.run(counter) == 1
        sess.close()


def test_workers_take_the_run_from_the_chief(tmp_path):
    """The chief's run (an int64 global step, as this project's earlier runs
    saved it) continued; worker 1, with a --log_dir of its own, started after
    the chief finished, while the parameter server waits for it: told a
    --max_steps other than the chief's, it says the two disagree; told the
    chief's, it says the run is finished, and the cluster ends with 0."""
    chief_dir = tmp_path / 'chief'
    with tf.Graph().as_default():
        mnist.inference(tf.placeholder(tf.float32, [None, 784]), 128, 32)
        step = tf.train.get_or_create_global_step()   # int64
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(step.assign(30))
            tf.train.Saver().save(sess, str(chief_dir / 'model.ckpt'),
                                  global_step=30)
    hosts = ['127.0.0.1:%d' % p for p in free_ports(3)]
    common = ['--ps_hosts=%s' % hosts[0],
              '--worker_hosts=%s' % ','.join(hosts[1:]), '--fake_data',
              '--cluster_timeout=60']
    tasks = Tasks(tmp_path, None)
    worker = ['--job_name=worker', '--task_index=1',
              '--log_dir=%s' % (tmp_path / 'w1')] + common
    try:
        ps = tasks.start_with_flags('ps', '--job_name=ps', *common)
        chief = tasks.start_with_flags(
            'w0', '--job_name=worker', '--task_index=0', '--max_steps=60',
            '--log_dir=%s' % chief_dir, *common)
        assert tasks.wait(chief) == 0, tasks.output(chief)
        disagrees = tasks.start_with_flags('w1', '--max_steps=90', *worker)
        assert tasks.wait(disagrees) == 1, tasks.output(disagrees)
        finished = tasks.start_with_flags('w1', '--max_steps=60', *worker)
        assert tasks.wait(finished) == 0, tasks.output(finished)
        assert tasks.wait(ps) == 0, tasks.output(ps)
    finally:
        tasks.stop_all()
    assert 'Restored %s (step 30).' % (chief_dir / 'model.ckpt-30') in (
        tasks.output(chief))
    assert tf.train.load_checkpoint(str(chief_dir / 'model.ckpt-60')).\
        get_variable_to_dtype_map()['global_step'] == tf.int64
    errors = [l for l in tasks.output(disagrees).splitlines()
              if ': error: ' in l]
    assert len(errors) == 1 and errors[0].endswith(
        "worker 1: --max_steps=90, but the chief (worker 0 at %s) trains the "
        "run to 60; give every worker the chief's --max_steps" % hosts[1]), (
            tasks.output(disagrees))
    assert ('Worker 1: the run is finished: the chief (worker 0 at %s) took '
            'it to step 60 (--max_steps); nothing to do.' % hosts[1]) in (
                tasks.output(finished).splitlines())
    assert tasks.output(ps).splitlines()[-1] == (
        'Parameter server 0: all 2 workers are done; stopping.')
    assert not (tmp_path / 'w1').exists() or not os.listdir(tmp_path / 'w1')


def test_a_sync_chief_stopped_by_sigterm_names_its_checkpoint_by_the_step_in_it(
        tmp_path):
    """Three synchronous workers, two batches an update: without the chief's
    the others' updates go on, so the step the chief last saw is not the
    step it saves unless it stops the updates first. End to end: the line,
    the name and the step inside agree. (The race itself is rare here; it
    is forced in test_sync_updates.py.)"""
    hosts = ['127.0.0.1:%d' % p for p in free_ports(4)]
    common = ['--ps_hosts=%s' % hosts[0],
              '--worker_hosts=%s' % ','.join(hosts[1:]), '--sync_replicas',
              '--replicas_to_aggregate=2', '--fake_data',
              '--max_steps=100000', '--cluster_timeout=10']
    log_dir = tmp_path / 'logs'
    tasks = Tasks(tmp_path, None)
    try:
        tasks.start_with_flags('ps', '--job_name=ps', *common)
        chief = tasks.start_with_flags(
            'w0', '--job_name=worker', '--task_index=0',
            '--log_dir=%s' % log_dir, *common)
        for i in (1, 2):
            tasks.start_with_flags(
                'w%d' % i, '--job_name=worker', '--task_index=%d' % i,
                '--log_dir=%s' % (tmp_path / ('w%d' % i)), *common)
        # (A worker prints the steps it computed a batch at: not each
        # hundredth, when the others' batches make updates without it.)
        tasks.wait_for(chief, lambda out: max(
            step_labels(out.splitlines()) + [-1]) >= 300, 'training')
        tasks.proc(chief).send_signal(signal.SIGTERM)
        assert tasks.wait(chief) == 143, tasks.output(chief)
    finally:
        tasks.stop_all()
    stopped = re.findall(r'^Stopped by SIGTERM at step (\d+); saved (.*)\.$',
                         tasks.output(chief), re.M)
    assert len(stopped) == 1, tasks.output(chief)
    step, saved = int(stopped[0][0]), stopped[0][1]
    assert saved.endswith('model.ckpt-%d' % step)
    assert tf.train.load_checkpoint(saved).get_tensor('global_step') == step
