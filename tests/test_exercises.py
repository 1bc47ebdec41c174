"""torchann.exercises: every known mistake is named, right answers pass, no report gives the answer.

The table below holds one deliberately wrong implementation per known mistake.
Each must be caught and named; the right implementations (the library's own)
must pass. The exercise notebook runs twice, blank and with tests/exercise_solutions.py.
"""

import importlib.util
import re
from pathlib import Path

import pytest
import torch
from torch import nn

from torchann import MLP, TwoLayerNet, backprop_by_hand
from torchann.exercises import (MISTAKES, check_activation, check_deltas, check_gradients,
                                check_schedule, check_update)
from torchann.functional import (ACTIVATION_NAMES, ACTIVATIONS, Identity, ReLU, Sigmoid, Softplus,
                                 Tanh)
from torchann.train import lr_at

FUNCTIONS = {"identity": Identity, "sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU,
             "softplus": Softplus}
ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "exercises.ipynb"
X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
T = torch.tensor([[0.0], [1.0], [1.0], [0.0]], dtype=torch.float64)
NET = TwoLayerNet(2, 3, 1, seed=0, dtype=torch.float64)
SQUARE = MLP([2, 2, 2], seed=3, dtype=torch.float64)      # W_2 is square: δ W fits as well as δ Wᵀ
T2 = torch.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)


# ---- a learner's code, written the way a person would, right and wrong ----------------------

def activation(derivative_of, saved="a", recompute=False):
    """A sigmoid Function whose backward multiplies by ``derivative_of(kept)``."""
    class Learner(torch.autograd.Function):
        @staticmethod
        def forward(ctx, z):
            a = torch.sigmoid(z)
            ctx.save_for_backward(a if saved == "a" else z)
            return a

        @staticmethod
        def backward(ctx, grad_output):
            kept, = ctx.saved_tensors
            if recompute:
                kept = torch.sigmoid(kept)
            return derivative_of(kept, grad_output)
    return Learner


class RecomputingSigmoid(torch.autograd.Function):
    """Saves the output, but keeps z too and computes σ(z) again in backward."""

    @staticmethod
    def forward(ctx, z):
        a = torch.sigmoid(z)
        ctx.save_for_backward(a)
        ctx.z = z
        return a

    @staticmethod
    def backward(ctx, grad_output):
        s = torch.sigmoid(ctx.z)
        return grad_output * s * (1 - s)


def flat_target_delta(net, x, t):
    """The output δ with the targets flattened to [B]: (B, 1) - (B,) broadcasts to (B, B)."""
    a = forward(net, x)[-1]
    return a * (1 - a) * (a - t.flatten()) / len(x)


def forward(net, x):
    a = [x]
    for layer in net.layers:
        a.append(torch.sigmoid(a[-1] @ layer.weight + layer.bias))
    return a


def deltas(net, x, t, *, output=None, hidden=None, scale=1.0):
    """δ_L then δ_l, with the output's or the hidden layers' rule replaceable."""
    a = forward(net, x)
    delta = (output or (lambda a_L: a_L * (1 - a_L) * (a_L - t) / len(x)))(a[-1]) * scale
    result = [delta]
    for l in range(len(net.layers) - 1, 0, -1):
        W = net.layers[l].weight
        delta = (hidden or (lambda d, W, a_l: a_l * (1 - a_l) * (d @ W.T)))(delta, W, a[l])
        result.insert(0, delta)
    return result


def gradients(net, x, t, *, weight=None, bias=None):
    a, d = forward(net, x), deltas(net, x, t)
    out = []
    for a_in, delta in zip(a[:-1], d):
        out.append((weight or (lambda a_in, delta: a_in.T @ delta))(a_in, delta))
        out.append((bias or (lambda delta: delta.sum(0, keepdim=True)))(delta))
    return out


def assigned_gradients(net, x, t):
    """Loops over the rows, but assigns each row's share where it should add it."""
    out = []
    for a_in, delta in zip(forward(net, x)[:-1], deltas(net, x, t)):
        for i in range(len(x)):
            grad_W = a_in[i:i + 1].T @ delta[i:i + 1]
            grad_b = delta[i:i + 1]
        out += [grad_W, grad_b]
    return out


