#!/usr/bin/env bash
# Run the fast test suite (no --runslow) on the oldest PyTorch that pyproject.toml
# declares, in a venv of its own (.venv-floor), so the declared range is tested and
# not just the torch in .venv. The main .venv is never touched.
#
#   bash scripts/check_torch_floor.sh                  # the floor pyproject.toml declares
#   bash scripts/check_torch_floor.sh tests/test_nn.py # extra arguments go to pytest
#   FLOOR_TORCH=2.3.1 bash scripts/check_torch_floor.sh
#
# The floor is read from the "torch>=X.Y[.Z]" line of pyproject.toml: torch>=X.Y means
# X.Y.0 is installed, the oldest release the line admits. FLOOR_TORCH overrides it.
# Every run starts from an empty venv and pip's cache is not used, so a clean CI
# machine and this script see the same thing. It downloads about 2.9 GB (PyPI's Linux
# x86_64 torch wheels are CUDA builds: torch plus the nvidia-* libraries it loads at
# import, even on a machine with no GPU; a CPU-only wheel of an old release is only on
# PyTorch's own index): the venv takes about 5.5 GB, the run about 7.5 GB at its peak.
# The venv is removed at the end unless KEEP_FLOOR_VENV=1.
#
# Torch releases before 2.3 were built against NumPy 1.x and cannot use NumPy 2
# ("RuntimeError: Numpy is not available" on Tensor.numpy()); for those the script
# adds numpy<2 to the constraints.
#
# Environment: PYTHON (interpreter, default python3), FLOOR_TORCH, FLOOR_VENV (default
# .venv-floor), KEEP_FLOOR_VENV=1. Exits with pytest's status (non-zero on any failure,
# 5 when no test ran), or 2 when it cannot set the venv up.
set -euo pipefail
cd "$(dirname "$0")/.."
export MPLBACKEND=Agg PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

PYTHON=${PYTHON:-python3}
VENV=${FLOOR_VENV:-.venv-floor}
die() { echo "check_torch_floor: error: $*" >&2; exit 2; }

"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null \
  || die "torchann needs Python >= 3.10; '$PYTHON' is $("$PYTHON" --version 2>&1 || echo missing)"

# The declared floor, from pyproject.toml's dependencies.
declared=$("$PYTHON" - <<'EOF'
import re, sys
text = open("pyproject.toml", encoding="utf-8").read()
found = re.findall(r'^\s*"torch\s*>=\s*([0-9]+(?:\.[0-9]+){1,2})\s*(?:,[^"]*)?"', text, re.M)
if len(found) != 1:
    sys.exit("expected exactly one \"torch>=X.Y\" dependency in pyproject.toml, found "
             f"{len(found)}")
parts = found[0].split(".")
print(".".join(parts + ["0"] * (3 - len(parts))))
EOF
) || die "could not read the torch floor from pyproject.toml"
FLOOR=${FLOOR_TORCH:-$declared}
[[ $FLOOR =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "FLOOR_TORCH must be an exact release like 2.3.0, got '$FLOOR'"
if [ "$FLOOR" != "$declared" ]; then
  echo "check_torch_floor: note: testing torch $FLOOR (FLOOR_TORCH), pyproject.toml declares >= $declared"
fi

# Old torch (< 2.3) needs NumPy 1.x.
needs_old_numpy=$("$PYTHON" -c "import sys; v = tuple(map(int, '$FLOOR'.split('.'))); print(int(v < (2, 3, 0)))")

# A fresh venv every time. Refuse to delete anything that is not a venv.
if [ -e "$VENV" ]; then
  [ -f "$VENV/pyvenv.cfg" ] || die "$VENV exists and is not a virtual environment; move it or set FLOOR_VENV"
  rm -rf "$VENV"
fi
free_kb=$(df -Pk . | awk 'NR == 2 {print $4}')
[ "${free_kb:-0}" -ge $((9 * 1024 * 1024)) ] \
  || die "need about 9 GB free for the floor venv and its downloads; $((free_kb / 1024)) MB free here"

cleanup() {
  if [ "${KEEP_FLOOR_VENV:-0}" != "1" ] && [ -f "$VENV/pyvenv.cfg" ]; then rm -rf "$VENV"; fi
}
trap cleanup EXIT

echo "check_torch_floor: creating $VENV with torch==$FLOOR"
"$PYTHON" -m venv "$VENV"
constraints="$VENV/floor-constraints.txt"
echo "torch==$FLOOR" > "$constraints"
if [ "$needs_old_numpy" = 1 ]; then echo "numpy<2" >> "$constraints"; fi
pip() { "$VENV/bin/python" -m pip --no-cache-dir -q "$@"; }

# torch first, on its own and pinned, then the project (editable, as scripts/setup.sh
# does) with its declared dependencies and the dev extra, resolved against the pin: a
# requirement anywhere that the floor torch cannot satisfy fails here, not silently.
pip install -c "$constraints" "torch==$FLOOR" || die "could not install torch==$FLOOR"
pip install -c "$constraints" -e ".[dev]" || die "could not install torchann[dev] beside torch==$FLOOR"

# Check that what is installed really is the floor before trusting the test result.
"$VENV/bin/python" - "$FLOOR" <<'EOF' || die "the venv does not hold the floor torch"
import sys, platform
import numpy, torch
base = torch.__version__.split("+")[0]
print(f"check_torch_floor: testing torch {torch.__version__} with numpy {numpy.__version__}, "
      f"Python {platform.python_version()}")
if base != sys.argv[1]:
    sys.exit(f"expected torch {sys.argv[1]}, the venv has {torch.__version__}")
torch.ones(2).numpy()  # NumPy interop works with this pairing
EOF

status=0
"$VENV/bin/python" -m pytest -p no:cacheprovider "$@" || status=$?
if [ "$status" -eq 0 ]; then
  echo "check_torch_floor: torch $FLOOR: the fast suite passed"
else
  echo "check_torch_floor: torch $FLOOR: the fast suite FAILED (pytest exit $status)" >&2
fi
exit "$status"
