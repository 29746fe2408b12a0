"""minGRU and minLSTM (layers/min_rnn.py)."""
import numpy as np
import pytest

import minigrad
from layers.min_rnn import MinGRU, MinLSTM

N, T, D, H = 2, 7, 3, 4
MODELS = [MinGRU, MinLSTM]


def _x(rng, device=None, requires_grad=False):
    return minigrad.tensor(rng.standard_normal((N, T, D)), dtype="float64", device=device,
                           requires_grad=requires_grad)


@pytest.mark.parametrize("cls", MODELS)
def test_step_by_step_equals_the_parallel_forward(rng, cls):
    model = cls(D, H, dtype="float64")
    x = _x(rng)
    with minigrad.no_grad():
        out, h_n = model(x)
        h = model.new_state(N)
        for t in range(T):
            h = model.step(x[:, t], h)
            np.testing.assert_allclose(h.numpy(), out[:, t].numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_n.numpy(), h.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls", MODELS)
def test_modes_agree(rng, cls):
    x, h0 = _x(rng), minigrad.tensor(rng.standard_normal((N, H)), dtype="float64")
    model = cls(D, H, dtype="float64")
    outs = []
    for mode in ("loop", "scan", "chunked"):
        model.mode, model.chunk_size = mode, 3
        outs.append(model(x, h0)[0].detach().numpy())
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(outs[2], outs[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls", MODELS)
def test_gradcheck(device, rng, cls):
    model = cls(D, H, dtype="float64", device=device)
    x = _x(rng, device, requires_grad=True)
    h0 = minigrad.tensor(rng.standard_normal((N, H)), dtype="float64", device=device,
                         requires_grad=True)
    assert minigrad.gradcheck(lambda x, h0, *p: model(x, h0)[0], [x, h0, *model.parameters()])


def _torch_reference(torch, cls, x, h0, weight, bias):
    """The paper's equations, step by step, in PyTorch (autograd gives the gradients)."""
    h, outs = h0, []
    for t in range(x.shape[1]):
        proj = x[:, t] @ weight.T + bias
        if cls is MinGRU:
            z, candidate = proj.chunk(2, dim=-1)
            z = torch.sigmoid(z)
            h = (1 - z) * h + z * candidate
        else:
            f, i, candidate = proj.chunk(3, dim=-1)
            f, i = torch.sigmoid(f), torch.sigmoid(i)
            h = f / (f + i) * h + i / (f + i) * candidate
        outs.append(h)
    return torch.stack(outs, dim=1)


@pytest.mark.parametrize("cls", MODELS)
def test_against_a_pytorch_reference(rng, cls):
    torch = pytest.importorskip("torch")
    model = cls(D, H, dtype="float64")
    x, h0 = _x(rng, requires_grad=True), minigrad.tensor(rng.standard_normal((N, H)),
                                                         dtype="float64", requires_grad=True)
    upstream = rng.standard_normal((N, T, H))
    out, _ = model(x, h0)
    (out * minigrad.tensor(upstream)).sum().backward()

    tx, th0 = (torch.tensor(v.detach().numpy(), requires_grad=True) for v in (x, h0))
    tw, tb = (torch.tensor(p.detach().numpy(), requires_grad=True)
              for p in (model.linear.weight, model.linear.bias))
    tout = _torch_reference(torch, cls, tx, th0, tw, tb)
    (tout * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    for ours, theirs in [(x, tx), (h0, th0), (model.linear.weight, tw), (model.linear.bias, tb)]:
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_state_dict_and_errors():
    model = MinLSTM(D, H)
    assert set(model.state_dict()) == {"linear.weight", "linear.bias"}
    assert model.linear.weight.shape == (3 * H, D)
    with pytest.raises(ValueError, match="expected x"):
        model(minigrad.zeros(N, T, D + 1))
    with pytest.raises(ValueError, match="mode must be one of"):
        MinGRU(D, H, mode="parallel")