def named_gradients(net, x, t):
    return dict(zip([name for name, _ in net.named_parameters()], gradients(net, x, t)))


def step(change):
    """A step function whose update of each parameter is ``change(p, grad, lr)``, in place."""
    def my_step(net, x, t, lr):
        grads = gradients(net, x, t)
        with torch.no_grad():
            for p, grad in zip(net.parameters(), grads):
                change(p, grad, lr)
    return my_step


def right_step(p, grad, lr):
    p -= lr * grad


def rebinding_step(net, x, t, lr):
    for p, grad in zip(net.parameters(), gradients(net, x, t)):
        p = p - lr * grad  # noqa: F841  (the mistake: a new name, the parameter unchanged)


def stale_step(net, x, t, lr):
    """Updates the output layer, then forms the hidden δ with the new output weights."""
    a = forward(net, x)
    delta_2 = a[2] * (1 - a[2]) * (a[2] - t) / len(x)
    with torch.no_grad():
        net.output.weight -= lr * a[1].T @ delta_2
        net.output.bias -= lr * delta_2.sum(0, keepdim=True)
        delta_1 = a[1] * (1 - a[1]) * (delta_2 @ net.output.weight.T)
        net.hidden.weight -= lr * x.T @ delta_1
        net.hidden.bias -= lr * delta_1.sum(0, keepdim=True)


def online(my_step, same_start=False):
    def epoch(net, x, t, lr):
        if same_start:  # every row's gradient from the weights the epoch started with
            grads = [gradients(net, x[i:i + 1], t[i:i + 1]) for i in range(len(x))]
            with torch.no_grad():
                for row in grads:
                    for p, g in zip(net.parameters(), row):
                        p -= lr * g
            return
        for i in range(len(x)):
            my_step(net, x[i:i + 1], t[i:i + 1], lr)
    return epoch


SIG = lambda a, g: g * a * (1 - a)  # noqa: E731
WRONG = {  # mistake key -> the check of a wrong implementation
    "derivative_of_z": lambda: check_activation(
        activation(lambda a, g: g * torch.sigmoid(a) * (1 - torch.sigmoid(a)))),
    "saved_input": lambda: check_activation(activation(SIG, saved="z")),
    "recomputed": lambda: check_activation(RecomputingSigmoid),
    "no_grad_output": lambda: check_activation(activation(lambda a, g: a * (1 - a))),
    "sign": lambda: check_deltas(
        lambda n, x, t: deltas(n, x, t, output=lambda a: a * (1 - a) * (t - a) / len(x)),
        NET, X, T),
    "no_derivative": lambda: check_deltas(
        lambda n, x, t: deltas(n, x, t, output=lambda a: (a - t) / len(x))[-1], NET, X, T),
    "no_hidden_derivative": lambda: check_deltas(
        lambda n, x, t: deltas(n, x, t, hidden=lambda d, W, a: d @ W.T), NET, X, T),
    "batch_mean": lambda: check_gradients(
        lambda n, x, t: [g * len(x) for g in gradients(n, x, t)], NET, X, T),
    "half": lambda: check_deltas(lambda n, x, t: deltas(n, x, t, scale=2.0), NET, X, T),
    "transpose": lambda: check_gradients(
        lambda n, x, t: gradients(n, x, t, weight=lambda a, d: d.T @ a), NET, X, T),
    "bias_rows": lambda: check_gradients(
        lambda n, x, t: gradients(n, x, t, bias=lambda d: d), NET, X, T),
    "broadcast": lambda: check_deltas(flat_target_delta, NET, X, T),
    "shape": lambda: check_gradients(
        lambda n, x, t: gradients(n, x, t, bias=lambda d: d.sum(0)), NET, X, T),
    "assigned": lambda: check_gradients(assigned_gradients, NET, X, T),
    "reversed": lambda: check_deltas(lambda n, x, t: deltas(n, x, t)[::-1], NET, X, T),
    "upstream": lambda: check_deltas(
        lambda n, x, t: deltas(n, x, t, output=lambda a: (a - t) / len(x)), NET, X, T),
    "direction": lambda: check_update(step(lambda p, g, lr: p.add_(lr * g)), NET, X, T, 0.5),
    "replaced": lambda: check_update(step(lambda p, g, lr: p.copy_(-lr * g)), NET, X, T, 0.5),
    "no_lr": lambda: check_update(step(lambda p, g, lr: p.sub_(g)), NET, X, T, 0.5),
    "unchanged": lambda: check_update(rebinding_step, NET, X, T, 0.5),
    "stale": lambda: check_update(stale_step, NET, X, T, 0.5),
    "batch_step": lambda: check_update(step(right_step), NET, X, T, 0.5, online=True),
    "same_start": lambda: check_update(online(None, same_start=True), NET, X, T, 0.5,
                                       online=True),
    "no_anneal": lambda: check_schedule(lambda epoch, lr0, anneal: lr0),
    "anneal_early": lambda: check_schedule(lambda epoch, lr0, anneal: lr0 * anneal ** (epoch + 1)),
    "anneal_sum": lambda: check_schedule(lambda e, lr0, anneal: lr0 * (1 - e * (1 - anneal))),
}
# Beyond the table: a square W_2, where δ W has the right shape and only its values are wrong.
SQUARE_TRANSPOSE = lambda: check_deltas(  # noqa: E731
    lambda n, x, t: deltas(n, x, t, hidden=lambda d, W, a: a * (1 - a) * (d @ W)), SQUARE, X, T2)

