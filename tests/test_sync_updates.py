"""Synchronous updates (--sync_replicas) on real in-process TensorFlow
servers (two parameter servers and two workers on 127.0.0.1): which batches
an update averages, and the step the chief saves while updates go on."""

import threading
import time
import types

import numpy as np
import pytest

import mnist_tf1  # noqa: F401  (imports TensorFlow in graph mode, quietly)
import tensorflow.compat.v1 as tf

from mnist_tf1.cluster import optimizer
from mnist_tf1.cluster import session
from mnist_tf1.cluster import spec
from mnist_tf1.cluster import steps
from mnist_tf1.cluster import sync_updates
from mnist_tf1.cluster import update_runner
from mnist_tf1.run_dir import save_schedule
from processes import free_ports
from processes import wait_until

LEARNING_RATE = 0.5
# Seconds a wait for the cluster may take before the test fails (it takes
# milliseconds).
WAIT_SECS = 30


@pytest.fixture(scope='module')
def servers():
    """Two parameter servers and two workers in this process."""
    hosts = ['127.0.0.1:%d' % p for p in free_ports(4)]
    cluster_spec = tf.train.ClusterSpec({'ps': hosts[:2],
                                         'worker': hosts[2:]})
    servers = [tf.train.Server(cluster_spec, 'ps', 0),
               tf.train.Server(cluster_spec, 'ps', 1),
               tf.train.Server(cluster_spec, 'worker', 0),
               tf.train.Server(cluster_spec, 'worker', 1)]
    return servers, hosts


class Worker(object):
    """A worker's graph: loss = sum(a * x) + sum(b * x), so the gradient of
    each of the variables a (on ps 0) and b (on ps 1) is the batch x."""

    def __init__(self, hosts, task_index, replicas_to_aggregate=None):
        self.graph = tf.Graph()
        with self.graph.as_default():
            cluster = spec.Cluster(hosts[:2], hosts[2:], 'worker', task_index,
                                   sync=True,
                                   replicas_to_aggregate=replicas_to_aggregate)
            with tf.device(tf.train.replica_device_setter(
                    ps_device='/job:ps/cpu:0',
                    worker_device='/job:worker/task:%d' % task_index,
                    cluster=cluster.spec)):
                global_step = tf.train.get_or_create_global_step()
                self.x = tf.placeholder(tf.float32, [3])
                self.a = tf.Variable(tf.zeros([3]), name='a')
                self.b = tf.Variable(tf.zeros([3]), name='b')
                loss = tf.reduce_sum(self.a * self.x + self.b * self.x)
                with optimizer.cluster_minimize(cluster):
                    tf.train.GradientDescentOptimizer(LEARNING_RATE).minimize(
                        loss, global_step=global_step)
                self.training = cluster.sync_training
                self.ops = sync_updates.SyncOps(cluster, self.training,
                                                global_step)
                self.init = tf.global_variables_initializer()
                self.new_step = tf.placeholder(tf.int64, [])
                self.set_global_step = global_step.assign(self.new_step)
                self.set_local_step = self.training.local_step.assign(
                    self.new_step)
        self.cluster = cluster
        self.global_step = global_step
        assert self.a.device != self.b.device  # One on each server.

    def session(self, server):
        return tf.Session(server.target, graph=self.graph)

    def send(self, sess, step, x):
        """Sends batch x computed at `step`; returns 1 if it was taken."""
        sess.run(self.set_local_step, {self.new_step: step})
        local_step, taken = sess.run(self.training.resent, {self.x: x})
        assert local_step == step
        return int(taken)


def test_a_batch_computed_ahead_of_a_restored_checkpoint_is_not_averaged(
        servers):
    """After the chief restores an older checkpoint, a worker's batch from
    the later step it was at must not go into the restored step's update
    along with its next batch: the update averages one batch per worker."""
    (_, _, server0, server1), hosts = servers
    chief, other = Worker(hosts, 0), Worker(hosts, 1)
    with chief.session(server0) as sess0, other.session(server1) as sess1:
        sess0.run(chief.init)
        # The chief restored step 200 while worker 1 was at step 250.
        sess0.run(chief.set_global_step, {chief.new_step: 200})
        sess0.run(chief.ops.chief_init)
        assert other.send(sess1, 250, [100.0, 100.0, 100.0]) == 0
        assert other.send(sess1, 200, [1.0, 2.0, 3.0]) == 1
        assert other.send(sess1, 200, [1.0, 2.0, 3.0]) == 0  # Sent again.
        assert chief.send(sess0, 200, [3.0, 4.0, 5.0]) == 1
        sess0.run(chief.ops.update)
        assert sess0.run(chief.global_step) == 201
        average = np.array([2.0, 3.0, 4.0])
        for variable in (chief.a, chief.b):
            np.testing.assert_allclose(sess0.run(variable),
                                       -LEARNING_RATE * average)


