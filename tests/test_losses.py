"""Cross-entropies and softmax: values against torch, the a(1 − a) cancellation, engines agree."""

import pytest
import torch
import torch.nn.functional as F
from torch.autograd import gradcheck, gradgradcheck
from torch.testing import assert_close

from conftest import DEVICES
from reference import WAYS, loss_and_gradients
from torchann import MLP, Checkpoint, Validation, fit
from torchann.functional import softmax
from torchann.losses import binary_cross_entropy, cross_entropy, get_loss, squared_error
from torchann.nn import initial_weights

F64 = torch.float64


def test_losses_match_torch():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(9, 3, generator=g, dtype=F64) * 3
    t01 = (torch.rand(9, 3, generator=g, dtype=F64) > 0.5).to(F64)
    assert_close(binary_cross_entropy(torch.sigmoid(z), t01),
                 F.binary_cross_entropy_with_logits(z, t01, reduction="sum") / 9)
    labels = torch.randint(0, 3, (9,), generator=g)
    onehot = F.one_hot(labels, 3).to(F64)
    assert_close(cross_entropy(torch.softmax(z, -1), onehot), F.cross_entropy(z, labels))
    assert_close(squared_error(z, t01), 0.5 * ((z - t01) ** 2).sum() / 9)


@pytest.mark.parametrize("loss,activation", [("bce", "sigmoid"), ("ce", "softmax")])
def test_cross_entropy_cancels_the_output_slope(loss, activation):
    """∂E/∂z = (a − t)/B through our Functions: the a(1 − a) of σ' cancels."""
    z = (torch.randn(5, 3, dtype=F64) * 4).requires_grad_()
    t = torch.nn.functional.one_hot(torch.tensor([0, 2, 1, 1, 0]), 3).to(F64)
    from torchann.functional import get_activation
    a = get_activation(activation)(z)
    (grad,) = torch.autograd.grad(get_loss(loss)(a, t), z)
    assert_close(grad, (a.detach() - t) / 5)


def test_softmax_function_saves_its_output_and_passes_gradcheck():
    z = torch.randn(4, 5, dtype=F64, requires_grad=True)
    s = softmax(z)
    assert s.grad_fn.saved_tensors[0].data_ptr() == s.data_ptr()
    assert gradcheck(softmax, (z,)) and gradgradcheck(softmax, (z,))
    upstream = torch.randn(4, 5, dtype=F64)
    (ours,) = torch.autograd.grad(s, z, upstream)
    (ref,) = torch.autograd.grad(torch.softmax(z, -1), z, upstream)
    assert_close(ours, ref)
    extreme = torch.tensor([[1e4, 0.0, -1e4]], dtype=F64)
    assert torch.isfinite(softmax(extreme)).all()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("loss,output,classes", [("bce", "sigmoid", 1), ("ce", "softmax", 4),
                                                 ("bce", "softmax", 3), ("ce", "sigmoid", 3),
                                                 ("squared", "softmax", 3)])
@pytest.mark.parametrize("batch", [1, 6])
def test_autograd_and_explicit_match_builtin_for_every_loss(device, loss, output, classes, batch):
    net = MLP([3, 5, classes], "tanh", output=output, seed=2, dtype=F64, device=device)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, 3, generator=g, dtype=F64).to(device)
    labels = torch.randint(0, max(classes, 2), (batch,), generator=g)
    t = (labels.to(F64).unsqueeze(1) if classes == 1 else F.one_hot(labels, classes).to(F64))
    t = t.to(device)
    results = {way: loss_and_gradients(way, net, x, t, loss) for way in WAYS}
    for way in ("autograd", "explicit"):
        assert_close(results[way][0], results["builtin"][0], rtol=1e-12, atol=0)
        for got, ref in zip(results[way][1], results["builtin"][1]):
            assert_close(got, ref, rtol=1e-10, atol=1e-14)


def test_cross_entropy_needs_probability_outputs():
    with pytest.raises(ValueError, match="loss 'bce' needs outputs in \\[0, 1\\]"):
        fit(MLP([2, 3, 1], "tanh"), torch.rand(4, 2), torch.rand(4, 1), lr=1.0, epochs=1,
            loss="bce")


def test_unknown_loss():
    with pytest.raises(ValueError, match="unknown loss 'hinge'; valid losses are: squared, bce, ce"):
        fit(MLP([2, 1]), torch.rand(4, 2), torch.rand(4, 1), lr=1.0, epochs=1, loss="hinge")


