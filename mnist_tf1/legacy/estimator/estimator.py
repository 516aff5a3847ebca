"""tf.estimator.Estimator, as TensorFlow 1.15 had it, on tf.compat.v1's
MonitoredTrainingSession and SessionRunHooks.

train() builds the model_fn's TRAIN graph in a graph of its own and runs it
with the hooks 1.15's Estimator added: StopAtStepHook (steps counted from
the checkpoint it resumes, or max_steps), NanTensorHook, a LoggingTensorHook
('loss = 2.30, step = 1'), a StepCounterHook ('global_step/sec: ...') and a
SummarySaverHook into model_dir, a CheckpointSaverHook ('Saving checkpoints
for 300 into .../model.ckpt.'). evaluate(), predict() and export are in
evaluation.py, prediction.py and saved_model_export.py.
"""

import inspect
import os
import tempfile

import tensorflow.compat.v1 as tf

from mnist_tf1.legacy.estimator import inputs
from mnist_tf1.legacy.estimator import model_fn as model_fn_lib
from mnist_tf1.legacy.estimator import run_config as run_config_lib
from mnist_tf1.platform import device

EstimatorError = model_fn_lib.EstimatorError
ModeKeys = model_fn_lib.ModeKeys


class WarmStartSettings(object):
    """Which variables to take from which checkpoint before training."""

    def __init__(self, ckpt_to_initialize_from, vars_to_warm_start='.*',
                 var_name_to_vocab_info=None, var_name_to_prev_var_name=None):
        self.ckpt_to_initialize_from = ckpt_to_initialize_from
        self.vars_to_warm_start = vars_to_warm_start
        self.var_name_to_vocab_info = var_name_to_vocab_info
        self.var_name_to_prev_var_name = var_name_to_prev_var_name


