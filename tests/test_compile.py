"""torch.compile through our custom Functions gives the eager gradients."""

import pytest
import torch
from torch.testing import assert_close

from torchann import MLP
from torchann.ensemble.fast import compiler_missing


def compiler_toolchain_missing() -> str | None:
    return compiler_missing(torch.device("cpu"))


@pytest.mark.slow
@pytest.mark.skipif(compiler_toolchain_missing() is not None,
                    reason=compiler_toolchain_missing() or "")
@pytest.mark.parametrize("hidden,output", [("sigmoid", "sigmoid"), ("tanh", "identity"),
                                           ("softplus", "relu")])
def test_compiled_forward_and_backward_match_eager(hidden, output):
    torch._dynamo.reset()
    net = MLP([2, 6, 4, 1], hidden, output=output, seed=3, dtype=torch.float64)
    x = torch.randn(16, 2, dtype=torch.float64)
    t = torch.rand(16, 1, dtype=torch.float64)
    params = list(net.parameters())

    def loss_fn(x, t):
        return 0.5 * ((net(x) - t) ** 2).sum() / x.shape[0]

    eager_loss = loss_fn(x, t)
    eager = torch.autograd.grad(eager_loss, params)
    compiled = torch.compile(loss_fn, fullgraph=True)
    compiled_loss = compiled(x, t)
    got = torch.autograd.grad(compiled_loss, params)
    assert_close(compiled_loss, eager_loss, rtol=1e-12, atol=0)
    for g, e in zip(got, eager):
        assert_close(g, e, rtol=1e-10, atol=1e-12)
