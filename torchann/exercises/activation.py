"""check_activation: a learner's activation Function against torch's op and the derivation.

The Function is run twice. Once through ``apply``, as autograd runs it, for the
values and for gradcheck and gradgradcheck in float64. And once by hand, with a
recording context in place of autograd's ``ctx``: that shows what ``forward``
saved, and lets the check hand ``backward`` a *different* saved output to see
whether the gradient follows it (it must: g'(z) is a formula of the saved a).
"""

from __future__ import annotations

import torch
from torch.autograd import gradcheck, gradgradcheck
from torch.overrides import TorchFunctionMode

from torchann.exercises.report import (DERIVATIVES, NotReady, Report, Row, compare, reporting,
                                       run_learner)
from torchann.functional import ACTIVATION_NAMES, ACTIVATIONS, canonical_name

Tensor = torch.Tensor

# g'(z) written as a function of z: what a backward computes if it treats the saved a as z.
DERIVATIVE_OF_Z = {
    "sigmoid": lambda u: torch.sigmoid(u) * (1 - torch.sigmoid(u)),
    "tanh": lambda u: 1 - torch.tanh(u) ** 2,
    "softplus": torch.sigmoid,
}
# Ops whose appearance in backward means g(z) is computed again.
FORWARD_OPS = {"sigmoid": {"sigmoid", "exp", "expm1", "logistic"}, "tanh": {"tanh", "exp", "cosh"},
               "softplus": {"softplus", "sigmoid", "log1p", "logaddexp"}, "relu": {"relu", "clamp"},
               "identity": set()}


class RecordingContext:
    """Stands in for autograd's ``ctx``: keeps what forward saves."""

    needs_input_grad = (True,)

    def __init__(self):
        self.saved_tensors = ()

    def save_for_backward(self, *tensors):
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors):
        pass

    def set_materialize_grads(self, value):
        pass


class OpNames(TorchFunctionMode):
    """Records the name of every torch function and Tensor method called inside it."""

    def __init__(self):
        super().__init__()
        self.names = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.names.add(getattr(func, "__name__", "").strip("_"))
        return func(*args, **(kwargs or {}))


def kept_tensors(ctx) -> list[Tensor]:
    """Everything the context holds: the saved tensors and any tensor set as an attribute."""
    held = list(ctx.saved_tensors) + [v for k, v in vars(ctx).items()
                                      if k != "saved_tensors" and isinstance(v, Tensor)]
    return [t for t in held if isinstance(t, Tensor)]


def same(t: Tensor, value: Tensor) -> bool:
    return t.shape == value.shape and bool(torch.allclose(t.detach().to(value.dtype), value,
                                                          rtol=1e-12, atol=1e-15))


def holds(ctx, value: Tensor) -> bool:
    return any(same(t, value) for t in kept_tensors(ctx))


