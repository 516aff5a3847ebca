"""TF 1.x Estimator programs (tests/legacy_programs/estimator_*.py) through
mnist-tf1-run on the real MNIST: the Layers tutorial's tf.layers CNN in a
model_fn, a premade DNNClassifier and LinearClassifier, a run killed and
resumed, train_and_evaluate on a local TF_CONFIG cluster. Slow tier.
"""

import json
import os
import pathlib
import re
import signal
import subprocess
import sys

import pytest

from tests import processes

PROGRAMS = pathlib.Path(__file__).resolve().parent / 'legacy_programs'
# TF 1.x's INFO lines (the tutorials set INFO): a record per line, once.
_STEP_LINE = re.compile(r'^INFO:tensorflow:loss = [\d.]+, step = (\d+)')


def environment(**extra):
    return dict(os.environ, **extra)


def command(program, *args):
    return [sys.executable, '-m', 'mnist_tf1.run_program',
            str(PROGRAMS / program)] + [str(a) for a in args]


def run(program, *args, timeout=600):
    result = subprocess.run(command(program, *args), capture_output=True,
                            text=True, timeout=timeout, env=environment())
    return result.returncode, result.stdout, result.stderr


def info_lines(stderr):
    return [l for l in stderr.splitlines() if l.startswith('INFO:tensorflow:')]


def saved_dict(stderr):
    """The last 'Saving dict for global step N: ...' as {name: float}."""
    found = re.findall(r'Saving dict for global step \d+: (.*)', stderr)
    assert found, stderr[-3000:]
    return {k: float(v) for k, v in re.findall(r'(\w+) = ([\d.e-]+)',
                                                found[-1])}


def folder_mb(folder):
    return sum(f.stat().st_size for f in pathlib.Path(folder).rglob('*')
               if f.is_file()) / 1e6


def test_layers_tutorial_cnn_trains_500_steps_and_evaluates(mnist_data_dir,
                                                             tmp_path):
    # pylint: disable=g-import-not-at-top
    from tensorboard.backend.event_processing import event_accumulator
    model_dir = tmp_path / 'model'
    status, out, err = run('estimator_cnn.py', '--data_dir=%s' %
                           mnist_data_dir, '--model_dir=%s' % model_dir,
                           '--steps=500', '--learning_rate=0.05')
    assert status == 0, err[-3000:]
    lines = info_lines(err)
    assert any(l.startswith('INFO:tensorflow:loss = ') and
               l.endswith(', step = 1') for l in lines), err[-3000:]
    steps = [int(m.group(1)) for m in map(_STEP_LINE.match, lines) if m]
    assert steps == [1, 101, 201, 301, 401]
    assert any(l.startswith('INFO:tensorflow:global_step/sec: ')
               for l in lines)
    assert 'INFO:tensorflow:Saving checkpoints for 500 into %s/model.ckpt.' % (
        model_dir) in lines
    assert any(l.startswith('INFO:tensorflow:probabilities = [[')
               for l in lines)  # The program's own LoggingTensorHook.
    results = saved_dict(err)
    assert results['global_step'] == 500 and results['accuracy'] > 0.9
    assert "'accuracy': " in out.splitlines()[-1]  # print(eval_results)
    # TensorBoard: training curves in model_dir, evaluation in model_dir/eval.
    train = event_accumulator.EventAccumulator(str(model_dir))
    train.Reload()
    assert {'loss', 'global_step/sec'} <= set(train.Tags()['scalars'])
    assert train.Tags()['graph']
    evaluation = event_accumulator.EventAccumulator(str(model_dir / 'eval'))
    evaluation.Reload()
    accuracy = evaluation.Scalars('accuracy')
    assert [e.step for e in accuracy] == [500]
    assert accuracy[0].value == pytest.approx(results['accuracy'], abs=1e-4)
    # The images never became graph constants: graph.pbtxt holds no copy.
    assert (model_dir / 'graph.pbtxt').stat().st_size < 1e6


def test_dnn_classifier_trains_predicts_exports(mnist_data_dir, tmp_path):
    model_dir, export_dir = tmp_path / 'dnn', tmp_path / 'export'
    status, out, err = run('estimator_dnn.py', '--data_dir=%s' %
                           mnist_data_dir, '--model_dir=%s' % model_dir,
                           '--export_dir=%s' % export_dir, '--steps=600',
                           '--save_steps=300')
    assert status == 0, err[-3000:]
    results = saved_dict(err)
    assert results['global_step'] == 600 and results['accuracy'] > 0.85
    assert results['average_loss'] < 1.0
    printed = re.search(r'Test Accuracy: ([\d.]+)%', out).group(1)
    assert float(printed) == pytest.approx(results['accuracy'] * 100, abs=1e-3)
    predicted = re.search(r'Class Predictions: +\[(.*)\]', out).group(1)
    labels = re.search(r'Their labels: +\[(.*)\]', out).group(1)
    same = sum(a == b for a, b in zip(predicted.split(', '),
                                      labels.split(', ')))
    assert same >= 4
    exported = re.search(r'Exported to (\S+)', out).group(1)
    assert os.path.isfile(os.path.join(exported, 'saved_model.pb'))
    assert os.listdir(export_dir) == [os.path.basename(exported)]
    status, out, err = run('estimator_dnn.py', '--data_dir=%s' %
                           mnist_data_dir, '--model_dir=%s' % (
                               tmp_path / 'linear'), '--steps=300',
                           '--linear')
    assert status == 0, err[-3000:]
    assert saved_dict(err)['accuracy'] > 0.85


