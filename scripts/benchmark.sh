#!/usr/bin/env bash
# Benchmarks mnist-tf1 against a bare Session.run loop and tf.keras (see the
# README's "Benchmark" section): makes or reuses .venv, installs the package,
# runs scripts/benchmark.py (arguments go to it). Prints a markdown table and
# writes benchmark.json.
#   scripts/benchmark.sh [--rounds=3] [--models=mechanics101] [--smoke]
EXTRAS="" source "$(dirname "$0")/_venv.sh"
cd "$REPO"
exec "$VENV/bin/python" scripts/benchmark.py "$@"