RIGHT = {
    "activation": lambda: [check_activation(f, like=name) for f, name in
                           ((Sigmoid, "sigmoid"), (Tanh, "tanh"), (Softplus, "softplus"))],
    "deltas": lambda: [check_deltas(deltas, NET, X, T), check_deltas(deltas, SQUARE, X, T2),
                       check_deltas(lambda n, x, t: deltas(n, x, t)[-1], NET, X, T)],
    "gradients": lambda: [check_gradients(gradients, NET, X, T),
                          check_gradients(named_gradients, NET, X, T)],
    "update": lambda: [check_update(step(right_step), NET, X, T, 0.5),
                       check_update(online(step(right_step)), NET, X, T, 0.5, online=True)],
    "schedule": lambda: [check_schedule(lambda epoch, lr0, anneal: lr0 * anneal ** epoch)],
}


def test_the_table_covers_every_known_mistake():
    assert set(WRONG) == set(MISTAKES) and len(WRONG) >= 12


@pytest.mark.parametrize("mistake", sorted(WRONG))
def test_each_known_mistake_is_caught_and_named(mistake):
    report = WRONG[mistake]()
    assert report.status == "fail", report
    # a wrong δ above makes the hidden δ wrong too, named as following from it
    follows = {"upstream": {"no_derivative"}}.get(mistake, {"upstream"})
    assert mistake in report.mistakes and set(report.mistakes) <= {mistake, *follows}, report
    assert MISTAKES[mistake] in str(report)
    assert "look again at: docs/backprop.md" in str(report)


def test_a_transpose_is_named_when_the_wrong_product_has_the_right_shape():
    report = SQUARE_TRANSPOSE()
    assert report.status == "fail" and report.mistakes == ["transpose"], report


def test_a_transpose_that_breaks_the_product_is_one_line_with_a_hint():
    report = check_deltas(lambda n, x, t: deltas(n, x, t, hidden=lambda d, W, a: d @ W),
                          NET, X, T)
    assert report.status == "fail" and "\n" not in str(report)
    assert "cannot be multiplied" in str(report) and "transpose" in str(report)
    assert re.search(r"\(line \d+\)", str(report))  # the learner's own line, not torch's


def test_an_update_outside_no_grad_is_one_line_with_a_hint():
    def no_no_grad(net, x, t, lr):
        for p, grad in zip(net.parameters(), gradients(net, x, t)):
            p -= lr * grad
    report = check_update(no_no_grad, NET, X, T, 0.5)
    assert report.status == "fail" and "\n" not in str(report)
    assert "torch.no_grad()" in str(report)


