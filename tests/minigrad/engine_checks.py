"""Helpers shared by the engine's op tests (tests/minigrad/test_ops_*.py).

``leaf`` makes a float64 leaf on a device from host data; ``check`` runs gradcheck (random
upstream gradient, every input, float64); ``host`` reads a tensor's values the allowed way.
"""
import numpy as np

import minigrad as mg


def leaf(array, device="cpu", requires_grad=True):
    """A float64 leaf tensor on ``device`` with the values of host ``array``."""
    return mg.tensor(np.asarray(array, dtype=np.float64), device=device,
                     requires_grad=requires_grad)


def randn(rng, shape, device="cpu", positive=False, requires_grad=True):
    values = rng.standard_normal(shape)
    if positive:
        values = np.abs(values) + 0.5
    return leaf(values, device, requires_grad)


def host(t):
    """A tensor's values as a NumPy array (never np.asarray(t.data): guard forbids it)."""
    return t.detach().numpy()


def check(fn, *inputs):
    """Gradient check of ``fn`` at ``inputs``: raises GradcheckError naming the input."""
    assert mg.gradcheck(fn, list(inputs))


def torch_pair(torch, array, requires_grad=True):
    """The same float64 values as a minigrad leaf and a torch leaf."""
    array = np.asarray(array, dtype=np.float64)
    return (leaf(array, "cpu", requires_grad),
            torch.tensor(array, requires_grad=requires_grad))


def torch_grads_match(outputs_mg, outputs_t, inputs_mg, inputs_t, rng, atol=1e-10):
    """Backward the same random upstream gradient through both; compare values and grads."""
    import torch
    if not isinstance(outputs_mg, (tuple, list)):
        outputs_mg, outputs_t = [outputs_mg], [outputs_t]
    loss_mg, loss_t = 0, 0
    for out_mg, out_t in zip(outputs_mg, outputs_t):
        np.testing.assert_allclose(host(out_mg), out_t.detach().numpy(), atol=atol, rtol=1e-7)
        upstream = rng.standard_normal(out_mg.shape)
        loss_mg = loss_mg + (out_mg * leaf(upstream, requires_grad=False)).sum()
        loss_t = loss_t + (out_t * torch.tensor(upstream)).sum()
    loss_mg.backward()
    loss_t.backward()
    for x_mg, x_t in zip(inputs_mg, inputs_t):
        np.testing.assert_allclose(host(x_mg.grad), x_t.grad.numpy(), atol=atol, rtol=1e-7)
