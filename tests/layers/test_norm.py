"""LayerNorm: the hand-written LayerNormFunction against autograd, the formula and torch."""
import numpy as np
import pytest

import minigrad
from minigrad import gradcheck
from minigrad.ops.nn import LayerNormFunction
from layers.norm import LayerNorm, layer_norm_composed


def _inputs(rng, device=None, shape=(2, 3, 4), k=1):
    x = minigrad.tensor(rng.standard_normal(shape), dtype="float64", device=device,
                        requires_grad=True)
    params = [minigrad.tensor(rng.standard_normal(shape[len(shape) - k:]), dtype="float64",
                              device=device, requires_grad=True) for _ in range(2)]
    return x, *params


@pytest.mark.homework("hw3.layer_norm")
@pytest.mark.parametrize("k", [1, 2])
def test_layer_norm_function_gradcheck(device, rng, k):
    x, weight, bias = _inputs(rng, device, k=k)
    gradcheck(lambda x, w, b: LayerNormFunction.apply(x, w, b, k=k, eps=1e-5), [x, weight, bias])


@pytest.mark.homework("hw3.layer_norm")
def test_layer_norm_function_gradcheck_without_affine(rng):
    x, _, _ = _inputs(rng)
    gradcheck(lambda x: LayerNormFunction.apply(x, None, None, k=1, eps=1e-5), [x])


def test_module_matches_the_formula(rng):
    ln = LayerNorm(4, eps=1e-3).to(dtype="float64")
    x = rng.standard_normal((2, 3, 4))
    want = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(ln(minigrad.tensor(x)).detach().numpy(), want, rtol=1e-12)
    assert list(ln.state_dict()) == ["weight", "bias"]
    np.testing.assert_array_equal(ln.weight.detach().numpy(), 1.0)
    np.testing.assert_array_equal(ln.bias.detach().numpy(), 0.0)


@pytest.mark.parametrize("shape", [(4,), (3, 4)])
def test_explicit_equals_composed(rng, shape):
    results = []
    for fn in ("explicit", "composed"):
        x, weight, bias = _inputs(np.random.default_rng(2), k=len(shape))
        if fn == "explicit":
            out = minigrad.nn.functional.layer_norm(x, shape, weight, bias, 1e-5)
        else:
            out = layer_norm_composed(x, shape, weight, bias, 1e-5)
        out.backward(minigrad.tensor(rng.standard_normal(out.shape), dtype="float64"))
        results.append([out.detach().numpy(), x.grad.numpy(), weight.grad.numpy(),
                        bias.grad.numpy()])
        rng = np.random.default_rng(0)
    for explicit, composed in zip(*results):
        np.testing.assert_allclose(explicit, composed, rtol=1e-10, atol=1e-12)


def test_matches_torch(rng):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.LayerNorm(5, eps=1e-4)
    with torch.no_grad():
        theirs.weight.normal_()
        theirs.bias.normal_()
    mine = LayerNorm(5, eps=1e-4)
    mine.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((3, 2, 5)).astype(np.float32)
    grad = rng.standard_normal((3, 2, 5)).astype(np.float32)
    tx, mx = torch.tensor(x, requires_grad=True), minigrad.tensor(x, requires_grad=True)
    theirs(tx).backward(torch.tensor(grad))
    out = mine(mx)
    out.backward(minigrad.tensor(grad))
    np.testing.assert_allclose(out.detach().numpy(), theirs(tx).detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), atol=1e-4)
    np.testing.assert_allclose(mine.weight.grad.numpy(), theirs.weight.grad.numpy(), atol=1e-4)
    np.testing.assert_allclose(mine.bias.grad.numpy(), theirs.bias.grad.numpy(), atol=1e-4)
