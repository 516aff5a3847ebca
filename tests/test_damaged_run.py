"""Every file of a finished run the commands read damaged in turn (random
bytes, emptied, cut short): each command says so in one line or falls back
to an earlier checkpoint; never a traceback, never a hang. The files no
command reads (.meta, the projector's), damaged, change nothing.

One short --fake_data run is the source; each case damages a copy. Every
case goes through what the commands do, in this process; a representative
few run the commands themselves.
"""

import glob
import os
import random
import re
import shutil
import subprocess
import sys

import pytest

import mnist_tf1  # noqa: F401  (imports TensorFlow in graph mode, quietly)

from mnist_tf1 import networks
from mnist_tf1.cli import errors
from mnist_tf1.networks import trained_model
from mnist_tf1.run_dir import checkpoints
from mnist_tf1.run_dir import recorded_flags
from mnist_tf1.summaries import event_files

# The source run is a program's (the slow tier).
pytestmark = pytest.mark.slow

# The files of a finished run the commands read; '*' stands for an event
# file's name.
READ = [
    'checkpoint', 'flags.txt', '*', 'train/*', 'validation/*', 'test/*',
    'model.ckpt-10.data-00000-of-00001', 'model.ckpt-10.index',
    'model.ckpt-20.data-00000-of-00001', 'model.ckpt-20.index',
]
# And those no command reads: a checkpoint's graph (.meta: the commands
# build the graph from the code and restore the variables from .index and
# .data) and the projector's files (TensorBoard's; training writes them
# anew, whole, when it ends). Damaged, they change nothing any command does:
# training resuming over them is the one case (the last test).
UNREAD = [
    'model.ckpt-10.meta', 'model.ckpt-20.meta', 'projector_config.pbtxt',
    'projector/embedding.tsv', 'projector/metadata.tsv',
    'projector/sprite.png',
]
DAMAGES = ['random', 'empty', 'cut']
COMMANDS = {
    'eval': ['mnist_tf1.evaluate'],
    'train': ['mnist_tf1.fully_connected_feed', '--max_steps=30'],
    'predict': ['mnist_tf1.predict', '--mnist_test_index=0'],
    'export': ['mnist_tf1.export'],
}


