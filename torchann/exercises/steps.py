"""check_deltas, check_gradients, check_update, check_schedule: steps II to IV and annealing.

Each runs the learner's code on a float64 copy of the net (the learner's net is
never changed) and compares with the derivation of ``torchann.backprop`` on
another copy. The batch convention is the library's: E is the mean over the B
rows of ½ Σ (a − t)², so δ_L carries 1/B and B = 1 is the seed's online rule.
"""

from __future__ import annotations

import copy
import numbers

import torch

from torchann.backprop import ExplicitBackprop, through_activation
from torchann.checks import check_learning_rate
from torchann.ensemble.model import Ensemble
from torchann.exercises.activation import DERIVATIVE_OF_Z
from torchann.exercises.report import (GRADIENTS, HIDDEN_DELTA, OUTPUT_DELTA, UPDATE, NotReady,
                                       Report, Row, compare, reporting, run_learner)
from torchann.nn import LayerStack
from torchann.train import lr_at

Tensor = torch.Tensor
WEIGHT_INDEX = ("input", "unit")


def prepare(check: str, net, x, t):
    """Validated float64 copies: (reference derivation, the learner's net, x, t)."""
    if not isinstance(net, LayerStack) or isinstance(net, Ensemble):
        raise TypeError(f"{check} needs a torchann net (SingleLayerNet, TwoLayerNet or MLP), "
                        f"got {type(net).__name__}")
    tensors = []
    for label, value, columns in (("x", x, net.n_in), ("t", t, net.n_out)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{check}: {label} must be a tensor, got {type(value).__name__}")
        if value.dim() != 2 or value.shape[1] != columns:
            raise ValueError(f"{check}: {label} must be (rows, {columns}) for this "
                             f"{net.architecture()} net, got shape {tuple(value.shape)}")
        tensors.append(value.detach().to("cpu", torch.float64))
    if tensors[0].shape[0] != tensors[1].shape[0] or tensors[0].shape[0] == 0:
        raise ValueError(f"{check}: x and t need the same number of rows (at least one), got "
                         f"{tensors[0].shape[0]} and {tensors[1].shape[0]}")
    reference = copy.deepcopy(net).to("cpu", torch.float64)
    return ExplicitBackprop(reference), copy.deepcopy(reference), *tensors


def answers(given, net, x, t, what: str):
    """The learner's answer: ``given`` itself, or what the function ``given`` returns."""
    if callable(given):
        return run_learner(given, net, x, t, what=f"{getattr(given, '__name__', 'your function')}")
    if given is Ellipsis:
        raise NotReady(f"fill in the `...` for {what}", True)
    return given


def layer_names(derivation: ExplicitBackprop) -> list[str]:
    return [name.rsplit(".", 1)[0] for name in derivation.names[::2]]


@reporting
def check_deltas(my_deltas, net, x, t) -> Report:
    """Step II: the learner's error signals δ for ``net`` on inputs ``x`` and targets ``t``.

    ``my_deltas`` is a function ``(net, x, t)`` or its result: a list [δ_1, ..., δ_L]
    (one (B, units) tensor per layer, in layer order), or a single tensor, checked
    as the output layer's δ_L.
    """
    check = "check_deltas"
    derivation, learner_net, x, t = prepare(check, net, x, t)
    yours = answers(my_deltas, learner_net, x, t, "the deltas")
    activations = derivation.forward(x)
    deltas, _ = derivation.backward(activations, t)
    L = len(deltas)
    only_output = isinstance(yours, Tensor)
    if only_output:
        yours = [None] * (L - 1) + [yours]
    elif not isinstance(yours, (list, tuple)) or len(yours) != L:
        return Report(check, [Row("the deltas", False, f"expected a list of {L} tensors "
                                  "[δ_1, ..., δ_L] or one tensor (δ_L), got "
                                  f"{describe(yours)}")])
    names, B = layer_names(derivation), x.shape[0]
    if L > 1 and all(isinstance(d, Tensor) and d.shape == r.shape and
                     torch.allclose(d.detach().double(), r) for d, r in zip(yours[::-1], deltas)):
        return Report(check, [Row("the deltas", False, f"{L} tensors, each right for another "
                                  "layer", "reversed", HIDDEN_DELTA)])
    rows = []
    for l in range(L, 0, -1):  # output first: a hidden δ's mistake may come from above
        if only_output and l < L:
            continue
        expected = deltas[l - 1]
        wrong = {}
        if l < L and isinstance(yours[l], Tensor) and yours[l].shape == deltas[l].shape \
                and not rows[-1].passed:
            wrong["upstream"] = through_activation(
                derivation.activations[l - 1],
                yours[l].detach().double() @ derivation.weights[l].mT, activations[l])
        wrong |= {"sign": -expected, "half": 2 * expected}
        if B > 1:
            wrong["batch_mean"] = B * expected
        g = derivation.activations[l - 1]
        if l == L:
            error = (activations[-1] - t) / B
            wrong["no_derivative"] = error
            if g in DERIVATIVE_OF_Z:
                wrong["derivative_of_z"] = error * DERIVATIVE_OF_Z[g](activations[-1])
        else:
            incoming = deltas[l] @ derivation.weights[l].mT
            wrong["no_hidden_derivative"] = incoming
            if g in DERIVATIVE_OF_Z:
                wrong["derivative_of_z"] = incoming * DERIVATIVE_OF_Z[g](activations[l])
            W = derivation.weights[l]
            if W.shape[0] == W.shape[1]:
                wrong["transpose"] = through_activation(g, deltas[l] @ W, activations[l])
        kind = "output" if l == L else "hidden"
        rows.append(compare(f"δ_{l} ({kind} layer {names[l - 1]!r}, shape {tuple(expected.shape)})",
                            yours[l - 1], expected, wrong,
                            section=OUTPUT_DELTA if l == L else HIDDEN_DELTA))
    return Report(check, rows[::-1])


@reporting
def check_gradients(my_gradients, net, x, t) -> Report:
    """Step III: the learner's ∂E/∂W_l and ∂E/∂b_l for every layer.

    ``my_gradients`` is a function ``(net, x, t)`` or its result: a list in
    ``net.parameters()`` order ([∂E/∂W_1, ∂E/∂b_1, ...]) or a dict keyed by the
    names of ``net.named_parameters()``.
    """
    check = "check_gradients"
    derivation, learner_net, x, t = prepare(check, net, x, t)
    yours = answers(my_gradients, learner_net, x, t, "the gradients")
    names = derivation.names
    if isinstance(yours, dict):
        missing = [name for name in names if name not in yours]
        if missing:
            return Report(check, [Row("the gradients", False, f"no entry for {', '.join(missing)}"
                                      f" (the keys are {', '.join(names)})")])
        yours = [yours[name] for name in names]
    if not isinstance(yours, (list, tuple)) or len(yours) != len(names):
        return Report(check, [Row("the gradients", False, f"expected {len(names)} tensors, one "
                                  f"per parameter ({', '.join(names)}), got {describe(yours)}")])
    activations = derivation.forward(x)
    deltas, _ = derivation.backward(activations, t)
    expected = derivation.gradients(activations, deltas)
    last_row = derivation.gradients([a[-1:] for a in activations], [d[-1:] for d in deltas])
    B, rows = x.shape[0], []
    for i, (name, yours_p, reference) in enumerate(zip(names, yours, expected)):
        wrong = {"sign": -reference, "half": 2 * reference}
        if B > 1:
            wrong |= {"batch_mean": B * reference, "assigned": last_row[i]}
            if i % 2:
                wrong["bias_rows"] = deltas[i // 2]
        rows.append(compare(f"∂E/∂{name} (shape {tuple(reference.shape)})", yours_p, reference,
                            wrong, section=GRADIENTS,
                            index_names=WEIGHT_INDEX if i % 2 == 0 else ("row", "unit")))
    return Report(check, rows)


def descend(derivation: ExplicitBackprop, x: Tensor, t: Tensor, lr: float, *, online: bool,
            stale: bool = False) -> None:
    """The reference step IV, in place: one step on the batch, or one per row in order.

    ``stale=True`` is the known mistake: each layer updated before the δ below it is formed.
    """
    for x_n, t_n in (zip(x.split(1), t.split(1)) if online else [(x, t)]):
        activations = derivation.forward(x_n)
        if not stale:
            deltas, _ = derivation.backward(activations, t_n)
            for p, grad in zip(parameters(derivation), derivation.gradients(activations, deltas)):
                p.sub_(grad, alpha=lr)
            continue
        delta = derivation.output_delta(activations[-1], t_n) / x_n.shape[0]
        for l in range(len(derivation.weights) - 1, -1, -1):
            W = derivation.weights[l]
            W.sub_(activations[l].mT @ delta, alpha=lr)
            derivation.biases[l].sub_(delta.sum(dim=0, keepdim=True), alpha=lr)
            if l:
                delta = through_activation(derivation.activations[l - 1], delta @ W.mT,
                                           activations[l])


def parameters(derivation: ExplicitBackprop) -> list[Tensor]:
    return [p for pair in zip(derivation.weights, derivation.biases) for p in pair]


@reporting
def check_update(my_step, net, x, t, lr: float, *, online: bool = False) -> Report:
    """Step IV: the learner's ``my_step(net, x, t, lr)`` must change ``net``'s parameters in place.

    ``online=False``: one step p ← p − lr ∂E/∂p on the whole batch. ``online=True``:
    one step per row of ``x``, in order (the seed's online epoch).
    """
    check = "check_update"
    if not callable(my_step):
        raise TypeError(f"{check} needs your step function (net, x, t, lr), got "
                        f"{type(my_step).__name__}")
    try:
        lr = check_learning_rate(lr)
    except (TypeError, ValueError) as error:  # the library's own check, named for this call
        raise type(error)(f"{check}: {error}") from None
    derivation, learner_net, x, t = prepare(check, net, x, t)
    start = [p.clone() for p in parameters(derivation)]
    run_learner(my_step, learner_net, x, t, lr, what=getattr(my_step, "__name__", "your step"),
                returns=False)
    learner = ExplicitBackprop(learner_net)
    yours = parameters(learner)

    def after(**kwargs) -> list[Tensor]:
        twin = copy.copy(derivation)
        twin.weights = [w.clone() for w in derivation.weights]
        twin.biases = [b.clone() for b in derivation.biases]
        descend(twin, x, t, **kwargs)
        return parameters(twin)

    batch_step = after(lr=lr, online=False)
    expected = after(lr=lr, online=True) if online else batch_step
    grads = [(p0 - p1) / lr for p0, p1 in zip(start, batch_step)]
    variants = {"unchanged": start,
                "direction": [p + lr * g for p, g in zip(start, grads)],
                "no_lr": [p - g for p, g in zip(start, grads)],
                "replaced": [-lr * g for g in grads]}
    B = x.shape[0]
    if online:
        variants["batch_step"] = batch_step
        variants["same_start"] = [p - B * lr * g for p, g in zip(start, grads)]
    else:
        if B > 1:
            variants["batch_mean"] = [p - B * lr * g for p, g in zip(start, grads)]
        variants["stale"] = after(lr=lr, online=False, stale=True)
    rows = []
    for i, name in enumerate(derivation.names):
        wrong = {key: value[i] for key, value in variants.items()
                 if not torch.allclose(value[i], expected[i])}
        rows.append(compare(f"{name} after the {'epoch' if online else 'step'}", yours[i],
                            expected[i], wrong, section=UPDATE,
                            index_names=WEIGHT_INDEX if i % 2 == 0 else ("row", "unit")))
    return Report(check, rows)


@reporting
def check_schedule(my_lr_at, lr0: float = 0.5, anneal: float = 0.9, epochs: int = 10) -> Report:
    """The learner's ``my_lr_at(epoch, lr0, anneal)``: the rate during 0-based ``epoch``."""
    check = "check_schedule"
    if not callable(my_lr_at):
        raise TypeError(f"{check} needs your function (epoch, lr0, anneal), got "
                        f"{type(my_lr_at).__name__}")
    yours = []
    for epoch in range(epochs):
        value = run_learner(my_lr_at, epoch, lr0, anneal,
                            what=getattr(my_lr_at, "__name__", "your function"))
        if isinstance(value, Tensor) and value.numel() == 1:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return Report(check, [Row("the rate", False, f"epoch {epoch} gave "
                                      f"{describe(value)}, not a number")])
        yours.append(float(value))
    e = torch.arange(epochs, dtype=torch.float64)
    expected = torch.tensor([lr_at(i, lr0, anneal) for i in range(epochs)], dtype=torch.float64)
    wrong = {"no_anneal": torch.full_like(e, lr0), "anneal_early": expected * anneal,
             "anneal_sum": lr0 * (1 - (1 - anneal) * e)}
    return Report(check, [compare(f"the rate in epochs 0 to {epochs - 1}",
                                  torch.tensor(yours, dtype=torch.float64), expected, wrong,
                                  section=UPDATE, index_names=("epoch",))])


def describe(value) -> str:
    if isinstance(value, Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"
