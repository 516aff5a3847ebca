#!/usr/bin/env bash
# Starts TensorBoard on the training runs, bound to localhost: makes or
# reuses .venv (as train.sh does), prints the URL, serves until Ctrl+C.
#   scripts/tensorboard.sh [LOG_DIR] [tensorboard flags...]
# LOG_DIR defaults to /tmp/tensorflow/mnist/logs, the parent of
# mnist-tf1-train's default --log_dir: every run kept under it shows, and
# the HParams dashboard compares them. $PORT picks the port (6006).
EXTRAS="" source "$(dirname "$0")/_venv.sh"
LOG_DIR="${1:-/tmp/tensorflow/mnist/logs}"
shift || true
PORT="${PORT:-6006}"
echo "TensorBoard for $LOG_DIR: http://localhost:$PORT/"
exec "$VENV/bin/tensorboard" --logdir "$LOG_DIR" --host localhost \
    --port "$PORT" "$@"