@pytest.mark.parametrize("init,check", [
    ("xavier", lambda w, b, n_in, n_out: (w.abs().max() <= (6 / (n_in + n_out)) ** 0.5
                                          and (b == 0).all())),
    ("he", lambda w, b, n_in, n_out: abs(w.std() - (2 / n_in) ** 0.5) < 0.1 * (2 / n_in) ** 0.5
     and (b == 0).all()),
    ("uniform", lambda w, b, n_in, n_out: w.abs().max() <= 0.5 and (b != 0).all()),
])
def test_initialisations(init, check):
    w, b = initial_weights(300, 200, init, torch.Generator().manual_seed(0))
    assert w.shape == (300, 200) and b.shape == (1, 200)
    assert check(w, b, 300, 200)
    with pytest.raises(ValueError, match="unknown init 'lecun'"):
        initial_weights(3, 2, "lecun", None)


def test_validation_history_and_early_stopping_keep_the_best_epoch():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 2, generator=g, dtype=F64)
    t = (x[:, :1] > 0).to(F64)
    val = (torch.randn(12, 2, generator=g, dtype=F64), None)
    val = (val[0], (val[0][:, :1] < 0).to(F64))  # anti-correlated: val loss rises as we learn
    snapshots = {}
    net = MLP([2, 4, 1], "tanh", "sigmoid", seed=1, dtype=F64)
    history = fit(net, x, t, lr=0.5, epochs=50, loss="bce", callbacks=[
        Validation(*val, patience=3),
        lambda s: snapshots.__setitem__(s.epoch, [p.detach().clone() for p in s.model.parameters()])])
    assert history.stopped_early and len(history.loss) < 50
    assert len(history.val_loss) == len(history.loss) == len(history.val_accuracy)
    best = history.best_epoch
    assert history.val_loss[best - 1] == min(history.val_loss)
    assert len(history.loss) == best + 3
    for p, q in zip(net.parameters(), snapshots[best]):
        assert torch.equal(p.detach(), q)


def test_a_non_finite_validation_loss_is_a_clear_error():
    from torchann import TrainingDiverged
    net = MLP([2, 3, 1], "identity", seed=0, dtype=F64)
    huge = (torch.full((5, 2), 1e300, dtype=F64), torch.ones(5, 1, dtype=F64))  # finite inputs
    with pytest.raises(TrainingDiverged, match="validation loss became inf at epoch 1"):
        fit(net, torch.rand(8, 2, dtype=F64), torch.ones(8, 1, dtype=F64), lr=0.1, epochs=5,
            callbacks=[Validation(*huge, patience=2)])


def test_validation_checks_its_data_and_patience_before_training():
    x, t = torch.rand(6, 2), torch.rand(6, 1)
    net = MLP([2, 1])
    before = [p.detach().clone() for p in net.parameters()]
    with pytest.raises(ValueError, match="patience must be at least 1"):
        Validation(x, t, patience=0)
    with pytest.raises(ValueError, match="validation data: inputs has 3 columns"):
        fit(net, x, t, lr=1.0, epochs=2, callbacks=[Validation(torch.rand(4, 3), torch.rand(4, 1))])
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), before))


def test_early_stopping_resumes_exactly(tmp_path):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 2, generator=g, dtype=F64)
    t = (x[:, :1] > 0).to(F64)
    vx = torch.randn(12, 2, generator=g, dtype=F64)
    val = (vx, (vx[:, :1] < 0).to(F64))
    kwargs = dict(lr=0.5, loss="bce", shuffle=True, seed=2)
    straight = MLP([2, 4, 1], "tanh", "sigmoid", seed=1, dtype=F64)
    full = fit(straight, x, t, epochs=50, **kwargs,
               callbacks=[Validation(*val, patience=3), Checkpoint(tmp_path / "done.pt")])
    assert full.stopped_early
    with pytest.raises(ValueError, match="stopped early at epoch"):
        fit(MLP([2, 4, 1], "tanh", "sigmoid", dtype=F64), x, t, epochs=60, **kwargs,
            resume=tmp_path / "done.pt", callbacks=[Validation(*val, patience=3)])
    stop_at = full.best_epoch + 1  # inside the patience window: the best state must survive
    assert stop_at < len(full.loss)
    first = MLP([2, 4, 1], "tanh", "sigmoid", seed=1, dtype=F64)
    fit(first, x, t, epochs=stop_at, **kwargs,
        callbacks=[Validation(*val, patience=3), Checkpoint(tmp_path / "c.pt")])
    resumed = MLP([2, 4, 1], "tanh", "sigmoid", seed=7, dtype=F64)
    history = fit(resumed, x, t, epochs=50, resume=tmp_path / "c.pt", **kwargs,
                  callbacks=[Validation(*val, patience=3)])
    assert history.loss == full.loss and history.val_loss == full.val_loss
    assert history.best_epoch == full.best_epoch and history.stopped_early
    for p, q in zip(resumed.parameters(), straight.parameters()):
        assert torch.equal(p, q)
