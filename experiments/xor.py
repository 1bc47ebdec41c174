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

from experiments.common import add_corner_data_flags, run_classification, training_parser
from torchann import TwoLayerNet, data


def build_parser():
    parser = training_parser("python -m experiments.xor", __doc__.splitlines()[0],
                             epochs=300, lr=2.0, hidden=3)
    add_corner_data_flags(parser)
    return parser


def main(argv=None) -> dict:
    return run_classification(
        "xor", build_parser(), argv,
        make_data=lambda args, seed: data.logic_gate("xor", repeats=args.repeats,
                                                     noise=args.noise, seed=seed),
        make_model=lambda config: TwoLayerNet(2, config.hidden, 1, hidden="sigmoid",
                                              output="sigmoid", seed=config.seed,
                                              dtype=config.torch_dtype),
        title="Figure 10: XOR with a two-layer network (sigmoid hidden and output units)")


if __name__ == "__main__":
    main()
