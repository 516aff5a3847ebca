"""mnist-tf1-eval on real runs: the training's own numbers, watching, errors."""

import contextlib
import os
import re
import shutil
import subprocess
import sys

import pytest


from mnist_tf1.summaries import event_files

# Every test here starts the programs (the slow tier; see conftest.py).
pytestmark = pytest.mark.slow

EVAL = [sys.executable, '-m', 'mnist_tf1.evaluate']
HEADINGS = ('Training Data Eval:', 'Validation Data Eval:', 'Test Data Eval:')
EVALUATING = re.compile(r'^Evaluating (.*) \(step (\d+)\)\.$')


def evaluate(*flags, timeout=600):
    return subprocess.run(EVAL + list(flags), capture_output=True, text=True,
                          timeout=timeout)


def blocks(stdout):
    """The evaluation blocks in order: lists of 6 lines (heading, numbers)."""
    lines = stdout.splitlines()
    found = []
    for i, line in enumerate(lines):
        if line == HEADINGS[0]:
            found.append(lines[i:i + 6])
            assert tuple(found[-1][0::2]) == HEADINGS, found[-1]
    return found


def one_error_line(result):
    assert 'Traceback' not in result.stderr
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def precision_summaries(log_dir, split):
    """[(step, value)] of precision_at_1 in <log_dir>/eval/<split>."""
    found = []
    for path, _ in event_files.event_files(str(log_dir / 'eval' / split)):
        for event in event_files.read_events(path)[0]:
            for value in event.summary.value:
                if value.tag == 'precision_at_1':
                    found.append((event.step, value.simple_value))
    return found