def test_a_step_applied_on_one_parameter_server_is_closed_and_said(
        servers, capsys):
    """The chief's update runner, its update cut off after parameter server
    0 applied it and before parameter server 1 did (its mark there ahead
    of the global step): the step is counted once, the accumulators start
    empty at the next step, every worker gets a token for it, and one line
    says which parameter server missed the update."""
    (_, _, server0, server1), hosts = servers
    chief, other = Worker(hosts, 0), Worker(hosts, 1)
    with chief.session(server0) as sess0, other.session(server1) as sess1:
        sess0.run(chief.init)
        sess0.run(chief.set_global_step, {chief.new_step: 7})
        sess0.run(chief.ops.chief_init)
        marks = chief.ops.marks
        assert [int(v) for v in sess0.run(marks.read())] == [7, 7, 7]
        # Worker 1's batch for step 7 is in the accumulators; parameter
        # server 0 applied the update (its mark moved), 1 did not.
        assert other.send(sess1, 7, [1.0, 2.0, 3.0]) == 1
        sess0.run(marks.marks[0].assign_add(1))
        queue = chief.training.optimizer._sync_token_queue
        tokens = sess0.run(queue.size())  # Left by the tests before.
        update_runner.close_faulted_step(
            sess0, chief.ops, 'worker 0', sess0.run(chief.ops.progress), 7)
        assert capsys.readouterr().out == (
            "Worker 0: step 7's update was applied on parameter server 0 but "
            "not on parameter server 1 (a link was cut while it was under "
            "way); it counts as done, and training goes on from step 8.\n")
        assert [int(v) for v in sess0.run(marks.read())] == [8, 8, 8]
        # A token for each worker, and an update of step 8 averages the two
        # batches sent for it alone: the one left for step 7 was emptied
        # out.
        assert sess0.run(queue.size()) == tokens + 2
        assert other.send(sess1, 7, [5.0, 5.0, 5.0]) == 0  # Stale now.
        assert other.send(sess1, 8, [1.0, 1.0, 1.0]) == 1
        assert chief.send(sess0, 8, [3.0, 3.0, 3.0]) == 1
        before = sess0.run(chief.b)
        sess0.run(chief.ops.update)
        assert sess0.run(chief.global_step) == 9
        np.testing.assert_allclose(sess0.run(chief.b),
                                   before - LEARNING_RATE * 2.0)
        assert [int(v) for v in sess0.run(marks.read())] == [9, 9, 9]


def test_a_resent_chief_step_closed_under_it_does_not_wait_for_itself(
        servers):
    """The chief's step met a fault, and its update runner closed the step
    before the batch was sent again (closing sets the chief's local step to
    the next step): the batch went to the gate as stale, and the chief
    waits for the update of a step it has sent no batch for. It must not
    wait for it (no update comes without its batch: seen as a stall until
    --cluster_timeout): it goes on, and its next batch makes that update."""
    (_, _, server0, server1), hosts = servers
    chief, other = Worker(hosts, 0), Worker(hosts, 1)
    # Waiting in vain, it would give up within 4 times this (late_batches).
    chief.cluster.timeout = 0.5
    with chief.graph.as_default():
        # As a worker's own: wait_for_update asks it for a stop request.
        sess0 = session.ClusterSession('worker 0', server0.target,
                                       tf.ConfigProto())
    with sess0, other.session(server1) as sess1:
        sess0.run(chief.init)
        sess0.run(chief.set_global_step, {chief.new_step: 30})
        sess0.run(chief.ops.chief_init)
        assert other.send(sess1, 30, [1.0, 1.0, 1.0]) == 1
        chief.ops.close_step(sess0, 30)
        assert other.send(sess1, 31, [1.0, 1.0, 1.0]) == 1
        # The resent batch, computed at step 30, is stale; the local step
        # read after it is the one closing set.
        assert chief.send(sess0, 30, [3.0, 3.0, 3.0]) == 0
        sess0.run(chief.set_local_step, {chief.new_step: 31})
        sync_updates.wait_for_update(chief.cluster, sess0, chief.ops, 31)
        assert sess0.run(chief.training.local_step) == 31
        assert chief.send(sess0, 31, [3.0, 3.0, 3.0]) == 1
        sess0.run(chief.ops.update)
        assert sess0.run(chief.global_step) == 32