@reporting
def check_activation(function, like: str = "sigmoid") -> Report:
    """Check a learner's ``torch.autograd.Function`` that should compute the activation ``like``.

    Rows: forward's values against torch's op; backward's gradient against the
    derivation; gradcheck and gradgradcheck in float64; what forward saved and
    whether backward reuses it. A wrong answer is reported, never raised.
    """
    if not (isinstance(function, type) and issubclass(function, torch.autograd.Function)):
        raise TypeError("check_activation needs a torch.autograd.Function subclass (a class "
                        f"with forward and backward), got {type(function).__name__} {function!r}")
    name = canonical_name(like)
    if name not in ACTIVATION_NAMES:
        raise ValueError(f"check_activation checks elementwise activations "
                         f"({', '.join(ACTIVATION_NAMES)}), got {like!r}")
    check = f"check_activation({function.__name__}, like={name!r})"
    builtin, derivative = ACTIVATIONS[name].builtin, ACTIVATIONS[name].derivative
    generator = torch.Generator().manual_seed(0)
    z = torch.rand(5, 3, generator=generator, dtype=torch.float64) * 6 - 3
    # an incoming gradient that is not all ones, so that forgetting grad_output shows
    grad = torch.rand(5, 3, generator=generator, dtype=torch.float64) + 0.5
    a = builtin(z)
    ctx = RecordingContext()
    a_yours = run_learner(function.forward, ctx, z.clone(), what=f"{function.__name__}.forward")
    if isinstance(a_yours, Tensor):  # as forward returned it, before backward can change it
        a_yours = a_yours.detach().clone()
    with OpNames() as ops:
        grad_yours = run_learner(function.backward, ctx, grad.clone(),
                                 what=f"{function.__name__}.backward")
    if isinstance(grad_yours, tuple) and len(grad_yours) == 1:  # autograd accepts (grad,) too
        grad_yours, = grad_yours

    rows = [compare("forward: a = g(z), against torch's own op", a_yours, a, {},
                    section=DERIVATIVES, index_names=("row", "column"))]
    wrong = {"sign": -grad * derivative(a), "no_grad_output": derivative(a),
             "saved_input": grad * derivative(z)}
    if name in DERIVATIVE_OF_Z:
        wrong["derivative_of_z"] = grad * DERIVATIVE_OF_Z[name](a)
    rows.append(compare("backward: grad_output times g'(z)", grad_yours, grad * derivative(a),
                        wrong, section=DERIVATIVES, index_names=("row", "column")))
    rows += autograd_rows(function)

    kept = a_yours.to(a.dtype) if isinstance(a_yours, Tensor) and a_yours.shape == a.shape else a
    saved_output, saved_input = holds(ctx, kept), holds(ctx, z) and not torch.equal(a, z)
    if name == "identity":  # nothing needs keeping
        rows.append(Row("forward keeps nothing it does not need", True))
    elif saved_input and not saved_output:
        rows.append(Row("forward saves the output a", False, "it kept the input z", "saved_input",
                        DERIVATIVES))
    elif not saved_output:
        rows.append(Row("forward saves the output a", False, "it kept neither a nor z",
                        section=DERIVATIVES))
    else:
        rows.append(Row("forward saves the output a", True))
    if rows[1].passed:  # right values: are they reached from the saved output alone?
        rows.append(reuse_row(function, ctx, a, grad, derivative, ops.names & FORWARD_OPS[name]))
    return Report(check, rows)


def autograd_rows(function) -> list[Row]:
    """gradcheck and gradgradcheck of ``function.apply`` in float64, as torch runs it."""
    z = (torch.rand(4, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 4 - 2)
    rows = []
    for label, test in (("gradcheck (float64)", gradcheck),
                        ("gradgradcheck (float64)", gradgradcheck)):
        try:
            passed = test(function.apply, (z.clone().requires_grad_(),), raise_exception=False)
        except Exception as error:  # the learner's code broke under autograd
            text = str(error).splitlines()[0] if str(error) else ""
            rows.append(Row(label, False, f"raised {type(error).__name__}: {text}"))
            continue
        rows.append(Row(label, bool(passed), "" if passed else "the analytic and numerical "
                        "gradients differ", section=DERIVATIVES))
    return rows


def reuse_row(function, ctx, a, grad, derivative, recompute_ops) -> Row:
    """Hand backward another saved output a'; its gradient must follow a', not the input."""
    label = "backward reuses the saved output"
    if recompute_ops:
        return Row(label, False, f"backward calls {', '.join(sorted(recompute_ops))}", "recomputed",
                   DERIVATIVES)
    other = torch.sigmoid(torch.linspace(-2.0, 2.5, a.numel(), dtype=a.dtype)).reshape(a.shape)
    other = other * (a.max() - a.min()) + a.min()  # another output in the same range as a
    swapped = RecordingContext()
    swapped.saved_tensors = tuple(other if isinstance(t, Tensor) and same(t, a) else t
                                  for t in ctx.saved_tensors)
    for key, value in vars(ctx).items():
        if key != "saved_tensors":
            setattr(swapped, key, other if isinstance(value, Tensor) and same(value, a) else value)
    try:
        result = run_learner(function.backward, swapped, grad.clone(), what="backward")
    except NotReady as reason:
        return Row(label, False, str(reason))
    if isinstance(result, tuple) and len(result) == 1:
        result, = result
    if isinstance(result, Tensor) and torch.allclose(result.to(a.dtype), grad * derivative(other)):
        return Row(label, True)
    return Row(label, False, "its gradient does not follow the saved output", "recomputed",
               DERIVATIVES)
