"""Figure 10 of the seed: a two-layer network learns XOR.

The four corners of the unit square, labelled by XOR, are repeated 30 times,
jittered with Gaussian noise (sd 0.15) and shuffled once. A 2-3-1 network
with sigmoid hidden and output units is trained online (one update per
observation, in that fixed order) with η = 2 for 300 epochs. A single layer
cannot draw this boundary (see ``experiments.logic --gate xor``); three hidden
units can.

    python -m experiments.xor              # the seed's settings
    python -m experiments.xor --animate    # ... and learning.gif
    python -m experiments.xor --help       # every flag, with its default
"""

from __future__ import annotations

from experiments.common import Experiment, run_classification
from experiments.flags import add_corner_data_flags, training_parser
from torchann import TwoLayerNet, data


def build_parser():
    parser = training_parser("python -m experiments.xor", __doc__.splitlines()[0],
                             epochs=300, lr=2.0, hidden=3)
    add_corner_data_flags(parser)
    return parser


def main(argv=None) -> dict:
    return run_classification(Experiment(
        "xor", build_parser(),
        make_data=lambda s: data.logic_gate("xor", repeats=s.data["repeats"],
                                            noise=s.data["noise"], seed=s.seed),
        make_model=lambda s: TwoLayerNet(2, s.hidden, 1, hidden="sigmoid", output="sigmoid",
                                         seed=s.seed, dtype=s.torch_dtype),
        title="Figure 10: XOR with a two-layer network (sigmoid hidden and output units)"), argv)


if __name__ == "__main__":
    main()
