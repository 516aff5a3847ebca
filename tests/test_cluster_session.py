"""A worker's cluster Session: faults waited out or given up on in one line,
a stop signal honoured while a call hangs, a restarted server's session
renewed. In-process, on a real local server; the faults are TensorFlow's
own errors raised where Session.run would meet them."""

import socket
import time
import types

import pytest

import mnist_tf1  # noqa: F401  (imports TensorFlow in graph mode, quietly)
import tensorflow.compat.v1 as tf

from mnist_tf1.cli import errors
from mnist_tf1.cluster import session
from mnist_tf1.cluster import spec
from mnist_tf1.cluster import steps as cluster_steps


def closed_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Stop(object):
    """A StopRequest that SIGTERM has set."""
    requested = True
    name = 'SIGTERM'
    exit_status = 143


@pytest.fixture
def counter():
    """(a ClusterSession on a local server, an increment op, the cluster);
    the cluster names a parameter server that is not there."""
    server = tf.train.Server.create_local_server()
    ps_host = '127.0.0.1:%d' % closed_port()
    cluster = spec.Cluster([ps_host], ['127.0.0.1:1'], 'worker', 1,
                           timeout=1.5)
    with tf.Graph().as_default():
        count = tf.Variable(0, name='count')
        increment = count.assign_add(1)
        sess = session.ClusterSession('worker 1', server.target,
                                      config=tf.ConfigProto(),
                                      cluster=cluster)
        sess.run(count.initializer)
        yield sess, increment, cluster
        sess.close()


def failing(monkeypatch, times, error):
    """tf.Session.run fails `times` times with `error`, then works."""
    real_run = tf.Session.run
    failures = []

    def run(self, *args, **kwargs):
        if len(failures) < times:
            failures.append(self)
            raise error
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(tf.Session, 'run', run)
    return failures


UNAVAILABLE = tf.errors.UnavailableError(
    None, None, 'From /job:ps/replica:0/task:0:\nSocket closed')


def test_a_peer_back_within_the_timeout_is_waited_for(counter, monkeypatch,
                                                      capsys):
    sess, increment, cluster = counter
    # Two tries half a second apart: well within it, on a loaded machine too.
    cluster.timeout = 5
    failing(monkeypatch, 2, UNAVAILABLE)
    assert sess.run(increment) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ('Worker 1: lost parameter server 0 at %s (Connection '
                        'refused); waiting up to 5 s.' % cluster.ps_hosts[0])
    assert lines[1].startswith('Worker 1: the parameter servers answer again '
                               'after ')
    assert lines[1].endswith(' s; carrying on.') and len(lines) == 2


def test_a_peer_gone_longer_ends_the_task_in_one_line(counter, monkeypatch):
    sess, increment, cluster = counter
    failing(monkeypatch, 1000, UNAVAILABLE)
    with pytest.raises(errors.UserError) as e:
        sess.run(increment)
    assert str(e.value) == (
        'worker 1: parameter server 0 at %s (Connection refused): gone for '
        '1.5 s (--cluster_timeout); check that it runs and the network to '
        'it, then start this task again (a supervisor does: see '
        'docs/cluster.md)' % cluster.ps_hosts[0])


def test_a_task_paused_past_the_timeout_tries_again_before_giving_up(
        counter, monkeypatch, capsys):
    # The task itself was stopped (SIGSTOP, a suspended machine) longer than
    # --cluster_timeout in the middle of a call, which fails on waking: the
    # time is gone, yet nothing was tried again; it must be, once.
    sess, increment, cluster = counter
    real_run = tf.Session.run
    calls = []

    def paused_once(self, *args, **kwargs):
        calls.append(self)
        if len(calls) == 1:
            time.sleep(cluster.timeout + 0.5)
            raise tf.errors.DeadlineExceededError(None, None, 'timed out')
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(tf.Session, 'run', paused_once)
    assert sess.run(increment) == 1 and len(calls) == 2
    assert capsys.readouterr().out.splitlines()[-1].endswith(
        ' s; carrying on.')


def test_a_restarted_servers_lost_session_is_renewed(counter, monkeypatch):
    sess, increment, _ = counter
    failures = failing(monkeypatch, 1, tf.errors.AbortedError(
        None, None, 'Session handle is not found: 8a4e. Possibly this '
        'worker ("/job:ps/replica:0/task:0") just restarted.'))
    assert sess.run(increment) == 1
    # The call after the failure went through another session.
    assert failures == [sess]
    assert sess._active is not sess


def test_a_lost_session_is_renewed_once_a_try(counter, monkeypatch):
    sess, increment, cluster = counter
    # The parameter server answers, and the fault would renew the session at
    # each try too: still one new session for each failed call.
    cluster.ps_hosts = [sess.sess_str[len('grpc://'):]]
    cluster.timeout = 30
    monkeypatch.setattr(session, '_STALE_TRIES', 1)
    monkeypatch.setattr(session, '_RENEW_EVERY_SECS', 0)
    failures = failing(monkeypatch, 2, tf.errors.AbortedError(
        None, None, 'Session handle is not found: 8a4e.'))
    assert sess.run(increment) == 1
    # Tried through sess, then the one session that replaced it; the third
    # try went through a third.
    assert len(set(map(id, failures))) == 2 and failures[0] is sess
    assert len(sess._stale) == 1


def test_calls_that_fail_while_the_server_answers_get_a_new_session(
        counter, monkeypatch):
    sess, increment, cluster = counter
    # The parameter server answers connections (the local server does)...
    cluster.ps_hosts = [sess.sess_str[len('grpc://'):]]
    cluster.timeout = 30
    # ...yet calls keep failing as they did while it was away.
    failing(monkeypatch, 6, UNAVAILABLE)
    assert sess.run(increment) == 1
    assert sess._active is not sess


def test_a_stop_signal_ends_a_call_that_hangs(counter):
    sess, _, cluster = counter
    graph = sess.graph
    with graph.as_default():
        queue = tf.FIFOQueue(1, tf.int32, shapes=[()])
        take = queue.dequeue()
        close = queue.close(cancel_pending_enqueues=True)
    sess.stop = Stop()
    with pytest.raises(session.Stopped) as e:
        sess.run(take)  # Nothing ever comes: it would wait forever.
    assert e.value.exit_status == 143
    assert str(e.value) == (
        'worker 1: stopped by SIGTERM while waiting for parameter server 0 '
        'at %s (Connection refused)' % cluster.ps_hosts[0])
    # Let the abandoned call end, through another session.
    with tf.Session(sess.sess_str, graph=graph) as other:
        other.run(close)


def test_a_stop_signal_ends_the_wait_for_the_chief_to_restore():
    # After a parameter server restarted, a worker waits for the chief to
    # put the model back; a signal then ends the task with its status.
    class WaitingSession(object):
        stop = Stop()

        def run(self, unused_fetches):
            return ['hidden1/weights']  # Still uninitialized.

    cluster = types.SimpleNamespace(
        name='worker 1', timeout=120.0, worker_hosts=['h:1', 'h:2'],
        ops=types.SimpleNamespace(uninitialized='uninitialized'))
    # (At the deadline it would raise UserError instead.)
    with pytest.raises(session.Stopped) as e:
        cluster_steps._wait_for_the_chief(cluster, WaitingSession())
    assert str(e.value) == ('worker 1: stopped by SIGTERM while waiting for '
                            'the chief (worker 0 at h:1) to restore the model')
    assert e.value.exit_status == 143