@pytest.fixture(scope='module')
def finished_run(tmp_path_factory):
    """A --fake_data run with checkpoints at steps 10 and 20."""
    log_dir = tmp_path_factory.mktemp('finished') / 'run'
    result = subprocess.run(
        [sys.executable, '-m', 'mnist_tf1.fully_connected_feed', '--fake_data',
         '--max_steps=20', '--save_checkpoint_steps=10',
         '--eval_batch_size=10000', '--log_dir=%s' % log_dir],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return log_dir


def damaged_copy(source, tmp_path, name, damage):
    """A copy of the run with one file damaged; that file's path."""
    log_dir = tmp_path / 'run'
    shutil.copytree(source, log_dir)
    return log_dir, damage_file(log_dir, name, damage)


def damage_file(log_dir, name, damage):
    """Damages the file `name` of the run in log_dir; its path."""
    [path] = glob.glob(str(log_dir / name.replace('*', 'events.out.*')))
    with open(path, 'rb') as f:
        data = f.read()
    if damage == 'random':
        data = random.Random(path).randbytes(max(len(data), 64))
    elif damage == 'empty':
        data = b''
    else:
        data = data[:len(data) // 2]
    with open(path, 'wb') as f:
        f.write(data)
    return path


def test_the_cases_cover_every_file_of_a_run(finished_run):
    found = set()
    for root, _, names in os.walk(finished_run):
        for name in names:
            path = os.path.relpath(os.path.join(root, name), finished_run)
            found.add(re.sub(r'events\.out\.tfevents\..*', '*', path))
    assert found == set(READ + UNREAD)


def one_line_each(text):
    lines = text.splitlines()
    assert 'Traceback' not in text
    return lines


@pytest.mark.parametrize('damage', DAMAGES)
@pytest.mark.parametrize('name', READ)
def test_what_the_commands_read_of_a_damaged_run(name, damage, finished_run,
                                                 tmp_path, capsys):
    log_dir, path = damaged_copy(finished_run, tmp_path, name, damage)
    try:
        recorded = recorded_flags.read(str(log_dir))
    except errors.UserError as e:
        # A damaged record of the architecture: one line, every command.
        assert name == 'flags.txt'
        assert str(e).startswith('%s is damaged (' % path)
        assert '\n' not in str(e)
        return
    # The checkpoint eval, predict and export use, and training goes on from.
    prefix = checkpoints.resolve(str(log_dir))
    warnings = one_line_each(capsys.readouterr().err)
    if name.startswith('model.ckpt-20.'):
        assert prefix == str(log_dir / 'model.ckpt-10')
        assert len(warnings) == 1
        assert warnings[0].startswith('warning: checkpoint %s is damaged (' %
                                      (log_dir / 'model.ckpt-20'))
    else:
        assert prefix == str(log_dir / 'model.ckpt-20')
        assert warnings == []
    hparams = [int(recorded.get(n) or d)
               for n, d in (('hidden1', 128), ('hidden2', 32))]
    model = trained_model.Model(networks.get('mechanics101'), hparams)
    try:
        model.restore(prefix)
    finally:
        model.close()
    # Resuming drops the summaries it is about to write again.
    event_files.drop_orphans(str(log_dir), checkpoints.step_of(prefix))
    warnings = one_line_each(capsys.readouterr().err)
    if '*' in name and damage == 'random':
        assert len(warnings) == 1
        assert warnings[0].startswith('warning: event file %s is damaged ('
                                      % path)
        assert warnings[0].endswith('; only the 0 events before the damage '
                                    'can be read')
    else:
        assert warnings == []


@pytest.mark.parametrize('name,damage,command,outcome', [
    ('flags.txt', 'random', 'eval', 'flags.txt is damaged (it is not text)'),
    ('flags.txt', 'cut', 'train', 'flags.txt is damaged (it is cut short'),
    ('model.ckpt-20.index', 'cut', 'eval', 'model.ckpt-10'),
    ('model.ckpt-20.data-00000-of-00001', 'empty', 'train', 'model.ckpt-10'),
    ('model.ckpt-20.data-00000-of-00001', 'random', 'predict',
     'model.ckpt-10'),
    ('checkpoint', 'random', 'export', 'model.ckpt-20'),
    ('*', 'random', 'train', 'model.ckpt-20'),
    ('test/*', 'cut', 'train', 'model.ckpt-20'),
])
def test_the_commands_on_a_damaged_run(name, damage, command, outcome,
                                       finished_run, mnist_data_dir, tmp_path):
    log_dir, _ = damaged_copy(finished_run, tmp_path, name, damage)
    args = [sys.executable, '-m'] + COMMANDS[command] + [
        '--log_dir=%s' % log_dir, '--input_data_dir=%s' % mnist_data_dir]
    if command == 'export':
        args.append('--export_dir=%s' % (tmp_path / 'export'))
    result = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert 'Traceback' not in result.stderr
    errors_or_warnings = result.stderr.splitlines()
    if outcome.startswith('model.ckpt'):
        # Done, from the checkpoint named (an earlier one with a warning).
        assert result.returncode == 0, result.stderr
        assert str(log_dir / outcome) in result.stdout
        assert len(errors_or_warnings) == (
            1 if outcome.endswith('-10') or name == '*' else 0), result.stderr
    else:
        assert result.returncode == 1
        assert len(errors_or_warnings) == 1
        assert outcome in errors_or_warnings[0]


def test_training_resumes_over_damaged_files_no_command_reads(
        finished_run, mnist_data_dir, tmp_path):
    log_dir = tmp_path / 'run'
    shutil.copytree(finished_run, log_dir)
    for name in UNREAD:
        damage_file(log_dir, name, 'random')
    result = subprocess.run(
        [sys.executable, '-m'] + COMMANDS['train'] +
        ['--log_dir=%s' % log_dir, '--input_data_dir=%s' % mnist_data_dir],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ''
    assert 'Restored %s (step 20).' % (log_dir / 'model.ckpt-20') in \
        result.stdout.splitlines()
    # The projector's files written anew, whole: what a run that ends
    # writes, for the same test digits (its weights 10 steps further on).
    for name in ('projector_config.pbtxt', 'projector/sprite.png'):
        assert (log_dir / name).read_bytes() == \
            (finished_run / name).read_bytes(), name
    embedding, embedding_before, metadata, metadata_before = [
        [line.split('\t') for line in (run / 'projector' / name).read_text(
            encoding='ascii').splitlines()]
        for name in ('embedding.tsv', 'metadata.tsv')
        for run in (log_dir, finished_run)]
    assert [len(row) for row in embedding] == \
        [len(row) for row in embedding_before]
    assert all(float(x) >= 0 for row in embedding for x in row)  # ReLUs.
    # The header, and each digit's label (its prediction may have changed).
    assert [row[0] for row in metadata] == [row[0] for row in metadata_before]
    assert metadata[0] == ['label', 'prediction']
