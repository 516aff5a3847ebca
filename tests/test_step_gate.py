"""The step gate, on real in-process TensorFlow servers (a parameter server
and two workers on 127.0.0.1): each step taken whole and counted once, none
past the limit, a refused step changing nothing."""

import threading

import numpy as np
import pytest

import mnist_tf1  # noqa: F401  (imports TensorFlow in graph mode, quietly)
import tensorflow.compat.v1 as tf

from mnist_tf1.cluster import optimizer
from mnist_tf1.cluster import spec
from processes import free_ports


@pytest.fixture(scope='module')
def servers():
    """A parameter server and two workers in this process."""
    hosts = ['127.0.0.1:%d' % p for p in free_ports(3)]
    cluster_spec = tf.train.ClusterSpec({'ps': hosts[:1],
                                         'worker': hosts[1:]})
    return [tf.train.Server(cluster_spec, 'ps', 0),
            tf.train.Server(cluster_spec, 'worker', 0),
            tf.train.Server(cluster_spec, 'worker', 1)], hosts


def build(hosts, task_index, make_optimizer):
    """A worker's graph: a small model trained through the gate."""
    cluster = spec.Cluster(hosts[:1], hosts[1:], 'worker', task_index)
    with tf.device(tf.train.replica_device_setter(
            ps_device='/job:ps/cpu:0',
            worker_device='/job:worker/task:%d' % task_index,
            cluster=cluster.spec)):
        images = tf.placeholder(tf.float32, [None, 3])
        weights = tf.Variable(tf.ones([3, 2]), name='weights')
        loss = tf.reduce_sum(tf.square(tf.matmul(images, weights)))
        global_step = tf.train.get_or_create_global_step()
        with optimizer.cluster_minimize(cluster):
            train = make_optimizer().minimize(loss, global_step=global_step)
        init = tf.global_variables_initializer()
    return cluster, images, weights, train, init


@pytest.mark.parametrize('make_optimizer', [
    lambda: tf.train.GradientDescentOptimizer(0.01),
    lambda: tf.train.AdamOptimizer(0.01),
], ids=['sgd', 'adam'])
def test_steps_count_once_up_to_the_limit_and_a_refused_one_changes_nothing(
        servers, make_optimizer):
    (_, worker, _), hosts = servers
    with tf.Graph().as_default():
        cluster, images, weights, train, init = build(hosts, 0,
                                                      make_optimizer)
        gate = cluster.gate
        with tf.Session(worker.target) as sess:
            sess.run(init)
            gate.set_limit(sess, 3)
            feed = {images: [[1.0, 2.0, 3.0]]}
            answers = [tuple(sess.run(train, feed)) for _ in range(3)]
            assert answers == [(0, 1), (1, 2), (2, 3)]
            before = sess.run(weights)
            # Refused at the limit: no update, not even Adam's moments.
            assert tuple(sess.run(train, feed)) == (-1, 3)
            assert tuple(sess.run(train, feed)) == (-1, 3)
            np.testing.assert_array_equal(sess.run(weights), before)
            assert list(sess.run(gate.state)) == [3, 3]
            assert sess.run(gate.barrier) == 3
            gate.set_limit(sess, 4)
            assert tuple(sess.run(train, feed)) == (3, 4)
            assert not np.array_equal(sess.run(weights), before)


def test_two_workers_racing_take_each_step_exactly_once(servers):
    (_, worker0, worker1), hosts = servers
    graphs, answers = [], [[], []]
    for task_index in (0, 1):
        graph = tf.Graph()
        with graph.as_default():
            graphs.append((graph,) + build(
                hosts, task_index,
                lambda: tf.train.GradientDescentOptimizer(0.01)))
    limit = 400
    feed_of = lambda images: {images: [[1.0, 0.0, 1.0]]}  # noqa: E731
    opened = threading.Barrier(3)
    failures = []

    def train(task_index, target):
        # An assertion failing in a thread does not fail the test by itself:
        # it is kept, and raised below.
        try:
            graph, _, images, _, train_op, _ = graphs[task_index]
            with graph.as_default(), tf.Session(target) as sess:
                # The first call registers the graph: before the race.
                assert tuple(sess.run(train_op, feed_of(images))) == (-1, 0)
                opened.wait()
                opened.wait()
                while True:
                    taken, after = sess.run(train_op, feed_of(images))
                    if taken < 0:
                        assert after == limit
                        return
                    answers[task_index].append(int(taken))
        except BaseException as e:  # pylint: disable=broad-except
            failures.append(e)
            opened.abort()  # Nobody waits for this worker any longer.

    graph, cluster, _, _, _, init = graphs[0]
    # Daemons: a worker that hangs fails the test below, and cannot keep
    # pytest from exiting.
    threads = [threading.Thread(target=train, args=(i, s.target), daemon=True)
               for i, s in ((0, worker0), (1, worker1))]
    try:
        with graph.as_default(), tf.Session(worker0.target) as sess:
            sess.run(init)
            cluster.gate.set_limit(sess, 0)
            for thread in threads:
                thread.start()
            opened.wait(timeout=60)
            cluster.gate.set_limit(sess, limit)
            opened.wait(timeout=60)
    finally:
        opened.abort()  # No worker waits for a race that will not start.
        for thread in threads:
            if thread.ident is not None:  # Started.
                thread.join(timeout=120)
        # A worker's own failure first: the broken barrier only follows it.
        for failure in failures:
            if not isinstance(failure, threading.BrokenBarrierError):
                raise failure
    assert not failures, failures
    assert not [t for t in threads if t.is_alive()], 'a worker still trains'
    assert sorted(answers[0] + answers[1]) == list(range(limit))
    assert answers[0] and answers[1]
