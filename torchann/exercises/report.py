"""What a check tells a learner: right or wrong, where, and the likely mistake.

A check compares the learner's tensors with the derivation's and, when one is
wrong, with each *known wrong* answer (the reference ingredients put together
the wrong way). A match names the mistake. The report shows shapes, the size of
the largest error and its position, never a reference value or formula.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import torch

Tensor = torch.Tensor
# The sections of the derivation a report sends the learner back to.
DOC = "docs/backprop.md"
OUTPUT_DELTA = f"{DOC}, Step II, the output layer (equations 2 to 4)"
HIDDEN_DELTA = f"{DOC}, Step II, hidden layers (equations 7 to 10)"
DERIVATIVES = f"{DOC}, Step II, g'(z) from the kept output"
GRADIENTS = f"{DOC}, Step III (equations 5, 6, 11 and 12)"
UPDATE = f"{DOC}, Step IV (the update, and annealing)"


# What each known mistake is called in a report; the checks build the wrong answers.
MISTAKES: dict[str, str] = {
    "derivative_of_z": "g'(z) written for z but given the output a: "
                       "the saved a went through g a second time",
    "saved_input": "forward saved the input z, not the output a",
    "recomputed": "backward recomputes g(z) instead of reusing the saved output",
    "no_grad_output": "backward ignores grad_output: the chain rule multiplies by it",
    "sign": "a wrong sign: it points the opposite way",
    "no_derivative": "the g'(z) factor is missing",
    "no_hidden_derivative": "the hidden layer's g'(z) factor is missing",
    "batch_mean": "a missing 1/B: the loss is the mean of the B rows' errors",
    "half": "off by a factor of 2: mind the ½ in E",
    "transpose": "a missing or extra transpose",
    "bias_rows": "the bias gradient is not summed over the rows",
    "broadcast": "a [B] tensor met a [B, 1] one and broadcast to [B, B]",
    "shape": "the right numbers in the wrong shape ([B] vs [B, 1] and the like): "
             "broadcasting hides it until it silently makes a matrix",
    "assigned": "= instead of accumulating: only the last row's share counts",
    "reversed": "the list is in reverse order: it starts with the first layer's",
    "upstream": "this follows correctly from your own δ of the layer above: fix that one first",
    "direction": "the update goes in the wrong direction (uphill)",
    "replaced": "the parameter was replaced by the step (= where it should change)",
    "no_lr": "the learning rate is missing from the update",
    "unchanged": "this parameter did not change: is it left out of the update, or "
                 "assigned to a name (p = p - ...) instead of changed in place?",
    "stale": "a layer was updated before the gradients below it were computed, "
             "so they used the new weights",
    "batch_step": "one step on the whole batch, not one step per row",
    "same_start": "every row's step was computed from the same starting weights",
    "no_anneal": "the rate never changes: annealing is missing",
    "anneal_early": "annealing is one epoch early: epoch 0 runs at the starting rate",
    "anneal_sum": "the rate shrinks by a constant amount, not by a constant factor",
}


@dataclass
class Row:
    """One checked tensor (a layer's δ, a parameter's gradient, ...)."""

    label: str
    passed: bool
    detail: str = ""            # shapes, largest error and where
    mistake: str | None = None  # a key of MISTAKES
    section: str = ""           # where in docs/backprop.md this step is derived


@dataclass
class Report:
    """A check's verdict: ``status`` is "pass", "fail" or "not yet"; ``print`` it to read it."""

    check: str
    rows: list[Row] = field(default_factory=list)
    problem: str = ""   # why nothing could be compared (not filled in, or the code raised)
    not_yet: bool = False

    @property
    def status(self) -> str:
        if self.not_yet:
            return "not yet"
        return "pass" if self.rows and all(row.passed for row in self.rows) else "fail"

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def mistakes(self) -> list[str]:
        return [row.mistake for row in self.rows if row.mistake is not None]

    def __str__(self) -> str:
        if self.problem:
            return f"{self.check}: {self.status} -- {self.problem}"
        wrong = sum(not row.passed for row in self.rows)
        lines = [f"{self.check}: {self.status}, {len(self.rows) - wrong} of {len(self.rows)} right"]
        named = set()
        for row in self.rows:
            lines.append(f"  {'right' if row.passed else 'WRONG'}  {row.label}"
                         + (f": {row.detail}" if row.detail else ""))
            if row.mistake in named:
                lines.append("         likely mistake: the same as above")
            elif row.mistake is not None:
                named.add(row.mistake)
                lines.append(f"         likely mistake: {MISTAKES[row.mistake]}")
            if not row.passed and row.section and row.section not in named:
                named.add(row.section)
                lines.append(f"         look again at: {row.section}")
        return "\n".join(lines)

    __repr__ = __str__


def tolerance(dtype: torch.dtype) -> dict:
    return {"rtol": 1e-9, "atol": 1e-12} if dtype == torch.float64 else {"rtol": 1e-4, "atol": 1e-6}


def close(yours: Tensor, other: Tensor, **tol) -> bool:
    return yours.shape == other.shape and bool(torch.allclose(yours, other, **tol))


def where(index: tuple[int, ...], names: tuple[str, ...]) -> str:
    return ", ".join(f"{name} {i}" for name, i in zip(names, index))


