"""Execute the tutorial notebook and write a copy with its outputs to docs/, for GitHub.

    .venv/bin/python scripts/render_notebook.py          # notebooks/tutorial.ipynb, run,
                                                         # -> docs/tutorial.ipynb
    .venv/bin/python scripts/render_notebook.py --clear  # strip outputs a Jupyter session saved

The notebook is kept in git without outputs (clean diffs; tests/test_notebook.py
checks it), and the rendered copy is regenerated with this command whenever the
notebook changes, like the gallery. It runs with a real Jupyter kernel
(nbclient + ipykernel, in the [dev] extra) on this interpreter, in batch mode:
TORCHANN_NOTEBOOK_BATCH=1 tells the notebook not to start TensorBoard, and
TORCHANN_NOTEBOOK_RUNS points its TensorBoard logs at a temporary folder.
tests/test_notebook.py executes the notebook through :func:`execute`, too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "tutorial.ipynb"
RENDERED = ROOT / "docs" / "tutorial.ipynb"
CHECKS_PREFIX = "TORCHANN_CHECKS "   # the notebook's last cell prints its key numbers after this


def execute(path: Path = NOTEBOOK, timeout: int = 300):
    """Run every cell of ``path`` in a fresh kernel; returns (executed notebook, seconds).

    Raises nbclient's CellExecutionError, with the cell and its traceback, if any cell fails.
    """
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    # kernel_dirs=[] leaves only ipykernel's own "python3" spec, which starts this very
    # interpreter (sys.executable): a kernel installed elsewhere can never be picked up.
    manager = AsyncKernelManager(kernel_name="python3",
                                 kernel_spec_manager=KernelSpecManager(kernel_dirs=[]))
    with tempfile.TemporaryDirectory(prefix="torchann-notebook-runs-") as runs:
        env = {**os.environ, "TORCHANN_NOTEBOOK_BATCH": "1", "TORCHANN_NOTEBOOK_RUNS": runs}
        client = NotebookClient(notebook, km=manager, timeout=timeout, record_timing=False,
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        client.execute(env=env, cleanup_kc=True)  # shut the kernel down when done
        seconds = time.perf_counter() - start
    return notebook, seconds


def printed_checks(cells) -> dict:
    """The key numbers an executed notebook's ``cells`` printed after ``CHECKS_PREFIX``."""
    for cell in cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            for line in ("".join(text) if isinstance(text, list) else text).splitlines():
                if line.startswith(CHECKS_PREFIX):
                    return json.loads(line[len(CHECKS_PREFIX):])
    raise ValueError(f"no line starting with {CHECKS_PREFIX.strip()!r} in the notebook's outputs")


def merge_streams(notebook) -> None:
    """Join each cell's consecutive stdout (or stderr) pieces into one output block.

    A kernel sends printed text in pieces as it is flushed; Jupyter shows them as one block,
    GitHub's viewer as separate ones.
    """
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for output in cell.outputs:
            previous = merged[-1] if merged else None
            if (output.output_type == "stream" and previous is not None
                    and previous.output_type == "stream" and previous.name == output.name):
                previous.text += output.text
            else:
                merged.append(output)
        cell.outputs = merged


def clear_outputs(path: Path = NOTEBOOK) -> bool:
    """Strip outputs and execution counts from ``path`` in place; True if anything changed."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    changed = False
    for cell in notebook.cells:
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            cell.outputs, cell.execution_count, changed = [], None, True
        if cell.metadata.pop("execution", None) is not None:  # timings JupyterLab may add
            changed = True
    if changed:
        nbformat.write(notebook, path)
    return changed


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python scripts/render_notebook.py",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--clear", action="store_true",
                        help="only strip the outputs from the notebook (before committing it)")
    parser.add_argument("--notebook", type=Path, default=NOTEBOOK,
                        help="the notebook to run (default: notebooks/tutorial.ipynb)")
    parser.add_argument("--output", type=Path, default=RENDERED,
                        help="where the executed copy goes (default: docs/tutorial.ipynb)")
    args = parser.parse_args(argv)
    if args.clear:
        print(f"{args.notebook}: " + ("outputs cleared" if clear_outputs(args.notebook)
                                      else "no outputs, nothing to do"))
        return
    try:
        import ipykernel  # noqa: F401  (the kernel execute starts)
        import nbclient  # noqa: F401
        import nbformat
    except ImportError as error:
        sys.exit(f"error: {error.name} is missing; install it with `bash scripts/setup.sh dev`")
    notebook, seconds = execute(args.notebook)
    printed_checks(notebook.cells)  # the last cell ran and printed its numbers
    merge_streams(notebook)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, args.output)
    size = args.output.stat().st_size / 1e6
    print(f"executed {args.notebook} in {seconds:.0f} s; wrote {args.output} ({size:.1f} MB)")


if __name__ == "__main__":
    main()
