"""The package's declared versions, the tested range, the oldest versions CI
installs and the Dockerfile agree; the running Python is a declared one."""

import configparser
import pathlib
import platform
import re

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from mnist_tf1.platform import tf_versions

REPO = pathlib.Path(__file__).resolve().parent.parent
OLDEST_CONSTRAINTS = REPO / 'scripts' / 'oldest-constraints.txt'


def setup_cfg():
    config = configparser.ConfigParser()
    config.read(REPO / 'setup.cfg')
    return config


def declared(package):
    """The SpecifierSet setup.cfg's install_requires gives `package`."""
    for line in setup_cfg()['options']['install_requires'].splitlines():
        m = re.match(r'\s*%s\s*([<>=!~].*)$' % re.escape(package), line)
        if m:
            return SpecifierSet(m.group(1))
    raise AssertionError('setup.cfg declares no %s requirement' % package)


def declared_tensorflow():
    return declared('tensorflow')


def oldest_pins():
    """{package: version} from scripts/oldest-constraints.txt."""
    pins = {}
    for line in OLDEST_CONSTRAINTS.read_text().splitlines():
        line = line.split('#', 1)[0].strip()
        if line:
            name, version = line.split('==')
            pins[name.strip()] = version.strip()
    return pins


def test_declared_range_is_the_tested_one():
    expected = SpecifierSet('>=%d.%d,<%d.%d' % (
        tf_versions.OLDEST + (tf_versions.NEWEST[0], tf_versions.NEWEST[1] + 1)))
    assert declared_tensorflow() == expected
    assert declared('tensorboard') == expected


def test_ci_oldest_versions_are_the_floor_of_the_declared_range():
    pins = oldest_pins()
    assert tf_versions.release(pins['tensorflow']) == tf_versions.OLDEST
    assert tf_versions.release(pins['tensorboard']) == tf_versions.OLDEST
    for package in ('tensorflow', 'tensorboard', 'numpy', 'absl-py'):
        assert Version(pins[package]) in declared(package), package
    # numpy's floor release, as TensorFlow's oldest can use it.
    floor = min(Version(s.version) for s in declared('numpy')
                if s.operator == '>=')
    assert Version(pins['numpy']).release[:2] == floor.release[:2]


def test_dockerfile_base_tag_is_the_newest_tested_tensorflow():
    dockerfile = (REPO / 'Dockerfile').read_text()
    tag = re.search(r'^ARG TF_VERSION=(\S+)$', dockerfile, re.M).group(1)
    assert 'FROM tensorflow/tensorflow:${TF_VERSION}${VARIANT}' in dockerfile
    assert Version(tag) in declared_tensorflow()
    assert tf_versions.release(tag) == tf_versions.NEWEST


def test_running_python_is_declared():
    config = setup_cfg()
    running = '%d.%d' % tuple(map(int, platform.python_version_tuple()[:2]))
    assert Version(running) in SpecifierSet(
        config['options']['python_requires'])
    assert ('Programming Language :: Python :: %s' % running
            in config['metadata']['classifiers'].splitlines())


def test_installed_tensorflow_is_in_the_declared_range():
    import tensorflow as tf
    assert Version(tf.__version__) in declared_tensorflow()


def test_gpu_extra_pins_the_same_range():
    config = setup_cfg()
    gpu = config['options.extras_require']['gpu'].strip()
    spec = re.match(r'tensorflow\[and-cuda\]\s*(.*)$', gpu).group(1)
    assert SpecifierSet(spec) == declared_tensorflow()


def test_console_script_is_declared():
    config = setup_cfg()
    scripts = config['options.entry_points']['console_scripts']
    assert 'mnist-tf1-train = mnist_tf1.fully_connected_feed:run' in scripts


def test_legacy_extra_pins_tf_keras_to_the_same_range():
    # tf_keras has one release per TensorFlow minor: the same range, and the
    # oldest's pin is of the oldest minor.
    lines = setup_cfg()['options.extras_require']['legacy'].split()
    specs = dict(re.match(r'([\w-]+)(.*)$', line).groups() for line in lines)
    assert SpecifierSet(specs['tf_keras']) == declared_tensorflow()
    pins = oldest_pins()
    assert tf_versions.release(pins['tf_keras']) == tf_versions.OLDEST
    assert Version(pins['tf_slim']) in SpecifierSet(specs['tf_slim'])
