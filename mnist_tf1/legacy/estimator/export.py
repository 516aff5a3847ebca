"""tf.estimator.export: what a served model receives, and what it answers.

A serving_input_receiver_fn returns a ServingInputReceiver: the features
the model_fn gets, and the tensors a request fills (receiver_tensors). An
EstimatorSpec's export_outputs maps signature names to PredictOutput,
ClassificationOutput or RegressionOutput.
"""

import collections

import tensorflow.compat.v1 as tf

from mnist_tf1.legacy.estimator import model_fn as model_fn_lib

DEFAULT_SERVING_SIGNATURE_DEF_KEY = 'serving_default'


def _as_dict(value, default_key):
    if isinstance(value, dict):
        return dict(value)
    return {default_key: value}


class ServingInputReceiver(collections.namedtuple(
        'ServingInputReceiver',
        ['features', 'receiver_tensors', 'receiver_tensors_alternatives'])):
    """Features for the model_fn, fed through receiver_tensors."""

    def __new__(cls, features, receiver_tensors,
                receiver_tensors_alternatives=None):
        if features is None:
            raise model_fn_lib.EstimatorError(
                'ServingInputReceiver: features must be given')
        return super().__new__(cls, _as_dict(features, 'feature'),
                               _as_dict(receiver_tensors, 'input'),
                               receiver_tensors_alternatives)


class TensorServingInputReceiver(collections.namedtuple(
        'TensorServingInputReceiver',
        ['features', 'receiver_tensors', 'receiver_tensors_alternatives'])):
    """A single tensor given to the model_fn as features, not a dict."""

    def __new__(cls, features, receiver_tensors,
                receiver_tensors_alternatives=None):
        return super().__new__(cls, features,
                               _as_dict(receiver_tensors, 'input'),
                               receiver_tensors_alternatives)


def build_raw_serving_input_receiver_fn(features, default_batch_size=None):
    """A receiver fn taking placeholders shaped as `features` (tensors)."""

    def serving_input_receiver_fn():
        placeholders = {}
        for name, tensor in features.items():
            shape = [default_batch_size] + tensor.shape.as_list()[1:]
            placeholders[name] = tf.placeholder(tensor.dtype, shape,
                                                name=name)
        return ServingInputReceiver(placeholders, placeholders)

    return serving_input_receiver_fn


def build_parsing_serving_input_receiver_fn(feature_spec,
                                            default_batch_size=None):
    """A receiver fn taking serialized tf.Example protos."""

    def serving_input_receiver_fn():
        examples = tf.placeholder(tf.string, [default_batch_size],
                                  name='input_example_tensor')
        features = tf.parse_example(examples, feature_spec)
        return ServingInputReceiver(features, {'examples': examples})

    return serving_input_receiver_fn


class ExportOutput(object):
    """An output of a served model, as a SignatureDef."""

    def as_signature_def(self, receiver_tensors):
        raise NotImplementedError


class PredictOutput(ExportOutput):
    """Any tensors, by name (the 'predict' signature)."""

    def __init__(self, outputs):
        self.outputs = _as_dict(outputs, 'output')

    def as_signature_def(self, receiver_tensors):
        return tf.saved_model.predict_signature_def(receiver_tensors,
                                                    self.outputs)


class ClassificationOutput(ExportOutput):
    """Scores and classes (the 'classify' signature when the input is one
    string tensor of serialized examples, else 'predict')."""

    def __init__(self, scores=None, classes=None):
        if scores is None and classes is None:
            raise model_fn_lib.EstimatorError(
                'ClassificationOutput: give scores or classes')
        self.scores, self.classes = scores, classes

    def as_signature_def(self, receiver_tensors):
        if len(receiver_tensors) == 1 and list(
                receiver_tensors.values())[0].dtype == tf.string:
            return tf.saved_model.classification_signature_def(
                list(receiver_tensors.values())[0], self.classes, self.scores)
        outputs = {k: v for k, v in (('scores', self.scores),
                                     ('classes', self.classes)) if v is not None}
        return tf.saved_model.predict_signature_def(receiver_tensors, outputs)


class RegressionOutput(ExportOutput):
    """One value per example."""

    def __init__(self, value):
        self.value = value

    def as_signature_def(self, receiver_tensors):
        if len(receiver_tensors) == 1 and list(
                receiver_tensors.values())[0].dtype == tf.string:
            return tf.saved_model.regression_signature_def(
                list(receiver_tensors.values())[0], self.value)
        return tf.saved_model.predict_signature_def(receiver_tensors,
                                                    {'outputs': self.value})
