"""A run's flags and final precisions for TensorBoard's HParams dashboard.

Every training run writes, into its log dir's events file, the experiment
(which hyperparameters and metrics there are) and a session start holding
this run's flag values; it writes a session end when training finishes. The
metrics are the precision @ 1 curves of the `train`, `validation` and `test`
runs under it, and the dashboard shows their last values, so runs kept side
by side under one parent directory compare in one table:

    tensorboard --logdir /tmp/runs     # /tmp/runs/lr0.01, /tmp/runs/lr0.1, ...

Uses the HParams plugin's own summary protos, from the `tensorboard` package.
"""

from tensorboard.plugins.hparams import api_pb2
from tensorboard.plugins.hparams import summary as hparams_summary

from mnist_tf1.run_dir import recorded_flags

# Flags that say where things are, how much is shown or kept, not what was
# trained (--fake_data is for trying the program out): they would only add
# columns.
NOT_HPARAMS = frozenset([
    'input_data_dir', 'data_source_url', 'log_dir', 'log_device_placement',
    'tf_verbose', 'summary_steps', 'trace_steps', 'eval_batch_size',
    'print_cost', 'save_checkpoint_steps', 'max_to_keep', 'fresh',
    'delete_previous', 'fake_data',
])
_TYPES = {
    'bool': api_pb2.DATA_TYPE_BOOL,
    'int': api_pb2.DATA_TYPE_FLOAT64,
    'float': api_pb2.DATA_TYPE_FLOAT64,
}


def project_flags(flag_values):
    """The package's own flags that describe a run, sorted by name: those
    run_flags records, less NOT_HPARAMS."""
    names = set(recorded_flags.recorded_names(flag_values)) - NOT_HPARAMS
    return [flag_values[name] for name in sorted(names)]


def values(flags):
    """{name: value} for the HParams session; unset (None) flags left out."""
    out = {}
    for flag in flags:
        value = flag.value
        if value is None:
            continue
        if not isinstance(value, (bool, int, float, str)):
            value = str(value)
        out[flag.name] = value
    return out


def experiment_summary(flags, metrics):
    """The experiment: one hparam per flag this run sets, one metric per
    (group, tag).

    Flags this run leaves unset (another network's --keep_prob, no --seed)
    are no columns: TensorBoard shows the first five hparams by name, and
    empty columns would push --learning_rate out of them. TensorBoard takes
    the columns from the first run it reads, so runs of one --model compare
    best.

    Args:
      flags: absl Flag objects, from project_flags().
      metrics: [(group, tag)], group being the run under the log dir
        ('train', 'validation', 'test') or '' for the log dir itself.

    Returns:
      A tf.compat.v1.Summary for the log dir's writer.
    """
    dataset_types = {'train': api_pb2.DATASET_TRAINING,
                     'validation': api_pb2.DATASET_VALIDATION}
    hparam_infos = [
        api_pb2.HParamInfo(
            name=flag.name, description=flag.help,
            type=_TYPES.get(flag.flag_type(), api_pb2.DATA_TYPE_STRING))
        for flag in flags if flag.value is not None]
    metric_infos = [
        api_pb2.MetricInfo(
            name=api_pb2.MetricName(group=group, tag=tag),
            display_name=('%s %s' % (group, tag)).strip(),
            dataset_type=dataset_types.get(group, api_pb2.DATASET_UNKNOWN))
        for group, tag in metrics]
    return hparams_summary.experiment_pb(hparam_infos, metric_infos)


def session_start_summary(flags):
    """This run's flag values, as the HParams session start."""
    return hparams_summary.session_start_pb(values(flags))


def session_end_summary():
    """Marks the run's HParams session finished successfully."""
    return hparams_summary.session_end_pb(api_pb2.STATUS_SUCCESS)
