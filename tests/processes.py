"""Ports and processes for the tests that start programs.

Every wait here has a deadline and fails the test when it passes; every
process a test starts is killed in its `finally` (killed_at_exit, kill,
kill_group), and conftest.py checks at the session's end that none is left.
"""

import contextlib
import os
import re
import signal
import socket
import threading
import time

import pytest

# How long a process killed with SIGKILL may take to be gone (it is normally
# gone at once; a loaded machine or a process in the middle of a disk write
# can take a moment).
_GONE_WITHIN = 60


def free_ports(n):
    """n ports on 127.0.0.1 that were free a moment ago."""
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(('127.0.0.1', 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def running():
    """{pid: (parent pid, process group)} of every process on the machine
    that has not ended (zombies, ended but not yet reaped, left out)."""
    table = {}
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name) as f:
                stat = f.read()
        except OSError:  # Ended meanwhile.
            continue
        # After the command's name, in parentheses: state, ppid, pgrp, ...
        state, ppid, pgrp = stat[stat.rindex(')') + 2:].split()[:3]
        if state not in ('Z', 'X'):
            table[int(name)] = (int(ppid), int(pgrp))
    return table


def group_members(pgid):
    """The processes of process group pgid still running."""
    return [pid for pid, (_, group) in running().items() if group == pgid]


def descendants(pid):
    """The processes still running below pid (children, theirs, ...)."""
    children = {}
    for child, (parent, _) in running().items():
        children.setdefault(parent, []).append(child)
    found, todo = [], list(children.get(pid, ()))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, ()))
    return sorted(found)


def with_environment(name, value):
    """The processes running with name=value in the environment they
    started with (inherited by everything a test starts, whatever became of
    its parent)."""
    wanted = ('%s=%s' % (name, value)).encode()
    found = []
    for pid in running():
        try:
            with open('/proc/%d/environ' % pid, 'rb') as f:
                if wanted in f.read().split(b'\0'):
                    found.append(pid)
        except OSError:  # Ended meanwhile, or another user's.
            continue
    return sorted(found)


def command_line(pid):
    """pid's command line as one string ('' once it has ended)."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().replace(b'\0', b' ').decode(errors='replace')
    except OSError:
        return ''


def kill_group(proc):
    """Kills a process started in its own session, and every process of its
    group, whether or not the leader still runs (the tasks of a script that
    has ended stay in its group); returns once none of them runs.

    Raises:
      RuntimeError: some of them still ran a minute after SIGKILL.
    """
    deadline = time.monotonic() + _GONE_WITHIN
    while True:
        # The group keeps the leader's number while a member lives: the
        # number cannot meanwhile be another process's.
        if proc.poll() is None or group_members(proc.pid):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if proc.poll() is not None and not group_members(proc.pid):
            return
        if time.monotonic() > deadline:
            raise RuntimeError('process group %d still runs a minute after '
                               'SIGKILL: %s' % (proc.pid,
                                                group_members(proc.pid)))
        time.sleep(0.05)


def kill(proc):
    """Kills proc (started without a session of its own) if it still runs;
    (the rest of its stdout, of its stderr) when they are pipes."""
    if proc.poll() is None:
        proc.kill()
    return proc.communicate(timeout=_GONE_WITHIN)


@contextlib.contextmanager
def killed_at_exit(proc):
    """`with killed_at_exit(Popen(...)) as proc:` the process is killed (its
    group, if it leads one) however the block ends, and its pipes closed."""
    try:
        yield proc
    finally:
        if _leads_a_group(proc):
            kill_group(proc)
        kill(proc)


def _leads_a_group(proc):
    try:
        return os.getpgid(proc.pid) == proc.pid
    except ProcessLookupError:  # Ended.
        return bool(group_members(proc.pid))


def read_until(proc, pattern, timeout, count=1):
    """Reads proc's stdout (a text pipe) until `count` lines have matched
    pattern (a regular expression); the lines read, without their ends.

    Fails the test if proc ends first, or if the lines do not come within
    `timeout` seconds: proc (its group, if it leads one) is then killed,
    which is what ends a read that waits for a line.
    """
    lines = []
    timed_out = threading.Event()

    def time_out():
        timed_out.set()
        try:
            if _leads_a_group(proc):
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout, time_out)
    timer.daemon = True
    timer.start()
    try:
        for line in proc.stdout:
            lines.append(line.rstrip('\n'))
            if re.search(pattern, lines[-1]):
                count -= 1
                if count == 0:
                    break
    finally:
        timer.cancel()
    if count == 0 and not timed_out.is_set():
        return lines
    proc.wait(timeout=_GONE_WITHIN)
    stderr = proc.stderr.read() if proc.stderr else ''
    if timed_out.is_set():
        pytest.fail('no line matching %r within %d s (killed):\n%s\n%s' %
                    (pattern, timeout, '\n'.join(lines), stderr))
    pytest.fail('the program ended (status %s) before printing %r:\n%s\n%s' %
                (proc.returncode, pattern, '\n'.join(lines), stderr))


def wait_until(condition, timeout, what):
    """Calls condition() until it is true; fails the test (naming `what`)
    after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail('%s: not within %d s' % (what, timeout))
        time.sleep(0.1)
