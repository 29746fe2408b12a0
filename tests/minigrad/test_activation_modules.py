"""The activation and utility Modules (minigrad.nn.activation) against torch.nn's."""
import numpy as np
import pytest

import minigrad
from minigrad import nn

torch = pytest.importorskip("torch")


CASES = [
    ("ReLU", {}, {}),
    ("ReLU", {"inplace": True}, {"inplace": False}),   # ours is never in place
    ("GELU", {}, {}),
    ("GELU", {"approximate": "tanh"}, {"approximate": "tanh"}),
    ("Tanh", {}, {}),
    ("Sigmoid", {}, {}),
    ("Softmax", {"dim": 1}, {"dim": 1}),
    ("LogSoftmax", {"dim": -1}, {"dim": -1}),
    ("Identity", {}, {}),
    ("Flatten", {}, {}),
    ("Flatten", {"start_dim": 0, "end_dim": 1}, {"start_dim": 0, "end_dim": 1}),
]


@pytest.mark.parametrize("name, kwargs, torch_kwargs", CASES)
def test_matches_torch_forward_and_backward(name, kwargs, torch_kwargs, rng):
    x = rng.standard_normal((2, 3, 4))
    upstream = rng.standard_normal(getattr(torch.nn, name)(**torch_kwargs)(
        torch.from_numpy(x)).shape)
    tx = torch.tensor(x, requires_grad=True)
    ty = getattr(torch.nn, name)(**torch_kwargs)(tx)
    ty.backward(torch.from_numpy(upstream))
    mx = minigrad.tensor(x, dtype="float64", requires_grad=True)
    my = getattr(nn, name)(**kwargs)(mx)
    my.backward(minigrad.tensor(upstream, dtype="float64"))
    np.testing.assert_allclose(my.detach().numpy(), ty.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, kwargs, torch_kwargs", CASES)
def test_repr_as_torch(name, kwargs, torch_kwargs):
    if name == "ReLU" and kwargs:
        assert repr(nn.ReLU(inplace=True)) == repr(torch.nn.ReLU(inplace=True))
        return
    assert repr(getattr(nn, name)(**kwargs)) == repr(getattr(torch.nn, name)(**torch_kwargs))


def test_sequential_linear_relu_linear_works_as_pytorch(rng):
    layers = pytest.importorskip("layers")
    from layers import Linear, ReLU, Sequential     # where Sequential users import from
    model = Sequential(Linear(4, 8), ReLU(), Linear(8, 2))
    ref = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    assert list(model.state_dict()) == list(ref.state_dict())
    model.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x = rng.standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(model(minigrad.tensor(x)).detach().numpy(),
                               ref(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert layers.Identity is nn.Identity and layers.GELU is nn.GELU


def test_softmax_module_without_dim_asks_for_one():
    with pytest.raises(TypeError, match="give the dim"):
        nn.Softmax()(minigrad.zeros(2, 3))


def test_gelu_rejects_an_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU(approximate="fast")