class Estimator(object):
    """A model_fn's model: train, evaluate, predict, export."""

    def __init__(self, model_fn, model_dir=None, config=None, params=None,
                 warm_start_from=None):
        if config is None:
            tf.logging.info('Using default config.')
            config = run_config_lib.RunConfig()
        elif not isinstance(config, run_config_lib.RunConfig):
            raise EstimatorError('config must be a tf.estimator.RunConfig, '
                                 'not %s' % type(config).__name__)
        if model_dir and config.model_dir and (
                os.path.abspath(model_dir) != os.path.abspath(
                    config.model_dir)):
            raise EstimatorError(
                'model_dir %s and RunConfig.model_dir %s differ; give one' % (
                    model_dir, config.model_dir))
        model_dir = model_dir or config.model_dir
        if not model_dir:
            model_dir = tempfile.mkdtemp()
            tf.logging.warning('Using temporary folder as model directory: %s',
                               model_dir)
        self._model_dir = check_model_dir(os.fspath(model_dir))
        self._config = config.replace(model_dir=self._model_dir)
        self._params = dict(params or {})
        self._model_fn = _checked_model_fn(model_fn, params)
        if isinstance(warm_start_from, (str, bytes, os.PathLike)):
            warm_start_from = WarmStartSettings(os.fsdecode(warm_start_from))
        self._warm_start = warm_start_from
        tf.logging.info('Using config: %s', self._config)

    model_dir = property(lambda self: self._model_dir)
    config = property(lambda self: self._config)
    params = property(lambda self: dict(self._params))
    model_fn = property(lambda self: self._model_fn)

    # --- The graph of one mode --------------------------------------------

    def build(self, input_fn, mode):
        """Calls input_fn and model_fn in the current graph.

        Returns:
          (EstimatorSpec, the input's hooks, the global step).
        """
        if self._config.tf_random_seed is not None:
            tf.set_random_seed(self._config.tf_random_seed)
        global_step = tf.train.get_or_create_global_step()
        features, labels, input_hooks = self.call_input_fn(input_fn, mode)
        spec = self.call_model_fn(features, labels, mode)
        return spec, input_hooks, global_step

    def call_input_fn(self, input_fn, mode):
        """(features, labels, hooks) from input_fn, which may return
        (features, labels), features alone, or a tf.data.Dataset of either."""
        if not callable(input_fn):
            raise EstimatorError('input_fn must be a function, not %s' %
                                 type(input_fn).__name__)
        kwargs = _wanted(input_fn, mode=mode, params=self._params,
                         config=self._config)
        with tf.device('/cpu:0'):
            result = input_fn(**kwargs)
        hooks = []
        feeders = inputs.feeders(tf.get_default_graph())
        if feeders:
            hooks.append(inputs.FeedHook(feeders))
        if isinstance(result, (tf.data.Dataset, tf.compat.v2.data.Dataset)):
            iterator = tf.data.make_initializable_iterator(result)
            hooks.append(_IteratorInitHook(iterator.initializer))
            result = iterator.get_next()
        if isinstance(result, (tuple, list)):
            if len(result) != 2:
                raise EstimatorError(
                    'input_fn returned %d values; return (features, labels) '
                    'or features alone' % len(result))
            return result[0], result[1], hooks
        if isinstance(result, (dict, tf.Tensor, tf.SparseTensor)):
            return result, None, hooks
        raise EstimatorError(
            'input_fn returned %s; return (features, labels), features (a '
            'tensor or a dict of tensors) or a tf.data.Dataset' %
            type(result).__name__)

    def call_model_fn(self, features, labels, mode):
        """The model_fn's EstimatorSpec for mode, checked."""
        kwargs = _wanted(self._model_fn, mode=mode, params=self._params,
                         config=self._config)
        if 'labels' in _arguments(self._model_fn):
            kwargs['labels'] = labels
        tf.logging.info('Calling model_fn.')
        spec = self._model_fn(features=features, **kwargs)
        tf.logging.info('Done calling model_fn.')
        return model_fn_lib.checked_spec(spec, mode, self._model_fn)

    def session_config(self):
        """The RunConfig's session_config, or this project's default."""
        return self._config.session_config or device.session_config()

    # --- Training ----------------------------------------------------------

    def train(self, input_fn, hooks=None, steps=None, max_steps=None,
              saving_listeners=None):
        """Trains from the latest checkpoint in model_dir, for `steps` more
        steps or up to `max_steps`, or until input_fn's input ends."""
        if steps is not None and max_steps is not None:
            raise EstimatorError('train: give steps or max_steps, not both')
        for name, value in (('steps', steps), ('max_steps', max_steps)):
            if value is not None and value <= 0:
                raise EstimatorError('train: %s must be > 0, given: %s' %
                                     (name, value))
        hooks = model_fn_lib.check_hooks(hooks)
        if max_steps is not None and max_steps <= self.global_step_on_disk():
            tf.logging.info('Skipping training since max_steps has already '
                            'saved.')
            return self
        loss = self.train_model(input_fn, hooks, steps, max_steps,
                                saving_listeners or [])
        tf.logging.info('Loss for final step: %s.', loss)
        return self

    def train_model(self, input_fn, hooks, steps, max_steps, listeners):
        """Builds and runs the TRAIN graph here; returns the last loss."""
        with tf.Graph().as_default() as graph, graph.device(
                self._config.device_fn):
            spec, worker_hooks, chief_hooks = self.training_graph(
                input_fn, hooks, steps, max_steps, listeners)
            with tf.train.MonitoredTrainingSession(
                    checkpoint_dir=self._model_dir, scaffold=spec.scaffold,
                    hooks=worker_hooks, chief_only_hooks=chief_hooks,
                    save_checkpoint_secs=0,
                    save_summaries_steps=self._config.save_summary_steps,
                    config=self.session_config(),
                    log_step_count_steps=self._config.log_step_count_steps
            ) as session:
                loss = None
                while not session.should_stop():
                    _, loss = session.run([spec.train_op, spec.loss])
        return loss

    def training_graph(self, input_fn, hooks, steps, max_steps, listeners):
        """The TRAIN graph in the current graph, and 1.15's hooks for it.

        Returns:
          (EstimatorSpec, hooks for every worker, hooks for the chief only:
          its CheckpointSaverHook with the saving listeners).
        """
        spec, input_hooks, global_step = self.build(input_fn, ModeKeys.TRAIN)
        self._warm_start_if_new()
        # As 1.15: a 'loss' curve in TensorBoard, unless the model has one.
        if not any(x.op.name == 'loss' for x in tf.get_collection(
                tf.GraphKeys.SUMMARIES)):
            tf.summary.scalar('loss', spec.loss)
        worker_hooks = input_hooks + [tf.train.NanTensorHook(spec.loss)]
        if self._config.log_step_count_steps:
            worker_hooks.append(tf.train.LoggingTensorHook(
                {'loss': spec.loss, 'step': global_step},
                every_n_iter=self._config.log_step_count_steps))
        if steps is not None or max_steps is not None:
            worker_hooks.append(tf.train.StopAtStepHook(num_steps=steps,
                                                        last_step=max_steps))
        worker_hooks += list(spec.training_hooks) + list(hooks)
        self._default_saver(spec.scaffold)
        chief_hooks = list(spec.training_chief_hooks)
        if not any(isinstance(h, tf.train.CheckpointSaverHook)
                   for h in worker_hooks + chief_hooks):
            chief_hooks.append(tf.train.CheckpointSaverHook(
                self._model_dir, save_secs=self._config.save_checkpoints_secs,
                save_steps=self._config.save_checkpoints_steps,
                scaffold=spec.scaffold, listeners=listeners))
        return spec, worker_hooks, chief_hooks

    def _default_saver(self, scaffold):
        """1.15's Saver for scaffold unless the model_fn made one."""
        if scaffold.saver is None and not tf.get_collection(
                tf.GraphKeys.SAVERS):
            tf.add_to_collection(tf.GraphKeys.SAVERS, tf.train.Saver(
                sharded=True, max_to_keep=self._config.keep_checkpoint_max,
                keep_checkpoint_every_n_hours=(
                    self._config.keep_checkpoint_every_n_hours),
                defer_build=True, save_relative_paths=True))

    def _warm_start_if_new(self):
        if self._warm_start is None or self.latest_checkpoint():
            return
        settings = self._warm_start
        tf.logging.info('Warm-starting from: %s',
                        settings.ckpt_to_initialize_from)
        tf.train.warm_start(settings.ckpt_to_initialize_from,
                            settings.vars_to_warm_start,
                            settings.var_name_to_vocab_info,
                            settings.var_name_to_prev_var_name)

    # --- What is in model_dir --------------------------------------------

    def latest_checkpoint(self):
        """The newest checkpoint's path in model_dir, or None."""
        return tf.train.latest_checkpoint(self._model_dir)

    def global_step_on_disk(self):
        """The global step of the newest checkpoint (0 without one)."""
        checkpoint = self.latest_checkpoint()
        if not checkpoint:
            return 0
        return int(tf.train.load_variable(checkpoint,
                                          tf.GraphKeys.GLOBAL_STEP))

    def get_variable_names(self):
        """The names of the variables in the newest checkpoint."""
        return [name for name, _ in tf.train.list_variables(
            self._needed_checkpoint())]

    def get_variable_value(self, name):
        """A variable's value (numpy) in the newest checkpoint."""
        return tf.train.load_variable(self._needed_checkpoint(), name)

    def _needed_checkpoint(self, checkpoint_path=None):
        path = checkpoint_path or self.latest_checkpoint()
        if not path:
            raise EstimatorError(
                'Could not find trained model in model_dir: %s; train the '
                'Estimator first' % self._model_dir)
        return path

    # --- Evaluating, predicting, exporting (modules of their own) ---------

    def evaluate(self, input_fn, steps=None, hooks=None, checkpoint_path=None,
                 name=None):
        """The eval metrics of a checkpoint (default: the newest)."""
        from mnist_tf1.legacy.estimator import evaluation  # pylint: disable=g-import-not-at-top
        return evaluation.evaluate(self, input_fn, steps, hooks,
                                   checkpoint_path, name)

    def predict(self, input_fn, predict_keys=None, hooks=None,
                checkpoint_path=None, yield_single_examples=True):
        """Yields the model_fn's predictions for input_fn's features."""
        from mnist_tf1.legacy.estimator import prediction  # pylint: disable=g-import-not-at-top
        return prediction.predict(
            self, input_fn, predict_keys, hooks,
            self._needed_checkpoint(checkpoint_path), yield_single_examples)

    def export_saved_model(self, export_dir_base, serving_input_receiver_fn,
                           assets_extra=None, as_text=False,
                           checkpoint_path=None, experimental_mode=None):
        """Writes a SavedModel into a new timestamped folder; its path."""
        from mnist_tf1.legacy.estimator import saved_model_export  # pylint: disable=g-import-not-at-top
        del experimental_mode  # PREDICT only, as export_savedmodel.
        return saved_model_export.export(
            self, export_dir_base, serving_input_receiver_fn, assets_extra,
            as_text, self._needed_checkpoint(checkpoint_path))

    def export_savedmodel(self, export_dir_base, serving_input_receiver_fn,
                          assets_extra=None, as_text=False,
                          checkpoint_path=None, strip_default_attrs=False):
        """TensorFlow 1.x's name for export_saved_model."""
        del strip_default_attrs
        return self.export_saved_model(export_dir_base,
                                       serving_input_receiver_fn,
                                       assets_extra, as_text, checkpoint_path)


