"""Handwritten digits: an MLP on real data, with the same custom-autograd machinery.

scikit-learn's 1,797 8x8 digit images (shipped inside the package), split
70/15/15 into train / validation / test with the seed and standardised on the
training split. A 64-64-10 network -- tanh hidden units, a softmax output
trained with cross-entropy, Glorot/Xavier initial weights -- is trained with
minibatch SGD (32 images per step, reshuffled every epoch), evaluated on the
validation split after every epoch (``--patience N`` stops early and keeps
the best epoch). Writes the usual run folder plus ``confusion_matrix.png``,
``misclassified.png`` (test images the net gets wrong) and
``first_layer_weights.png`` (each hidden unit's 64 input weights as an 8x8
image), all also in TensorBoard, and the test accuracy in ``summary.json``.

Needs scikit-learn: pip install 'torchann[data]'.

    python -m experiments.digits [--hidden 64] [--epochs 60] [--patience 10]
"""

from __future__ import annotations

import torch

from experiments.common import positive_int, start_run, train_and_record, training_parser
from torchann import MLP, Validation
from torchann.data import datasets
from torchann.viz.plots import draw_classifier_training, image_grid_figure, plot_confusion_matrix


def build_parser():
    parser = training_parser("python -m experiments.digits", __doc__.splitlines()[0],
                             epochs=60, lr=0.1, hidden=64)
    parser.set_defaults(batch_size=32, dtype="float64")
    parser.add_argument("--patience", type=positive_int, default=None,
                        help="stop after N epochs without a better validation loss")
    parser.add_argument("--init", choices=["uniform", "xavier", "he"], default="xavier",
                        help="initial weights (the seed's U(-0.5, 0.5) saturates 64-input units)")
    return parser


def confusion(model, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        predicted = model(x).argmax(dim=1)
    truth = t.argmax(dim=1)
    matrix = torch.zeros(t.shape[1], t.shape[1], dtype=torch.long)
    matrix.index_put_((truth.cpu(), predicted.cpu()), torch.ones_like(truth.cpu()), accumulate=True)
    return matrix


def main(argv=None) -> dict:
    parser = build_parser()
    args, config, run_dir, resume, name = start_run(parser, "digits", argv, data_keys=("init", "patience"),
                                                    requires=datasets.require_sklearn)
    split = datasets.load("digits", seed=config.seed)
    model = MLP([split.n_in, config.hidden, split.n_out], "tanh", output="softmax",
                seed=config.seed, dtype=config.torch_dtype, init=args.init)
    device = next(model.parameters()).device
    val_x, val_t = (v.to(device=device, dtype=config.torch_dtype) for v in split.val)

    def draw(figure, state, loss_ylim=None):
        draw_classifier_training(figure, confusion(state.model, val_x.to(state.inputs.device),
                                                   val_t.to(state.inputs.device)),
                                 split.classes, state.history.loss_curve(), state.history.val_loss,
                                 epoch=state.epoch, epochs=state.epochs, ylabel="cross-entropy",
                                 loss_ylim=loss_ylim)

    def measure(trained) -> dict:
        x, t = (v.to(device=next(trained.parameters()).device, dtype=config.torch_dtype)
                for v in split.test)
        matrix = confusion(trained, x, t)
        test_accuracy = float(matrix.diag().sum() / matrix.sum())
        with torch.no_grad():
            probabilities = trained(x)
        predicted = probabilities.argmax(dim=1).cpu()
        truth = t.argmax(dim=1).cpu()
        wrong = (predicted != truth).nonzero()[:, 0][:32]
        raw = (x.cpu() * split.std + split.mean).reshape(-1, 8, 8)  # undo the standardisation
        figures = {
            "confusion_matrix": _confusion_figure(matrix, split.classes, test_accuracy),
            "misclassified": image_grid_figure(
                raw[wrong], [f"{int(truth[i])} → {int(predicted[i])}" for i in wrong],
                title=f"test images the net gets wrong ({len((predicted != truth).nonzero())} "
                      f"of {len(truth)}): true → predicted"),
            "first_layer_weights": image_grid_figure(
                trained.layers[0].weight.detach().T.reshape(-1, 8, 8)[:64],
                [f"unit {j}" for j in range(min(64, config.hidden))], cmap="RdBu_r",
                symmetric=True, title="first-layer weights: what each hidden unit looks for"),
        }
        for stem, figure in figures.items():
            figure.savefig(run_dir / f"{stem}.png", dpi=90)
        if config.tensorboard:
            from torchann.viz.tensorboard import TensorBoardLogger
            with TensorBoardLogger(run_dir) as logger:
                for stem, figure in figures.items():
                    logger.add_figure(f"views/{stem}", figure, config.epochs)
        return {"test_accuracy": test_accuracy, "test_errors": int((predicted != truth).sum())}

    summary = train_and_record(
        "digits", config, run_dir, model, *split.train, draw=draw,
        title=f"digits: {model.architecture()}", shuffle=True,
        extra={"data": {"init": args.init, "patience": args.patience, "train": len(split.train[0]),
                        "validation": len(split.val[0]), "test": len(split.test[0])}},
        measure=measure, resume=resume,
        fit_options={"loss": "ce"}, validation=Validation(val_x, val_t, patience=args.patience))
    if not config.quiet:
        print(f"test accuracy {100 * summary['test_accuracy']:.2f}% "
              f"({summary['test_errors']} of {len(split.test[0])} test images wrong); "
              f"best validation epoch {summary['history']['best_epoch']}")
    return summary


def _confusion_figure(matrix, classes, accuracy):
    from matplotlib.figure import Figure
    figure = Figure(figsize=(5.5, 5), layout="constrained")
    plot_confusion_matrix(figure.subplots(), matrix, classes,
                          f"test set: {100 * accuracy:.1f}% correct")
    return figure


if __name__ == "__main__":
    main()
