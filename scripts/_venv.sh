# Sourced by the other scripts: makes or reuses .venv in the repository (or
# $MNIST_TF1_VENV) and installs the package into it with its `legacy` extra
# (tf_keras and tf_slim, for TF 1.x programs) and the extras named in
# $EXTRAS, within the pip constraints file $MNIST_TF1_CONSTRAINTS when set
# (scripts/test_oldest.sh: the oldest versions of the tested range).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MNIST_TF1_VENV:-$REPO/.venv}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "Creating a virtual environment in $VENV" >&2
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    ${MNIST_TF1_CONSTRAINTS:+--constraint "$MNIST_TF1_CONSTRAINTS"} "$REPO[legacy${EXTRAS:+,$EXTRAS}]"