@contextlib.contextmanager
def watching(log_dir, interval):
    """mnist-tf1-eval --watch on log_dir in the background, its output piped;
    killed if it is still running at the end."""
    watcher = subprocess.Popen(
        EVAL + ['--log_dir=%s' % log_dir, '--watch',
                '--eval_interval_secs=%g' % interval,
                '--eval_timeout_secs=300'],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield watcher
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.communicate()


def watched(watcher, timeout):
    """The watcher's stdout once it ended by itself, cleanly."""
    out, err = watcher.communicate(timeout=timeout)
    assert watcher.returncode == 0, err
    assert 'Traceback' not in err
    return out


def train(log_dir, data_dir, *flags):
    """mnist-tf1-train into log_dir in its own process; its stdout (it must
    succeed)."""
    training = subprocess.run(
        [sys.executable, '-m', 'mnist_tf1.fully_connected_feed',
         '--input_data_dir=%s' % data_dir, '--log_dir=%s' % log_dir] +
        list(flags), capture_output=True, text=True, timeout=600)
    assert training.returncode == 0, training.stderr
    return training.stdout


def stopped_at_1000(log_dir):
    """The run as if training had stopped at step 1,000 of its 2,000."""
    for name in os.listdir(log_dir):
        if name.startswith('model.ckpt-2000.'):
            os.remove(log_dir / name)


@pytest.fixture
def run_copy(trained_run, tmp_path):
    """A copy of the shared 2,000-step run (eval writes summaries into it)."""
    log_dir, stdout = trained_run
    copy = tmp_path / 'run'
    shutil.copytree(log_dir, copy)
    return copy, stdout


def test_eval_prints_what_training_printed_for_each_checkpoint(run_copy):
    log_dir, training_stdout = run_copy
    at_1000, at_2000 = blocks(training_stdout)

    latest = evaluate('--log_dir=%s' % log_dir)
    assert latest.returncode == 0, latest.stderr
    assert latest.stderr == ''
    assert 'Evaluating %s (step 2000).' % (log_dir / 'model.ckpt-2000') in \
        latest.stdout.splitlines()
    assert blocks(latest.stdout) == [at_2000]

    # A given checkpoint, named by any of its files; the run's folder is
    # then the checkpoint's.
    older = evaluate('--checkpoint_path=%s' %
                     (log_dir / 'model.ckpt-1000.index'))
    assert older.returncode == 0, older.stderr
    assert 'Evaluating %s (step 1000).' % (log_dir / 'model.ckpt-1000') in \
        older.stdout.splitlines()
    assert blocks(older.stdout) == [at_1000]

    # Summaries for TensorBoard at the checkpoint's step, never backwards:
    # the later evaluation of step 1,000 adds nothing.
    printed = [float(line.rsplit(' ', 1)[1]) for line in at_2000[1::2]]
    for split, precision in zip(('train', 'validation', 'test'), printed):
        (step, value), = precision_summaries(log_dir, split)
        assert step == 2000
        assert value == pytest.approx(precision, abs=5e-5)


def test_a_damaged_newest_checkpoint_is_reported_and_passed_over(run_copy):
    log_dir, training_stdout = run_copy
    data = log_dir / 'model.ckpt-2000.data-00000-of-00001'
    data.write_bytes(data.read_bytes()[:-64])
    result = evaluate('--log_dir=%s' % log_dir)
    assert result.returncode == 0, result.stderr
    warning = one_error_line(result)
    assert warning.startswith('warning: checkpoint %s is damaged' %
                              (log_dir / 'model.ckpt-2000'))
    assert warning.endswith('falling back to %s' % (log_dir / 'model.ckpt-1000'))
    assert blocks(result.stdout) == blocks(training_stdout)[:1]


def test_a_checkpoint_deleted_while_eval_starts_gives_way_to_the_newest(
        run_copy):
    # A trainer still running deletes old checkpoints (--max_to_keep); the
    # one eval picked can go while it builds its graph. Here it goes exactly
    # then: after the pick, before the restore.
    log_dir, training_stdout = run_copy
    deleting = (
        'import glob, os\n'
        'from mnist_tf1 import evaluate\n'
        'build = evaluate.Evaluator.__init__\n'
        'def build_then_delete(self, log_dir):\n'
        '    build(self, log_dir)\n'
        '    newest = os.path.join(log_dir, "model.ckpt-2000.*")\n'
        '    for name in glob.glob(newest):\n'
        '        os.remove(name)\n'
        '    with open(os.path.join(log_dir, "checkpoint"), "w") as f:\n'
        '        f.write(%r)\n'
        'evaluate.Evaluator.__init__ = build_then_delete\n'
        'evaluate.run()\n') % (
            # The list as the trainer's saver leaves it after a deletion.
            'model_checkpoint_path: "model.ckpt-1000"\n'
            'all_model_checkpoint_paths: "model.ckpt-1000"\n')
    result = subprocess.run(
        [sys.executable, '-c', deleting, '--log_dir=%s' % log_dir],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ''
    assert 'Evaluating %s (step 1000).' % (log_dir / 'model.ckpt-1000') in \
        result.stdout.splitlines()
    assert blocks(result.stdout) == blocks(training_stdout)[:1]


def test_watch_follows_training_until_it_reaches_max_steps(mnist_data_dir,
                                                           tmp_path):
    log_dir = tmp_path / 'run'
    # Started first, it waits for the run to appear.
    with watching(log_dir, 0.5) as watcher:
        training = train(log_dir, mnist_data_dir, '--max_steps=300',
                         '--save_checkpoint_steps=100')
        out = watched(watcher, timeout=300)
    steps = [int(m.group(2)) for m in map(EVALUATING.match, out.splitlines())
             if m]
    # It may miss a checkpoint that came and went between two looks, never
    # the last one, and it never goes back.
    assert steps == sorted(set(steps)) and steps[-1] == 300
    assert out.rstrip().endswith('The run reached its --max_steps=300: done.')
    assert blocks(out)[-1] == blocks(training)[-1]
    assert [s for s, _ in precision_summaries(log_dir, 'test')] == steps


def test_watch_stops_when_fresh_moves_the_run_aside(run_copy,
                                                    mnist_data_dir):
    log_dir, _ = run_copy
    stopped_at_1000(log_dir)
    with watching(log_dir, 0.2) as watcher:
        for line in watcher.stdout:
            if line.startswith('Test Data Eval:'):
                break
        # A new run in its place, the old one moved to <log_dir>.1.
        train(log_dir, mnist_data_dir, '--fresh', '--max_steps=200',
              '--save_checkpoint_steps=100')
        out = watched(watcher, timeout=120)
    assert out.rstrip().endswith(
        '%s is not the watched run any more (moved aside by --fresh, or '
        'removed): stopping; watch again to follow the run there now.' %
        log_dir)
    # The old run kept its evaluation; none of the new run's checkpoints
    # was evaluated as if it were the old run's.
    moved = log_dir.parent / (log_dir.name + '.1')
    assert [s for s, _ in precision_summaries(moved, 'test')] == [1000]
    assert not os.path.exists(log_dir / 'eval')
    assert 'Evaluating' not in out


def test_watch_stops_after_the_timeout_without_a_new_checkpoint(run_copy):
    log_dir, training_stdout = run_copy
    stopped_at_1000(log_dir)
    result = evaluate('--log_dir=%s' % log_dir, '--eval_interval_secs=0.2',
                      '--eval_timeout_secs=1')
    assert result.returncode == 0, result.stderr
    assert blocks(result.stdout) == blocks(training_stdout)[:1]
    assert result.stdout.rstrip().endswith(
        'No new checkpoint in %s for 1 s: stopping.' % log_dir)


@pytest.mark.parametrize('flags,words', [
    (['--watch', '--checkpoint_path=RUN/model.ckpt-1000'],
     '--checkpoint_path names one checkpoint but --watch evaluates each'),
    (['--hidden1=64'], '--hidden1=64 contradicts the run in RUN, which was '
     'trained with --hidden1=128'),
    (['--log_dir=RUN', '--checkpoint_path=/elsewhere/model.ckpt-1'],
     'is not in --log_dir RUN'),
    (['stray'], 'unexpected arguments stray'),
])
def test_contradicting_or_bad_flags_get_one_line(flags, words, trained_run):
    log_dir, _ = trained_run
    flags = [f.replace('RUN', str(log_dir)) for f in flags]
    if not any(f.startswith('--log_dir') for f in flags):
        flags.append('--log_dir=%s' % log_dir)
    result = evaluate(*flags)
    assert result.returncode == 1
    assert words.replace('RUN', str(log_dir)) in one_error_line(result)
    assert not os.path.exists(log_dir / 'eval')


def test_bad_watch_timings_are_refused_by_absl(tmp_path):
    for flag in ('--eval_timeout_secs=0', '--eval_interval_secs=-1'):
        result = evaluate(flag, '--log_dir=%s' % tmp_path)
        assert result.returncode == 1
        assert 'must be positive' in result.stderr
        assert 'Traceback' not in result.stderr


def test_a_folder_without_a_run_gets_one_line(tmp_path):
    result = evaluate('--log_dir=%s' % tmp_path)
    assert result.returncode == 1
    line = one_error_line(result)
    assert 'no checkpoint in %s' % tmp_path in line
    assert 'mnist-tf1-train --log_dir=%s' % tmp_path in line


def test_a_file_given_as_the_run_gets_one_line(tmp_path):
    a_file = tmp_path / 'model.ckpt-2000.index'
    a_file.write_bytes(b'')
    result = evaluate('--log_dir=%s' % a_file)
    assert result.returncode == 1
    assert one_error_line(result).endswith(
        "error: --log_dir %s is a file, not a run's folder; give the folder "
        'mnist-tf1-train wrote the run to' % a_file)
