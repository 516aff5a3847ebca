#!/usr/bin/env bash
# Runs the test suite: makes or reuses .venv, installs the package with its
# test extra, runs pytest (arguments go to pytest). The tests read MNIST
# from $MNIST_TF1_DATA_SOURCE_URL when set, else from ../shared/mnist.
EXTRAS="test" source "$(dirname "$0")/_venv.sh"
cd "$REPO"
exec "$VENV/bin/python" -m pytest "$@"
