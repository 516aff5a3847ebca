"""Synchronous updates (--sync_replicas) on real in-process TensorFlow
servers (two parameter servers and two workers on 127.0.0.1): which batches
an update averages."""

import numpy as np
import pytest

import mnist_tf1  # noqa: F401  (imports TensorFlow in graph mode, quietly)
import tensorflow.compat.v1 as tf

from mnist_tf1.cluster import optimizer
from mnist_tf1.cluster import spec
from mnist_tf1.cluster import sync_updates
from processes import free_ports

LEARNING_RATE = 0.5


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

    def __init__(self, hosts, task_index):
        self.graph = tf.Graph()
        with self.graph.as_default():
            cluster = spec.Cluster(hosts[:2], hosts[2:], 'worker', task_index,
                                   sync=True)
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
        sync_updates.close_faulted_step(
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
