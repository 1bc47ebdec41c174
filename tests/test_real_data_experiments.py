"""The real-data experiments end to end (short runs), and their full-length results (slow)."""

import csv
import json
from pathlib import Path

import pytest
from PIL import Image

pytest.importorskip("sklearn", reason="scikit-learn (the [data] extra) provides the datasets")

from experiments import digits, generalization, init_saturation  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def test_digits_short_run_writes_everything(logdir):
    digits.main(["--epochs", "3", "--logdir", str(logdir), "--run-name", "d", "--quiet",
                 "--images", "2"])
    run = logdir / "digits" / "d"
    for name in ("figure.png", "confusion_matrix.png", "misclassified.png",
                 "first_layer_weights.png"):
        assert (run / name).read_bytes()[:8] == PNG
    saved = json.loads((run / "summary.json").read_text())
    assert 0.5 < saved["test_accuracy"] <= 1.0
    assert len(saved["history"]["val_loss"]) == 3 and len(saved["history"]["val_accuracy"]) == 3
    assert saved["architecture"] == "64 -> 64 tanh -> 10 softmax"
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(run), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    assert {"train/loss", "val/loss", "val/accuracy"} <= set(events.Tags()["scalars"])
    assert {"views/misclassified", "views/first_layer_weights"} <= set(events.Tags()["images"])
    # train and val curves share one chart on the CUSTOM SCALARS tab
    from tensorboard.plugins.custom_scalar import layout_pb2
    layout = layout_pb2.Layout()
    layout.ParseFromString(events.Tensors("custom_scalars__config__")[0].tensor_proto.string_val[0])
    charts = {chart.title: list(chart.multiline.tag) for category in layout.category
              for chart in category.chart}
    assert charts == {"loss": ["train/loss", "val/loss"],
                      "accuracy": ["train/accuracy", "val/accuracy"]}
    with Image.open(run / "first_layer_weights.png") as image:
        assert image.size[0] > 500


def test_digits_early_stopping_and_resume(logdir, capsys):
    few_pictures = ["--quiet", "--images", "0"]  # the pictures are tested above
    summary = digits.main(["--epochs", "40", "--patience", "2", "--lr", "1.5", "--logdir",
                           str(logdir), *few_pictures, "--no-tensorboard"])
    history = summary["history"]
    assert history["stopped_early"] and len(history["loss"]) == history["best_epoch"] + 2
    with pytest.raises(SystemExit) as info:  # nothing is left to resume, and it says why
        digits.main(["--resume", summary["run_dir"], "--epochs", "50", "--quiet"])
    assert info.value.code == 2 and "stopped early after" in capsys.readouterr().err
    first = digits.main(["--epochs", "2", "--logdir", str(logdir), "--run-name", "r",
                         *few_pictures])
    measured = ("confusion_matrix.png", "misclassified.png", "first_layer_weights.png")
    before = {name: (Path(first["run_dir"]) / name).read_bytes() for name in measured}
    resumed = digits.main(["--resume", first["run_dir"], "--epochs", "4", "--quiet"])
    for name, content in before.items():  # the 2-epoch figures are kept, not overwritten
        kept = Path(first["run_dir"]) / name.replace(".png", ".epoch2.png")
        assert kept.read_bytes() == content and (Path(first["run_dir"]) / name).exists()
    straight = digits.main(["--epochs", "4", "--logdir", str(logdir), *few_pictures,
                            "--no-tensorboard"])
    assert resumed["history"]["loss"] == straight["history"]["loss"]
    assert resumed["test_accuracy"] == straight["test_accuracy"]


def test_digits_without_scikit_learn_is_a_usage_error_that_leaves_no_folder(logdir, monkeypatch,
                                                                            capsys):
    def missing():
        raise ImportError("this dataset comes with scikit-learn, which is not installed; "
                          "install it with: pip install 'torchann[data]'")
    monkeypatch.setattr(digits.datasets, "require_sklearn", missing)
    with pytest.raises(SystemExit) as exit_info:
        digits.main(["--logdir", str(logdir), "--quiet"])
    assert exit_info.value.code == 2
    assert "pip install 'torchann[data]'" in capsys.readouterr().err
    assert not (logdir / "digits").exists()


def test_generalization_writes_curves(logdir):
    summary = generalization.main(["--dataset", "iris", "--hidden", "1", "8", "--epochs", "3",
                                   "--small", "20", "--logdir", str(logdir), "--quiet"])
    run = Path(summary["run_dir"])
    rows = list(csv.DictReader(open(run / "results.csv")))
    assert [(r["setting"], r["hidden"]) for r in rows] == [("full", "1"), ("full", "8"),
                                                           ("small", "1"), ("small", "8")]
    assert rows[2]["train_examples"] == "20"
    assert (run / "generalization.png").read_bytes()[:8] == PNG
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(run))
    events.Reload()
    small_test = events.Scalars("small/test_error")  # a curve over the hidden-unit counts
    assert [e.step for e in small_test] == [0, 3]  # log2 of the widths 1 and 8
    assert summary["tensorboard_step"] == "log2(hidden units)"
    assert [e.value for e in small_test] == pytest.approx([float(r["test_error"]) for r in rows[2:]])


def test_init_saturation_shows_the_seed_init_saturating_wide_layers(logdir):
    summary = init_saturation.main(["--logdir", str(logdir), "--quiet"])
    seed, xavier = summary["uniform"], summary["xavier"]
    wide = seed["inputs"].index(1000)
    assert seed["saturated_fraction"][wide] > 0.5       # most units start saturated
    assert xavier["saturated_fraction"][wide] < 0.05    # Glorot keeps them responsive
    assert seed["saturated_fraction"][0] < 0.01          # with 2 inputs the seed's init is fine


@pytest.mark.slow
def test_digits_default_run_reaches_95_percent_test_accuracy(logdir):
    summary = digits.main(["--logdir", str(logdir), "--quiet", "--no-tensorboard"])
    assert summary["test_accuracy"] >= 0.95


@pytest.mark.slow
def test_small_training_set_overfits(logdir):
    summary = generalization.main(["--hidden", "64", "256", "--logdir", str(logdir), "--quiet",
                                   "--no-tensorboard"])
    small = [r for r in summary["rows"] if r["setting"] == "small"]
    full = [r for r in summary["rows"] if r["setting"] == "full"]
    for r in small:
        assert r["train_error"] == 0.0 and r["test_error"] > 0.1   # memorised, not learned
    for r in full:
        assert r["test_error"] < 0.06
