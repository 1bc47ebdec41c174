"""Real datasets: splits, standardisation on the training split only, the optional scikit-learn."""

import builtins

import pytest
import torch

from torchann.data import datasets

pytest.importorskip("sklearn", reason="scikit-learn (the [data] extra) provides these datasets")

TOTALS = {"digits": 1797, "breast_cancer": 569, "iris": 150, "wine": 178, "moons": 600,
          "circles": 600, "spiral": 600, "diabetes": 442}
SHAPES = {"digits": (64, 10), "breast_cancer": (30, 1), "iris": (4, 3), "wine": (13, 3),
          "moons": (2, 1), "circles": (2, 1), "spiral": (2, 1), "diabetes": (10, 1)}


@pytest.mark.parametrize("name", datasets.DATASETS)
def test_splits_are_disjoint_standardised_on_train_and_seeded(name):
    split = datasets.load(name, seed=3)
    assert (split.n_in, split.n_out) == SHAPES[name]
    sizes = [len(part[0]) for part in (split.train, split.val, split.test)]
    assert all(size > 0 for size in sizes)
    train_x = split.train[0]
    varying = split.std != 1  # constant features (digit border pixels) keep scale 1
    torch.testing.assert_close(train_x.mean(0), torch.zeros(split.n_in, dtype=torch.float64),
                               atol=1e-10, rtol=0)
    torch.testing.assert_close(train_x.std(0)[varying], torch.ones(int(varying.sum()),
                               dtype=torch.float64), atol=1e-10, rtol=0)
    # held-out data used the training statistics, not its own
    assert not torch.allclose(split.test[0].mean(0), torch.zeros(split.n_in, dtype=torch.float64),
                              atol=1e-10)
    assert sum(sizes) == TOTALS[name]  # every example in exactly one split
    again = datasets.load(name, seed=3)
    assert torch.equal(again.test[0], split.test[0])
    other = datasets.load(name, seed=4)
    assert not torch.equal(other.test[0], split.test[0])
    targets = split.train[1]
    assert split.task == ("regression" if name in datasets.REGRESSION else "classification")
    if split.task == "regression":  # standardised with the training split's statistics too
        assert abs(float(targets.mean())) < 1e-10 and abs(float(targets.std()) - 1) < 1e-10
        assert split.classes == [] and split.target_std > 0
    elif split.n_out == 1:
        assert set(targets.unique().tolist()) <= {0.0, 1.0}
    else:
        assert torch.equal(targets.sum(1), torch.ones(len(targets), dtype=torch.float64))


def test_a_small_training_set_keeps_validation_and_test_unchanged():
    full = datasets.load("digits", seed=0)
    small = datasets.load("digits", seed=0, train_size=50)
    assert len(small.train[0]) == 50
    assert torch.equal(small.train[1], full.train[1][:50])
    # the small set is standardised with its own statistics, held-out rows are the same images
    assert torch.allclose(small.test[0] * small.std + small.mean, full.test[0] * full.std + full.mean)


@pytest.mark.parametrize("kwargs,match", [
    (dict(name="mnist"), "unknown dataset 'mnist'; valid datasets are: digits"),
    (dict(name="iris", val_fraction=0), "val_fraction must be between 0 and 1"),
    (dict(name="iris", val_fraction=0.5, test_fraction=0.45), "at least 10% for training"),
    (dict(name="iris", train_size=10_000), "train_size must be between 1 and"),
])
def test_bad_dataset_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.load(**kwargs)


def test_missing_scikit_learn_is_a_clear_message(monkeypatch):
    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(ImportError, match=r"pip install 'torchann\[data\]'"):
        datasets.load("iris")
    assert datasets.load("spiral").n_in == 2  # ours needs nothing extra


def test_spiral_arms_interleave():
    x, label = datasets.spiral(n=300, arms=3, noise=0.0)
    assert x.shape == (300, 2) and set(label.tolist()) == {0, 1, 2}
    with pytest.raises(ValueError, match="at least 2 arms"):
        datasets.spiral(arms=1)


def test_diabetes_targets_scale_back_to_the_original_measurements():
    from sklearn.datasets import load_diabetes
    split = datasets.load("diabetes", seed=0)
    original = torch.as_tensor(load_diabetes(scaled=False).target, dtype=torch.float64)
    restored = torch.cat([part[1][:, 0] for part in (split.train, split.val, split.test)])
    restored = restored * split.target_std + split.target_mean
    torch.testing.assert_close(restored.sort().values, original.sort().values, rtol=0, atol=1e-9)


def test_r2_score_matches_scikit_learn():
    from sklearn.metrics import r2_score
    gen = torch.Generator().manual_seed(0)
    targets = torch.randn(50, 1, generator=gen, dtype=torch.float64)
    predictions = targets + 0.5 * torch.randn(50, 1, generator=gen, dtype=torch.float64)
    assert datasets.r2_score(predictions, targets) == pytest.approx(
        r2_score(targets.numpy(), predictions.numpy()), abs=1e-12)
    assert datasets.r2_score(targets, targets) == 1.0
    assert datasets.r2_score(torch.full_like(targets, float(targets.mean())), targets) == \
        pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match=r"predictions \(50,\) and targets \(50, 1\)"):
        datasets.r2_score(predictions[:, 0], targets)
    # several outputs: the mean of per-column R², like scikit-learn's default
    wide_t = torch.randn(40, 3, generator=gen, dtype=torch.float64)
    wide_p = wide_t * torch.tensor([0.5, 2.0, -1.0], dtype=torch.float64)
    assert datasets.r2_score(wide_p, wide_t) == pytest.approx(
        r2_score(wide_t.numpy(), wide_p.numpy()), abs=1e-12)
    # constant targets, lists, integers: what scikit-learn gives, no crash
    assert datasets.r2_score([2, 2, 2], [2, 2, 2]) == 1.0
    assert datasets.r2_score([1, 2, 3], [2, 2, 2]) == 0.0
    assert datasets.r2_score([1.0, 2.0, 3.5], [1, 2, 3]) == pytest.approx(
        r2_score([1, 2, 3], [1.0, 2.0, 3.5]), abs=1e-12)
    with pytest.raises(ValueError, match="at least 2 rows"):
        datasets.r2_score(torch.empty(0), torch.empty(0))


def test_a_regression_split_too_small_to_standardise_is_refused():
    with pytest.raises(ValueError, match="at least 2 training examples, got train_size=1"):
        datasets.load("diabetes", train_size=1)
