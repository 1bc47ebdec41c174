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

from functools import lru_cache

import torch

from experiments.common import Experiment, Settings, run_experiment
from experiments.digits_figures import confusion_figure, draw_classifier_training, image_grid_figure
from experiments.flags import positive_int, training_parser
from experiments.recorder import Results
from torchann import MLP, Validation
from torchann.data import datasets


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


@lru_cache(maxsize=2)
def split_of(seed: int) -> datasets.Split:
    """The 70/15/15 split the seed draws (loaded once per seed)."""
    return datasets.load("digits", seed=seed)


def _on(model, tensors, dtype):
    device = next(model.parameters()).device
    return [t.to(device=device, dtype=dtype) for t in tensors]


def make_model(s: Settings):
    split = split_of(s.seed)
    return MLP([split.n_in, s.hidden, split.n_out], "tanh", output="softmax", seed=s.seed,
               dtype=s.torch_dtype, init=s.data["init"])


def make_draw(s: Settings):
    split = split_of(s.seed)

    def draw(figure, state, loss_ylim=None):
        val_x, val_t = _on(state.model, split.val, s.torch_dtype)
        draw_classifier_training(figure, confusion(state.model, val_x, val_t), split.classes,
                                 state.history.loss_curve(), state.history.val_loss,
                                 epoch=state.epoch, epochs=state.epochs, ylabel="cross-entropy",
                                 loss_ylim=loss_ylim)
    return draw


def validation(model, s: Settings) -> Validation:
    return Validation(*_on(model, split_of(s.seed).val, s.torch_dtype),
                      patience=s.data["patience"])


def measure(trained, s: Settings) -> Results:
    split = split_of(s.seed)
    x, t = _on(trained, split.test, s.torch_dtype)
    matrix = confusion(trained, x, t)
    test_accuracy = float(matrix.diag().sum() / matrix.sum())
    with torch.no_grad():
        predicted = trained(x).argmax(dim=1).cpu()
    truth = t.argmax(dim=1).cpu()
    wrong = (predicted != truth).nonzero()[:, 0][:32]
    raw = (x.cpu() * split.std + split.mean).reshape(-1, 8, 8)  # undo the standardisation
    figures = {
        "confusion_matrix": confusion_figure(matrix, split.classes, test_accuracy),
        "misclassified": image_grid_figure(
            raw[wrong], [f"{int(truth[i])} → {int(predicted[i])}" for i in wrong],
            title=f"test images the net gets wrong ({len((predicted != truth).nonzero())} "
                  f"of {len(truth)}): true → predicted"),
        "first_layer_weights": image_grid_figure(
            trained.layers[0].weight.detach().T.reshape(-1, 8, 8)[:64],
            [f"unit {j}" for j in range(min(64, s.hidden))], cmap="RdBu_r",
            symmetric=True, title="first-layer weights: what each hidden unit looks for"),
    }
    return Results({"test_accuracy": test_accuracy,
                    "test_errors": int((predicted != truth).sum())}, figures)


def main(argv=None) -> dict:
    summary = run_experiment(Experiment(
        "digits", build_parser(), make_data=lambda s: split_of(s.seed).train,
        make_model=make_model, title=lambda s: f"digits: {make_model(s).architecture()}",
        draw=make_draw, data_keys=("init", "patience"), shuffle=True, loss="ce",
        validation=validation, measure=measure, requires=datasets.require_sklearn,
        describe=lambda s: {name: len(getattr(split_of(s.seed), name)[0])
                            for name in ("train", "val", "test")}), argv)
    if not summary["config"]["quiet"]:
        print(f"test accuracy {100 * summary['test_accuracy']:.2f}% "
              f"({summary['test_errors']} of {summary['dataset']['test']} test images wrong); "
              f"best validation epoch {summary['history']['best_epoch']}")
    return summary


if __name__ == "__main__":
    main()