class _IteratorInitHook(tf.train.SessionRunHook):
    """Initializes a tf.data input's iterator once the session exists."""

    def __init__(self, initializer):
        self._initializer = initializer

    def after_create_session(self, session, coord):
        session.run(self._initializer)


def check_model_dir(model_dir):
    """model_dir, made if missing; one line if it is a file or unwritable."""
    if os.path.exists(model_dir) and not os.path.isdir(model_dir):
        raise EstimatorError('model_dir %s is a file, not a folder; give '
                             'another model_dir' % model_dir)
    try:
        os.makedirs(model_dir, exist_ok=True)
    except OSError as e:
        raise EstimatorError('cannot make model_dir %s (%s); give a folder '
                             'you can write' % (model_dir, e.strerror or e))
    if not os.access(model_dir, os.W_OK | os.X_OK):
        raise EstimatorError('cannot write into model_dir %s (permission '
                             'denied); give a folder you can write' %
                             model_dir)
    return model_dir


def _arguments(function):
    try:
        return inspect.signature(function).parameters
    except (TypeError, ValueError):
        return {}


def _wanted(function, **available):
    """The arguments among `available` that function's signature names."""
    names = _arguments(function)
    return {k: v for k, v in available.items() if k in names}


def _checked_model_fn(model_fn, params):
    if not callable(model_fn):
        raise EstimatorError('model_fn must be a function, not %s' %
                             type(model_fn).__name__)
    names = _arguments(model_fn)
    if names and 'features' not in names:
        raise EstimatorError(
            'model_fn %s must take an argument named features (it takes %s)'
            % (getattr(model_fn, '__name__', ''), ', '.join(names)))
    if params and names and 'params' not in names:
        raise EstimatorError(
            'Estimator was given params but model_fn %s takes no params '
            'argument; add one' % getattr(model_fn, '__name__', ''))
    return model_fn
