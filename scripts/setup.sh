#!/usr/bin/env bash
# Create ./.venv and install torchann into it (editable), CPU build of PyTorch first.
#
#   bash scripts/setup.sh        # the library and experiments
#   bash scripts/setup.sh data   # ... plus scikit-learn, for the real datasets (digits, ...)
#   bash scripts/setup.sh dev    # ... plus pytest, hypothesis and scikit-learn, for the test suite
#
# PyTorch goes in first and on its own, because a bare "torch" requirement on a
# machine without torch pulls a multi-GB CUDA build. TORCH_SPEC picks what to
# install (default torch==2.13.0; e.g. TORCH_SPEC="torch --index-url
# https://download.pytorch.org/whl/cpu" for the CPU wheel from PyTorch's index).
# A torch already in the venv is kept. PYTHON picks the interpreter (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "error: torchann needs Python >= 3.10; '$PYTHON' is $("$PYTHON" --version 2>&1 || echo missing)." >&2
  echo "       Point PYTHON at a newer one: PYTHON=python3.11 bash scripts/setup.sh" >&2
  exit 2
fi

extra=""
case "${1:-}" in
  "") ;;
  data) extra="[data]" ;;
  dev) extra="[dev]" ;;
  *) echo "error: unknown option '$1'; use no argument, 'data' or 'dev'" >&2; exit 2 ;;
esac

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@"; }

if ! .venv/bin/python -c 'import torch' 2>/dev/null; then
  # shellcheck disable=SC2086  # TORCH_SPEC may carry pip options on purpose
  pip install ${TORCH_SPEC:-torch==2.13.0}
fi
pip install -e ".${extra}"
echo "torchann is installed in .venv (torch $(.venv/bin/python -c 'import torch; print(torch.__version__)'))"
