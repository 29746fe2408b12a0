"""Tests of layers/linear.py: PyTorch's names, shapes and init, and torch's outputs."""
import math

import numpy as np
import pytest

import minigrad
from layers import Identity, Linear


def test_names_shapes_and_init_bounds(device):
    layer = Linear(300, 20, device=device)
    assert [(n, p.shape) for n, p in layer.named_parameters()] == \
        [("weight", (20, 300)), ("bias", (20,))]
    assert layer.weight.dtype == np.float32 and layer.weight.device == device
    # kaiming_uniform_(a=sqrt(5)): gain sqrt(2/(1+5)), bound gain sqrt(3/fan_in) = 1/sqrt(fan_in)
    bound = 1 / math.sqrt(300)
    for p in layer.parameters():
        values = p.detach().numpy()
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.9 * bound
    # U(-b, b) has std b / sqrt(3); 6000 samples give a relative error ~1%
    assert abs(layer.weight.detach().numpy().std() / (bound / math.sqrt(3)) - 1) < 0.05


def test_no_bias():
    layer = Linear(4, 3, bias=False)
    assert layer.bias is None and list(layer.state_dict()) == ["weight"]
    x = minigrad.randn(2, 4)
    np.testing.assert_allclose(layer(x).detach().numpy(),
                               x.numpy() @ layer.weight.detach().numpy().T, rtol=1e-6)


def test_torch_state_dict_gives_same_output_and_grads(device, rng):
    torch = pytest.importorskip("torch")
    ref = torch.nn.Linear(5, 3)
    layer = Linear(5, 3, device=device)
    layer.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x_np = rng.standard_normal((2, 4, 5)).astype(np.float32)      # (N, T, D)
    upstream = rng.standard_normal((2, 4, 3)).astype(np.float32)
    x = minigrad.tensor(x_np, device=device, requires_grad=True)
    out = layer(x)
    out.backward(minigrad.tensor(upstream, device=device))
    ref_x = torch.tensor(x_np, requires_grad=True)
    ref_out = ref(ref_x)
    ref_out.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.detach().numpy(), ref_out.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), ref_x.grad.numpy(), atol=1e-5)
    np.testing.assert_allclose(layer.weight.grad.numpy(), ref.weight.grad.numpy(), atol=1e-5)
    np.testing.assert_allclose(layer.bias.grad.numpy(), ref.bias.grad.numpy(), atol=1e-5)


def test_wrong_input_size_is_named():
    with pytest.raises(ValueError, match="linear.*7 features"):
        Linear(4, 3)(minigrad.randn(2, 7))


def test_identity():
    x = minigrad.randn(2, 3)
    assert Identity(54, unused=1)(x) is x
