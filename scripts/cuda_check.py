"""Run everything that needs a CUDA GPU, in one go, and print a short report.

    python scripts/cuda_check.py            # on a machine with an NVIDIA GPU

1. The CUDA-parametrised tests: every activation vs torch's built-ins, the
   gradients and training trajectories of both engines against torch's own, the nets and
   fit on the GPU (``pytest -k cuda``).
2. A short speed table on the GPU: µs per online step for each variant
   (``benchmarks.step_time --device cuda``), and the XOR experiment end to end.
3. Many networks at once on the GPU: the explicit and the compiled ensemble
   engines at K = 10,000 and 100,000 (``benchmarks.ensemble --device cuda``);
   their equivalence is among the CUDA tests of step 1.

Without a GPU it says so and exits 0 (nothing to check).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    if not torch.cuda.is_available():
        print("No CUDA GPU here: nothing to check (the CUDA tests skip themselves on CPU machines).")
        return 0
    print(f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, "
          f"CUDA {torch.version.cuda}")
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-k", "cuda", "-p",
                            "no:cacheprovider", "tests"], cwd=ROOT)
    sys.path.insert(0, str(ROOT))
    from benchmarks import step_time
    step_time.main(["--device", "cuda", "--rounds", "5", "--epochs", "3"])
    from benchmarks import ensemble
    ensemble.main(["--device", "cuda", "--epochs", "30", "--members", "10000", "100000",
                   "--engines", "explicit", "compiled"])
    print(f"\nCUDA tests: {'passed' if tests.returncode == 0 else 'FAILED'}")
    return tests.returncode


if __name__ == "__main__":
    raise SystemExit(main())
