"""The package's declared versions and the Dockerfile agree."""

import configparser
import pathlib
import re

from packaging.specifiers import SpecifierSet
from packaging.version import Version

REPO = pathlib.Path(__file__).resolve().parent.parent


def declared_tensorflow():
    config = configparser.ConfigParser()
    config.read(REPO / 'setup.cfg')
    for line in config['options']['install_requires'].splitlines():
        m = re.match(r'\s*tensorflow\s*([<>=!~].*)$', line)
        if m:
            return SpecifierSet(m.group(1))
    raise AssertionError('setup.cfg declares no tensorflow requirement')


def test_dockerfile_base_tag_matches_declared_tensorflow():
    dockerfile = (REPO / 'Dockerfile').read_text()
    tag = re.search(r'^ARG TF_VERSION=(\S+)$', dockerfile, re.M).group(1)
    assert 'FROM tensorflow/tensorflow:${TF_VERSION}${VARIANT}' in dockerfile
    assert Version(tag) in declared_tensorflow()


def test_installed_tensorflow_is_in_the_declared_range():
    import tensorflow as tf
    assert Version(tf.__version__) in declared_tensorflow()


def test_gpu_extra_pins_the_same_range():
    config = configparser.ConfigParser()
    config.read(REPO / 'setup.cfg')
    gpu = config['options.extras_require']['gpu'].strip()
    spec = re.match(r'tensorflow\[and-cuda\]\s*(.*)$', gpu).group(1)
    assert SpecifierSet(spec) == declared_tensorflow()


def test_console_script_is_declared():
    config = configparser.ConfigParser()
    config.read(REPO / 'setup.cfg')
    scripts = config['options.entry_points']['console_scripts']
    assert 'mnist-tf1-train = mnist_tf1.fully_connected_feed:run' in scripts