def compare(label: str, yours, expected: Tensor, wrong: dict[str, Tensor], *, section: str,
            index_names: tuple[str, ...] = ("row", "unit")) -> Row:
    """A Row for ``yours`` against ``expected``; ``wrong`` maps mistake keys to known wrong answers.

    ``yours`` is converted to float64; ``expected`` and ``wrong`` are float64 already.
    """
    row = judge(label, yours, expected, wrong, index_names)
    row.section = section
    return row


def judge(label, yours, expected, wrong, index_names) -> Row:
    if not isinstance(yours, torch.Tensor):
        return Row(label, False, f"a {type(yours).__name__}, not a tensor")
    tol = tolerance(yours.dtype)
    yours = yours.detach().to("cpu", torch.float64)
    shape = tuple(expected.shape)
    if close(yours, expected, **tol):
        return Row(label, True)
    for key, answer in wrong.items():
        if close(yours, answer, **tol):
            return Row(label, False, describe_error(yours, expected, index_names, tol), key)
    if yours.shape != expected.shape:
        detail = f"shape {tuple(yours.shape)}, but it should be {shape}"
        if yours.dim() == 2 and close(yours, expected.mT, **tol):
            return Row(label, False, detail, "transpose")
        if yours.numel() == expected.numel() and close(yours.reshape(shape), expected, **tol):
            return Row(label, False, detail, "shape")
        if expected.dim() == 2 and expected.shape[-1] == 1 and yours.shape == (shape[0], shape[0]):
            return Row(label, False, detail, "broadcast")
        return Row(label, False, detail)
    return Row(label, False, describe_error(yours, expected, index_names, tol))


def describe_error(yours: Tensor, expected: Tensor, index_names, tol: dict) -> str:
    """How many numbers are off, and where the worst one is and by how much.

    The size is relative to the tensor's largest expected magnitude, so that no
    report, not even for an all-zero answer, gives away an expected value.
    """
    if yours.shape != expected.shape:
        return f"shape {tuple(yours.shape)}, but it should be {tuple(expected.shape)}"
    error = (yours - expected).abs().nan_to_num(nan=float("inf"))
    flat = int(error.argmax())
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), error.shape))
    wrong = int((~torch.isclose(yours, expected, **tol)).sum())
    scale = float(expected.abs().max())
    relative = float(error.max()) / scale if scale > 0 else float("inf")
    size = f"{relative:.0%} of" if 0.01 <= relative < 1e6 else f"{relative:.0e} times"
    return (f"{wrong} of {error.numel()} off; the worst, at "
            f"{where(index, index_names) or 'the only number'}, by {size} the largest "
            "expected size")


class NotReady(Exception):
    """The learner's code could not be run to an answer: ``not_yet`` or a one-line reason."""

    def __init__(self, message: str, not_yet: bool):
        super().__init__(message)
        self.not_yet = not_yet


def run_learner(fn, *args, what: str, returns: bool = True):
    """Call the learner's ``fn``; a blank ``...`` or an exception becomes a NotReady.

    ``returns``: the answer is the return value, so ``None`` means a missing ``return``.
    """
    if has_blank(fn):
        raise NotReady(f"fill in the `...` in {what}", True)
    try:
        result = fn(*args)
    except NotImplementedError:
        raise NotReady(f"fill in the `...` in {what}", True) from None
    except Exception as error:  # the learner's bug: reported in one line, no traceback
        text = str(error).splitlines()[0] if str(error) else ""
        if "ellipsis" in text:
            raise NotReady(f"fill in the `...` in {what}", True) from None
        hint = next((hint for clue, hint in ERROR_HINTS.items() if clue in text), "")
        raise NotReady(f"{what} raised {type(error).__name__}: {text}{learner_line(error)}{hint}",
                       False) from None
    if result is Ellipsis or (isinstance(result, (list, tuple))
                              and any(item is Ellipsis for item in result)):
        raise NotReady(f"fill in the `...` in {what}", True)
    if returns and result is None:
        raise NotReady(f"{what} returned None: is its `return` missing?", False)
    return result


# Clues in an error message, and what usually causes them in exercises like these.
ERROR_HINTS = {
    "cannot be multiplied": " (a matrix product's shapes do not fit: a missing or extra "
                            "transpose, or a row taken as x[i] instead of x[i:i + 1]?)",
    "leaf Variable that requires grad": " (change parameters inside `with torch.no_grad():`)",
}


def has_blank(fn) -> bool:
    """Whether the source of ``fn`` still holds a ``...`` to fill in (outside subscripts)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):  # no source to read: judge by what it returns
        return False
    in_subscript = {id(node) for sub in ast.walk(tree) if isinstance(sub, ast.Subscript)
                    for node in ast.walk(sub.slice)}
    return any(isinstance(node, ast.Constant) and node.value is Ellipsis
               and id(node) not in in_subscript for node in ast.walk(tree))


def learner_line(error: BaseException) -> str:
    """" (line N)" of the last frame outside torch and torchann: the learner's own line."""
    library = (Path(torch.__file__).parent, Path(__file__).resolve().parents[1])
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if not any(Path(f.filename).resolve().is_relative_to(root) for root in library)]
    return f" (line {frames[-1].lineno})" if frames else ""


def reporting(check):
    """Decorates a check: learner code that is blank or raised becomes its one-line Report."""
    @functools.wraps(check)
    def run(*args, **kwargs) -> Report:
        try:
            return check(*args, **kwargs)
        except NotReady as reason:
            return Report(check.__name__, problem=str(reason), not_yet=reason.not_yet)
    return run