@pytest.mark.parametrize("kind", sorted(RIGHT))
def test_right_implementations_pass(kind):
    for report in RIGHT[kind]():
        assert report.status == "pass", report


class TextbookSigmoid(torch.autograd.Function):
    """Right, though its forward's rounding differs from torch.sigmoid's."""

    @staticmethod
    def forward(ctx, z):
        a = torch.exp(z) / (1 + torch.exp(z))
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, grad_output):
        a, = ctx.saved_tensors
        return (grad_output * a * (1 - a),)


def test_a_right_function_passes_whatever_its_rounding_or_return_form():
    assert check_activation(TextbookSigmoid).passed, check_activation(TextbookSigmoid)


def test_float32_answers_pass_with_float32_tolerance():
    net32 = TwoLayerNet(2, 3, 1, seed=0)
    report = check_deltas(lambda n, x, t: [d.float() for d in deltas(n, x, t)], net32,
                          X.float(), T.float())
    assert report.passed, report


def test_an_unknown_mistake_still_says_where_it_is():
    def off_by_one_number(net, x, t):
        d = deltas(net, x, t)
        d[0] = d[0].clone()
        d[0][2, 1] += 0.01
        return d
    report = check_deltas(off_by_one_number, NET, X, T)
    assert report.status == "fail" and report.mistakes == []
    assert "1 of 12 off; the worst, at row 2, unit 1, by" in str(report)


