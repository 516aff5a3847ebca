#!/usr/bin/env bash
# Trains Mechanics 101 (or --model=...) on MNIST: makes or reuses .venv,
# installs the package, runs mnist-tf1-train with the flags given.
#   scripts/train.sh [--max_steps=2000] [--log_dir=...] [...]
EXTRAS="" source "$(dirname "$0")/_venv.sh"
exec "$VENV/bin/mnist-tf1-train" "$@"
