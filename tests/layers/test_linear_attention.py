"""Causal linear attention (layers/linear_attention.py)."""
import numpy as np
import pytest

import minigrad
from layers.linear_attention import CausalLinearAttention

N, T, E, nh = 2, 7, 6, 2
DECAYS = [None, 0.9, (0.5, 0.95)]


def _x(rng, device=None, requires_grad=False):
    return minigrad.tensor(rng.standard_normal((N, T, E)), dtype="float64", device=device,
                           requires_grad=requires_grad)


@pytest.mark.parametrize("decay", DECAYS)
def test_parallel_recurrent_chunked_and_step_are_one_function(rng, decay):
    layer = CausalLinearAttention(E, nh, decay=decay, dtype="float64", chunk_size=3)
    x = _x(rng)
    with minigrad.no_grad():
        want = layer(x, mode="parallel").numpy()
        for scan_mode in ("loop", "scan", "chunked"):
            layer.scan_mode = scan_mode
            np.testing.assert_allclose(layer(x, mode="recurrent").numpy(), want, rtol=1e-10,
                                       atol=1e-12, err_msg=scan_mode)
        np.testing.assert_allclose(layer(x, mode="chunked").numpy(), want, rtol=1e-10,
                                   atol=1e-12)
        state = layer.new_state(N)
        for t in range(T):
            y_t, state = layer.step(x[:, t], state)
            np.testing.assert_allclose(y_t.numpy(), want[:, t], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["parallel", "recurrent", "chunked"])
def test_gradcheck(device, rng, mode):
    layer = CausalLinearAttention(4, 2, decay=0.8, dtype="float64", device=device, mode=mode,
                                  chunk_size=2)
    x = minigrad.tensor(rng.standard_normal((1, 5, 4)), dtype="float64", device=device,
                        requires_grad=True)
    assert minigrad.gradcheck(lambda x, *p: layer(x), [x, *layer.parameters()])


def test_against_a_pytorch_reference(rng):
    # Katharopoulos' recurrent form, written in PyTorch with a loop, with a decay
    torch = pytest.importorskip("torch")
    layer = CausalLinearAttention(E, nh, decay=(0.7, 1.0), dtype="float64")
    x = _x(rng, requires_grad=True)
    upstream = rng.standard_normal((N, T, E))
    (layer(x) * minigrad.tensor(upstream)).sum().backward()
    p = {k: torch.tensor(v.detach().numpy(), requires_grad=True)
         for k, v in layer.named_parameters()}
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    hd = E // nh

    def proj(name, v):
        return (v @ p[f"{name}.weight"].T + p[f"{name}.bias"]).reshape(N, T, nh, hd)
    phi = lambda v: torch.nn.functional.elu(v) + 1  # noqa: E731
    q, k, v = phi(proj("q_proj", tx)), phi(proj("k_proj", tx)), proj("v_proj", tx)
    gamma = torch.tensor([0.7, 1.0], dtype=torch.float64).reshape(1, nh, 1)
    S = torch.zeros(N, nh, hd, hd, dtype=torch.float64)
    z = torch.zeros(N, nh, hd, dtype=torch.float64)
    ys = []
    for t in range(T):
        S = gamma[..., None] * S + torch.einsum("nhi,nhj->nhij", k[:, t], v[:, t])
        z = gamma * z + k[:, t]
        num = torch.einsum("nhi,nhij->nhj", q[:, t], S)
        ys.append(num / ((q[:, t] * z).sum(-1, keepdim=True) + 1e-6))
    ty = torch.stack(ys, dim=1).reshape(N, T, E) @ p["out_proj.weight"].T + p["out_proj.bias"]
    (ty * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(layer(x).detach().numpy(), ty.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    for name, param in layer.named_parameters():
        np.testing.assert_allclose(param.grad.numpy(), p[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="decay must be"):
        CausalLinearAttention(E, nh, decay=1.5)
    with pytest.raises(ValueError, match="not divisible"):
        CausalLinearAttention(5, 2)
    with pytest.raises(ValueError, match="mode must be one of"):
        CausalLinearAttention(E, nh, mode="softmax")