def reference_numbers() -> list[float]:
    steps = backprop_by_hand(NET, X, T)
    values = [*steps.deltas, *steps.gradients.values(), *NET.parameters()]
    values += [p - 0.5 * g for p, g in zip(NET.parameters(), steps.gradients.values())]
    z = torch.rand(5, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 6 - 3
    for name in ("sigmoid", "tanh"):
        a = ACTIVATIONS[name].builtin(z)
        values += [a, ACTIVATIONS[name].derivative(a)]
    values.append(torch.tensor([lr_at(e, 0.5, 0.9) for e in range(1, 10)]))
    return [v for tensor in values for v in tensor.detach().flatten().tolist() if abs(v) > 1e-3]


def test_no_report_contains_a_reference_value():
    reports = [WRONG[key]() for key in WRONG] + [SQUARE_TRANSPOSE()]
    reports += [r for make in RIGHT.values() for r in make()]
    text = "\n".join(str(r) for r in reports)
    for value in reference_numbers():
        for shown in {f"{value:.2f}", f"{value:.3f}", f"{value:.4f}", f"{value:.3g}",
                      f"{abs(value):.1e}", f"{abs(value):.2e}"}:
            assert shown not in text, f"a report shows {shown}, an expected value"
    # the only numbers a report prints are counts, positions, shapes and percentages
    assert not re.search(r"\d\.\d", text.replace("1.0e", "")), re.findall(r".*\d\.\d.*", text)


@pytest.mark.parametrize("call, problem", [
    (lambda: check_activation(lambda z: z), "needs a torch.autograd.Function subclass"),
    (lambda: check_activation(Sigmoid, like="softmax"), "checks elementwise activations"),
    (lambda: check_activation(Sigmoid, like="swish"), "unknown activation 'swish'"),
    (lambda: check_deltas(deltas, nn.Linear(2, 1), X, T), "needs a torchann net"),
    (lambda: check_gradients(gradients, NET, X[:, :1], T), "x must be (rows, 2)"),
    (lambda: check_deltas(deltas, NET, X, T[:3]), "the same number of rows"),
    (lambda: check_deltas(deltas, NET, X.tolist(), T), "x must be a tensor"),
    (lambda: check_update(step(right_step), NET, X, T, -0.1), "lr must be a finite number > 0"),
    (lambda: check_update(step(right_step), NET, X, T, float("inf")), "lr must be a finite"),
    (lambda: check_update("step", NET, X, T, 0.1), "needs your step function"),
    (lambda: check_schedule(0.5), "needs your function"),
])
def test_bad_input_to_a_check_is_one_line(call, problem):
    with pytest.raises((TypeError, ValueError)) as raised:
        call()
    assert problem in str(raised.value) and "\n" not in str(raised.value)


def test_checks_never_change_the_learners_net():
    before = [p.clone() for p in NET.parameters()]
    check_update(step(right_step), NET, X, T, 0.5)
    check_update(online(step(right_step)), NET, X, T, 0.5, online=True)
    assert all(torch.equal(a, b) for a, b in zip(before, NET.parameters()))


def test_blanks_say_not_yet_and_errors_one_line():
    def blank(net, x, t):
        return ...
    assert check_gradients(blank, NET, X, T).status == "not yet"
    assert "not yet -- fill in the `...` in blank" in str(check_gradients(blank, NET, X, T))
    report = check_deltas(lambda n, x, t: [None, deltas(n, x, t)[1]], NET, X, T)
    assert report.status == "fail" and "a NoneType, not a tensor" in str(report)
    report = check_deltas(lambda n, x, t: None, NET, X, T)
    assert report.status == "fail" and "is its `return` missing?" in str(report)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_the_librarys_own_functions_pass(name):
    assert check_activation(FUNCTIONS[name], like=name).passed


# ---- the notebook -------------------------------------------------------------------------

def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_outputs(notebook) -> dict[str, str]:
    """Cell id -> the text a code cell printed; fails on any error output."""
    printed = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.id
        printed[cell.id] = "".join(o.get("text", "") for o in cell.outputs)
    return printed


def test_stored_exercise_notebook_has_no_outputs_and_a_check_per_exercise():
    import json
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert not [c["id"] for c in code if c["outputs"] or c["execution_count"] is not None]
    exercises = [c for c in code if re.fullmatch(r"ex\d", c["id"])]
    assert 6 <= len(exercises) <= 8
    solutions = load("exercise_solutions", ROOT / "tests" / "exercise_solutions.py").SOLUTIONS
    assert set(solutions) == {c["id"] for c in exercises}
    for cell in exercises:
        source = "".join(cell["source"])
        assert "..." in source and "check_" in source.splitlines()[-1], cell["id"]


def run_notebook(tmp_path, solved: bool):
    for package in ("nbclient", "ipykernel", "nbformat"):
        pytest.importorskip(package, reason=f"executing the notebook needs {package} "
                                            "(the [dev] extra)")
    import nbformat
    render = load("render_notebook", ROOT / "scripts" / "render_notebook.py")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    if solved:
        solutions = load("exercise_solutions", ROOT / "tests" / "exercise_solutions.py").SOLUTIONS
        for cell in notebook.cells:
            if cell.id in solutions:  # the filled-in code, then the notebook's own check calls
                checks = [line for line in cell.source.splitlines()
                          if line.startswith("print(check_")]
                cell.source = solutions[cell.id].strip("\n") + "\n\n\n" + "\n".join(checks)
    path = tmp_path / "exercises.ipynb"
    nbformat.write(notebook, path)
    executed, seconds = render.execute(path)
    return check_outputs(executed), seconds


def test_the_blank_exercise_notebook_runs_and_every_check_says_not_yet(tmp_path):
    printed, seconds = run_notebook(tmp_path, solved=False)
    checks = [line for text in printed.values() for line in text.splitlines()
              if line.startswith("check_")]
    assert len(checks) == 9 and all(": not yet -- " in line for line in checks), checks
    assert "Traceback" not in "".join(printed.values())
    assert seconds < 60


@pytest.mark.slow  # a second notebook kernel; the blank run stays in the fast suite
def test_the_solved_exercise_notebook_passes_every_check_and_learns_xor(tmp_path):
    printed, seconds = run_notebook(tmp_path, solved=True)
    checks = [line for text in printed.values() for line in text.splitlines()
              if line.startswith("check_")]
    assert len(checks) == 9 and all(": pass, " in line for line in checks), checks
    assert "XOR learned: True" in printed["ex7-train"]
    assert seconds < 60
