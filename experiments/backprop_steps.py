"""The derivation post as a live worked example: one observation through the XOR net.

Builds the 2-3-1 sigmoid network of ``experiments.xor`` (same seed, same
first observation), then prints the four steps of backpropagation with the
actual numbers: the forward signals z and a of every layer, the error
signals δ, the gradients ∂E/∂W = a_inᵀ δ and ∂E/∂b = δ, and the updated
weights. Beside each gradient it prints the same gradient from the other two
engines -- autograd through our Functions, and torch's built-in autograd --
and the largest difference, so you can see the three agree.

    python -m experiments.backprop_steps [--seed 0] [--lr 2] [--dtype float64]
"""

from __future__ import annotations

import torch

from experiments.flags import ExperimentParser, learning_rate, positive_int
from torchann.checks import DTYPES
from torchann import ExplicitBackprop, TwoLayerNet, data
from torchann.functional import ACTIVATIONS
from torchann.losses import squared_error

SIGMOID_SLOPE = ACTIVATIONS["sigmoid"].derivative  # σ'(z) from a = σ(z): a(1 − a)


def build_parser():
    parser = ExperimentParser(prog="python -m experiments.backprop_steps",
                              description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="network and data seed")
    parser.add_argument("--index", type=int, default=0, help="which observation of the data set")
    parser.add_argument("--lr", type=learning_rate, default=2.0, help="learning rate η for step IV")
    parser.add_argument("--hidden", type=positive_int, default=3, help="hidden units")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float64")
    return parser


def show(name: str, value: torch.Tensor, indent: int = 4) -> str:
    rows = value.detach().cpu().double().tolist()
    text = "\n".join(" " * (indent + 2) + "[" + ", ".join(f"{v: .6f}" for v in row) + "]"
                     for row in rows)
    return f"{' ' * indent}{name} {tuple(value.shape)} =\n{text}"


def main(argv=None) -> dict:
    parser = build_parser()
    args = parser.parse_args(argv)
    dtype = DTYPES[args.dtype]
    inputs, targets = data.logic_gate("xor", seed=args.seed)
    if not 0 <= args.index < len(inputs):
        parser.error(f"argument --index: must be in 0..{len(inputs) - 1}, got {args.index}")
    x = inputs[args.index:args.index + 1].to(dtype)
    t = targets[args.index:args.index + 1].to(dtype)
    net = TwoLayerNet(2, args.hidden, 1, seed=args.seed, dtype=dtype)
    explicit = ExplicitBackprop(net)
    names = explicit.names
    p = print

    p(f"One observation through {net.architecture()} (seed {args.seed}, {args.dtype})")
    p(show("x (input, a_0)", x, 2))
    p(show("t (target)", t, 2))

    p("\nI. FORWARD: z = a_in W + b, a = σ(z), keeping every a")
    activations = explicit.forward(x)
    for l, layer in enumerate(explicit.layers, start=1):
        z = activations[l - 1] @ layer.weight.detach() + layer.bias.detach()
        label = "hidden" if l == 1 else "output"
        p(show(f"z_{l} ({label} pre-activation)", z))
        p(show(f"a_{l} = σ(z_{l})", activations[l]))

    p("\nII. BACKPROPAGATE: error signals, with σ'(z) = a(1 − a) from the kept a")
    deltas, loss = explicit.backward(activations, t)
    a_out = activations[-1]
    p(f"    E = ½(a_2 − t)² = {float(loss):.6f}")
    p(show("a_2 − t", a_out - t))
    p(show("σ'(z_2) = a_2(1 − a_2)", SIGMOID_SLOPE(a_out)))
    p(show("δ_2 = σ'(z_2) ⊙ (a_2 − t)", deltas[1]))
    p(show("δ_2 W_2ᵀ (error reaching each hidden unit)", deltas[1] @ net.output.weight.t()))
    p(show("σ'(z_1) = a_1(1 − a_1)", SIGMOID_SLOPE(activations[1])))
    p(show("δ_1 = σ'(z_1) ⊙ (δ_2 W_2ᵀ)", deltas[0]))

    p("\nIII. GRADIENTS: ∂E/∂W_l = a_{l−1}ᵀ δ_l, ∂E/∂b_l = δ_l -- and autograd's")
    grads = dict(zip(names, explicit.gradients(activations, deltas)))
    params = list(net.parameters())
    # The same network on torch's own sigmoid: torch's derivative formulas, not ours.
    twin = TwoLayerNet(2, args.hidden, 1, seed=args.seed, dtype=dtype, builtin=True)
    others = {name: dict(zip(names, torch.autograd.grad(squared_error(model(x), t),
                                                        list(model.parameters()))))
              for name, model in (("autograd", net), ("builtin", twin))}
    worst = 0.0
    for name in names:
        p(show(f"∂E/∂{name}   explicit", grads[name]))
        for engine, theirs in others.items():
            gap = float((theirs[name] - grads[name]).abs().max())
            worst = max(worst, gap)
            p(show(f"∂E/∂{name}   {engine:<8} (max |diff| {gap:.1e})", theirs[name]))

    p(f"\nIV. UPDATE: p ← p − η ∂E/∂p with η = {args.lr:g}")
    with torch.no_grad():
        for name, param in zip(names, params):
            param -= args.lr * grads[name]
            p(show(f"{name} (updated)", param))
        new_loss = 0.5 * float(((net(x) - t) ** 2).sum())
    p(f"\nE for this observation: {float(loss):.6f} before, {new_loss:.6f} after the step.")
    p(f"Largest gap between engines: {worst:.1e}")
    return {"loss_before": float(loss), "loss_after": new_loss, "max_engine_gap": worst,
            "gradients": {k: v.tolist() for k, v in grads.items()}}


if __name__ == "__main__":
    main()
