"""Figure 10 of the seed: a two-layer network learns XOR.

The four corners of the unit square, labelled by XOR, are repeated 30 times,
jittered with Gaussian noise (sd 0.15) and shuffled once. A 2-3-1 network
with sigmoid hidden and output units is trained online (one update per
observation, in that fixed order) with η = 2 for 300 epochs. A single layer
cannot draw this boundary; three hidden units can.

    python -m experiments.xor              # the seed's settings
    python -m experiments.xor --help       # every flag, with its default
"""

from __future__ import annotations

from experiments.common import (make_run_dir, non_negative_float, parse_config, train_and_record,
                                training_parser)
from torchann import TwoLayerNet, data
from torchann.plots import decision_region_figure


def build_parser():
    parser = training_parser("python -m experiments.xor", __doc__.splitlines()[0],
                             epochs=300, lr=2.0, hidden=3)
    group = parser.add_argument_group("data")
    group.add_argument("--repeats", type=int, default=30, help="copies of each corner")
    group.add_argument("--noise", type=non_negative_float, default=0.15,
                       help="standard deviation of the Gaussian jitter")
    return parser


def main(argv=None) -> dict:
    parser = build_parser()
    args = parser.parse_args(argv)
    config = parse_config(parser, args)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    inputs, targets = data.logic_gate("xor", repeats=args.repeats, noise=args.noise, seed=config.seed)
    model = TwoLayerNet(2, config.hidden, 1, hidden="sigmoid", output="sigmoid", seed=config.seed,
                        dtype=config.torch_dtype)
    run_dir = make_run_dir(parser, "xor", config)

    def figure(state):
        return decision_region_figure(state.model, state.inputs, state.targets, state.history.loss,
                                      epoch=state.epoch, epochs=state.epochs,
                                      suptitle=f"XOR, {state.model.architecture()}")

    return train_and_record("xor", config, run_dir, model, inputs, targets, figure_fn=figure,
                            extra={"data": {"repeats": args.repeats, "noise": args.noise}})


if __name__ == "__main__":
    main()