class Batches(object):
    """A worker training in a thread of its own: it sends a batch for the
    global step every `every` seconds (the gate takes the first for each
    step).

    Attributes:
      taken: {step: how many of its batches for it the gate took}.
      error: what ended the thread, if anything did.
    """

    def __init__(self, worker, sess, every):
        self._worker = worker
        self._every = every
        self._sess = sess
        self.taken = {}
        self.error = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._send, daemon=True,
                                        name='batches')
        self._thread.start()

    def _send(self):
        try:
            while not self._done.is_set():
                step = int(self._sess.run(self._worker.global_step))
                if self._worker.send(self._sess, step, [1.0, 1.0, 1.0]):
                    self.taken[step] = self.taken.get(step, 0) + 1
                time.sleep(self._every)
        except Exception as e:  # pylint: disable=broad-except
            self.error = e

    def stop(self):
        self._done.set()
        self._thread.join(WAIT_SECS)
        assert not self._thread.is_alive()


@pytest.mark.parametrize('every', [0.01, 0.3])
def test_the_chief_saves_the_step_it_names_its_checkpoint_after(servers,
                                                                every):
    """Each update one batch (fewer than the workers): while worker 1's
    batches keep the chief's update runner updating without the chief, the
    step the chief names a checkpoint after (checkpoint_step(), as when it
    saves on schedule or holds the run on a stop signal) is the step the
    model stays at until the chief has saved (saved()): no update lands
    between the name and the save, though worker 1's batch for it is in.
    Updates go on once it has saved. Batches every 0.3 s: the update under
    way when the chief pauses the runner ends well after it paused."""
    (_, _, server0, server1), hosts = servers
    chief = Worker(hosts, 0, replicas_to_aggregate=1)
    other = Worker(hosts, 1, replicas_to_aggregate=1)
    with chief.graph.as_default():
        # The chief's update runner calls through a ClusterSession.
        chief_sess = session.ClusterSession('worker 0', server0.target,
                                            tf.ConfigProto())
    runner = batches = None
    with other.session(server1) as sess1:
        try:
            # The chief's start (steps.prepare_session): updates from the
            # restored step, by its runner.
            chief_sess.run(chief.init)
            chief_sess.run(chief.set_global_step, {chief.new_step: 100})
            chief_sess.run(chief.ops.chief_init)
            runner = update_runner.UpdateRunner(chief_sess, chief.ops,
                                               'worker 0')
            chief.cluster.ops = types.SimpleNamespace(sync=chief.ops)
            chief.cluster.update_runner = runner
            chief_steps = steps.steps(
                chief.cluster, chief_sess, chief.global_step, 100,
                save_schedule.SaveSchedule(10, None, 10 ** 6, 100))
            batches = Batches(other, sess1, every)

            def global_step():
                return int(chief_sess.run(chief.global_step))
            wait_until(lambda: global_step() >= 105, WAIT_SECS,
                       'worker 1\'s updates')

            # The chief's last training call saw the global step; a save is
            # due.
            seen = global_step()
            chief_steps.taken(seen - 1, [seen, 1])
            step = chief_steps.checkpoint_step()

            def check_held():
                now = global_step()
                assert now == step, (
                    'a checkpoint named after step %d would hold step %d'
                    % (step, now))
            check_held()
            # Worker 1's batch for the step is in, and its batches go on
            # for a second: the step does not move.
            wait_until(lambda: batches.taken.get(step) or batches.error,
                       WAIT_SECS,
                       'worker 1\'s batch for step %d' % step)
            for _ in range(100):
                check_held()
                time.sleep(0.01)
            assert batches.error is None
            assert batches.taken[step] == 1

            chief_steps.saved(step)
            wait_until(lambda: global_step() > step + 1, WAIT_SECS,
                       'updates after the save')
            assert batches.error is None
        finally:
            if runner is not None:
                # An update under way ends with worker 1's next batch.
                runner.stop()
                # pylint: disable-next=protected-access
                runner_thread = runner._thread
                runner_thread.join(WAIT_SECS)
            if batches is not None:
                batches.stop()
            chief_sess.close()
        assert not runner_thread.is_alive()
        assert runner.failure is None
