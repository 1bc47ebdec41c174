"""Figure 11 of the seed: a two-layer network learns the "ring".

Nine points -- the centre of the unit square (class 0) and the eight points
around it on the square's corners and edge midpoints (class 1) -- repeated 30
times with Gaussian noise (sd 0.15), shuffled once. The 2-3-1 sigmoid network
must carve a closed region around the centre out of three half-planes.
Trained online with η = 2 for 300 epochs.

    python -m experiments.ring [--animate] [--help]
"""

from __future__ import annotations

from experiments.common import Experiment, run_classification
from experiments.flags import add_corner_data_flags, training_parser
from torchann import TwoLayerNet, data


def build_parser():
    parser = training_parser("python -m experiments.ring", __doc__.splitlines()[0],
                             epochs=300, lr=2.0, hidden=3)
    add_corner_data_flags(parser)
    return parser


def main(argv=None) -> dict:
    return run_classification(Experiment(
        "ring", build_parser(),
        make_data=lambda s: data.ring(repeats=s.data["repeats"], noise=s.data["noise"],
                                      seed=s.seed),
        make_model=lambda s: TwoLayerNet(2, s.hidden, 1, hidden="sigmoid", output="sigmoid",
                                         seed=s.seed, dtype=s.torch_dtype),
        title="Figure 11: the ring with a two-layer network (3 sigmoid hidden units)"), argv)


if __name__ == "__main__":
    main()