def test_an_estimator_killed_resumes_from_its_checkpoint(mnist_data_dir,
                                                          tmp_path):
    model_dir = tmp_path / 'model'
    args = ['--data_dir=%s' % mnist_data_dir, '--model_dir=%s' % model_dir,
            '--max_steps=600', '--save_steps=200']
    proc = subprocess.Popen(command('estimator_cluster.py', *args),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=environment())
    with processes.killed_at_exit(proc):
        processes.read_until(
            proc, r'listeners after saving checkpoint 200', 300)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    status, out, err = run('estimator_cluster.py', *args)
    assert status == 0, err[-3000:]
    restored = re.search(r'Restoring parameters from .*model\.ckpt-(\d+)',
                         err)
    first_step = [int(m.group(1)) for m in map(_STEP_LINE.match,
                                               info_lines(err)) if m][0]
    assert int(restored.group(1)) >= 200
    assert first_step == int(restored.group(1)) + 1
    assert 'Final evaluation: accuracy' in out
    assert saved_dict(err)['global_step'] == 600
    assert saved_dict(err)['accuracy'] > 0.9
    # Run again: max_steps is reached, nothing is trained.
    status, out, err = run('estimator_cluster.py', *args)
    assert status == 0, err[-3000:]
    assert 'Skipping training since max_steps has already saved.' in err
    assert not [l for l in info_lines(err) if _STEP_LINE.match(l)]
    assert folder_mb(model_dir) < 20


def test_train_and_evaluate_on_a_local_tf_config_cluster(mnist_data_dir,
                                                          tmp_path):
    ps, chief, worker = ['127.0.0.1:%d' % p for p in
                         processes.free_ports(3)]
    cluster = {'ps': [ps], 'chief': [chief], 'worker': [worker]}
    model_dir = tmp_path / 'model'
    procs = {}
    try:
        for task in ('ps', 'chief', 'worker', 'evaluator'):
            env = environment(TF_CONFIG=json.dumps(
                {'cluster': cluster, 'task': {'type': task, 'index': 0}}))
            # Files, not pipes: a full pipe would stop a chatty task.
            with open(tmp_path / (task + '.out'), 'w') as out, open(
                    tmp_path / (task + '.err'), 'w') as err:
                procs[task] = subprocess.Popen(
                    command('estimator_cluster.py', '--data_dir=%s' %
                            mnist_data_dir, '--model_dir=%s' % model_dir,
                            '--max_steps=800', '--save_steps=400',
                            '--timeout=120'),
                    stdout=out, stderr=err, text=True, env=env)
        for proc in procs.values():
            proc.wait(timeout=600)
    finally:
        for proc in procs.values():
            processes.kill(proc)
    outputs = {task: ((tmp_path / (task + '.out')).read_text(),
                      (tmp_path / (task + '.err')).read_text())
               for task in procs}
    for task, proc in procs.items():
        assert proc.returncode == 0, (task, outputs[task][1][-3000:])
    out, err = outputs['evaluator']
    final = re.search(r'Final evaluation: accuracy ([\d.]+) at step (\d+)',
                      out)
    assert float(final.group(1)) > 0.9 and int(final.group(2)) >= 800
    assert 'Parameter server 0: all 2 workers are done; stopping.' in (
        outputs['ps'][0])
    assert 'Worker 1 of 2 at %s' % worker in outputs['worker'][0]
    assert [l for l in info_lines(outputs['worker'][1]) if
            _STEP_LINE.match(l)]  # The worker took steps of its own.
    assert 'Saving checkpoints for' in outputs['chief'][1]
    assert 'Saving checkpoints for' not in outputs['worker'][1]
    assert os.listdir(str(model_dir / 'eval'))


def test_a_cluster_task_whose_parameter_server_is_gone_ends_in_one_line(
        mnist_data_dir, tmp_path):
    ps, chief = ['127.0.0.1:%d' % p for p in processes.free_ports(2)]
    cluster = {'ps': [ps], 'chief': [chief]}
    args = ['--data_dir=%s' % mnist_data_dir, '--model_dir=%s' % (
        tmp_path / 'model'), '--max_steps=1000000', '--timeout=10']
    started = []
    try:
        for task in ('ps', 'chief'):
            started.append(subprocess.Popen(
                command('estimator_cluster.py', *args),
                stdout=subprocess.DEVNULL if task == 'ps' else subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, env=environment(
                    TF_CONFIG=json.dumps({'cluster': cluster, 'task': {
                        'type': task, 'index': 0}}))))
        ps_proc, chief_proc = started
        processes.read_until(chief_proc, r'loss = .*, step = [1-9]\d\d', 300)
        processes.kill(ps_proc)
        rest = chief_proc.communicate(timeout=300)[0].splitlines()
    finally:
        for proc in started:
            processes.kill(proc)
    assert chief_proc.returncode == 1
    assert 'Worker 0: parameter server 0 at %s (Connection refused) does not '\
        'answer; waiting up to 10 s.' % ps in rest
    assert rest[-1] == (
        'estimator_cluster.py: error: worker 0: cannot reach parameter server'
        ' 0 at %s after 10 s (Connection refused); start it, or check '
        '--ps_hosts/TF_CONFIG' % ps)
    assert not [l for l in rest if l.startswith('Traceback')]
