"""Figures 7, 8 and 9 of the seed: a single-layer network on OR, AND and XOR.

The four corners of the unit square, labelled by the gate, repeated 30 times
with Gaussian noise (sd 0.15) and shuffled once; a 2 -> 1 sigmoid unit (a
perceptron) trained online with η = 3 for 80 epochs. OR and AND are separable
by a straight line and are learned; XOR is not, and no single layer can learn
it -- its output settles near 0.5 and about half the points stay wrong.

    python -m experiments.logic --gate or|and|xor [--animate] [--help]
"""

from __future__ import annotations

from experiments.common import Experiment, run_classification
from experiments.flags import add_corner_data_flags, training_parser
from torchann import SingleLayerNet, data

FIGURES = {"or": "Figure 7: OR", "and": "Figure 8: AND", "xor": "Figure 9: XOR"}


def build_parser():
    parser = training_parser("python -m experiments.logic", __doc__.splitlines()[0],
                             epochs=80, lr=3.0, hidden=None)
    parser.add_argument("--gate", choices=sorted(data.GATES), default="or",
                        help="the truth table to learn")
    add_corner_data_flags(parser)
    return parser


def main(argv=None) -> dict:
    return run_classification(Experiment(
        lambda flags: f"logic-{flags['gate']}", build_parser(),
        make_data=lambda s: data.logic_gate(s.data["gate"], repeats=s.data["repeats"],
                                            noise=s.data["noise"], seed=s.seed),
        make_model=lambda s: SingleLayerNet(2, 1, "sigmoid", seed=s.seed, dtype=s.torch_dtype),
        title=lambda s: f"{FIGURES[s.data['gate']]} with a single-layer network "
                        "(one sigmoid unit)",
        data_keys=("gate",)), argv)


if __name__ == "__main__":
    main()
