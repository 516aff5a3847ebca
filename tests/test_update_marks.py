"""The marks that tell whether an asynchronous step reached every parameter
server (update_marks.py), on real in-process TensorFlow servers: two
parameter servers, the model's variables split between them, and a
worker."""

import pytest

import mnist_tf1  # noqa: F401  (imports TensorFlow in graph mode, quietly)
import tensorflow.compat.v1 as tf

from mnist_tf1.cluster import optimizer
from mnist_tf1.cluster import spec
from mnist_tf1.cluster import update_marks
from processes import free_ports


@pytest.fixture(scope='module')
def worker():
    """Two parameter servers and a worker in this process; the worker's
    target, cluster, graph and ops."""
    hosts = ['127.0.0.1:%d' % p for p in free_ports(3)]
    cluster_spec = tf.train.ClusterSpec({'ps': hosts[:2],
                                         'worker': hosts[2:]})
    servers = [tf.train.Server(cluster_spec, 'ps', 0),
               tf.train.Server(cluster_spec, 'ps', 1),
               tf.train.Server(cluster_spec, 'worker', 0)]
    cluster = spec.Cluster(hosts[:2], hosts[2:], 'worker', 0)
    graph = tf.Graph()
    with graph.as_default(), tf.device(tf.train.replica_device_setter(
            ps_device='/job:ps/cpu:0', worker_device='/job:worker/task:0',
            cluster=cluster.spec)):
        x = tf.placeholder(tf.float32, [3])
        a = tf.Variable(tf.zeros([3]), name='a')
        b = tf.Variable(tf.zeros([3]), name='b')
        global_step = tf.train.get_or_create_global_step()
        with optimizer.cluster_minimize(cluster):
            tf.train.GradientDescentOptimizer(0.5).minimize(
                tf.reduce_sum(a * x + b * x), global_step=global_step)
        # The model, then the marks at its global step (as the chief).
        init = [tf.global_variables_initializer(), cluster.gate.marks.align()]
    assert a.device != b.device  # One on each parameter server.
    return servers[2].target, cluster, graph, x, init


def test_taken_steps_move_every_mark_and_refused_ones_none(worker):
    target, cluster, graph, x, init = worker
    gate = cluster.gate
    with graph.as_default(), tf.Session(target) as sess:
        for op in init:
            sess.run(op)
        gate.set_limit(sess, 2)
        answers = [tuple(sess.run(gate.train, {x: [1.0, 1.0, 1.0]}))
                   for _ in range(4)]
        assert answers == [(0, 1), (1, 2), (-1, 2), (-1, 2)]
        values = [int(v) for v in sess.run(gate.check)]
        assert values == [2, 2, 2]
        assert update_marks.uncounted('worker 0', gate.marks.devices,
                                      values) is None


def test_a_step_left_applied_in_part_is_said_once(worker):
    """Parameter server 0 applied a step that the global step does not
    count (its mark ahead): the gate's check says so in one line, and sets
    the marks to the global step, so the next check finds nothing."""
    target, cluster, graph, _, init = worker
    gate = cluster.gate
    with graph.as_default(), tf.Session(target) as sess:
        for op in init:
            sess.run(op)
        sess.run(gate.marks.marks[0].assign_add(1))
        values = sess.run(gate.check)
        assert update_marks.uncounted(
            'worker 1', gate.marks.devices, values) == (
            'Worker 1: a link cut during an update left it applied in part: '
            'parameter server 0 applied it, parameter server 1 did not; the '
            'global step (0) does not count it; training goes on.')
        assert [int(v) for v in sess.run(gate.check)] == [0, 0, 0]


PS = ['/job:ps/replica:0/task:%d/device:CPU:0' % i for i in range(3)]


@pytest.mark.parametrize('values, line', [
    ([317, 319, 317, 317],
     'Worker 0: a link cut during 2 updates left them applied in part: '
     'parameter server 0 applied them, parameter server 1 and parameter '
     'server 2 did not; the global step (317) does not count them; training '
     'goes on.'),
    ([40, 42, 41, 40],
     'Worker 0: a link cut during updates left them applied in part: '
     'parameter server 0 (2 updates) and parameter server 1 (1 update) '
     'applied them, parameter server 2 did not; the global step (40) does '
     'not count them; training goes on.'),
    ([9, 10, 10, 10],
     'Worker 0: a link cut as an update ended lost its count: every '
     'parameter server applied 1 update that the global step (9) does not '
     'count; training goes on.'),
])
def test_the_line_counts_the_updates_caught(values, line):
    """Each worker may have had an update under way when a link was cut:
    the one line says how many, on which parameter servers."""
    assert update_marks.uncounted('worker 0', PS, values) == line
