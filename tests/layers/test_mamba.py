"""The selective scan (layers/selective_scan.py) and the Mamba block (layers/mamba.py)."""
import numpy as np
import pytest

import minigrad
from layers.mamba import Mamba
from layers.scan import MODES
from layers.selective_scan import (selective_scan, selective_scan_backward,
                                   selective_scan_composed, selective_scan_forward)
from recurrent_testing import host, numeric_vjp, on

N, T, Di, n = 2, 6, 3, 4


def _scan_inputs(rng):
    """u, delta (N, T, Di), A (Di, n) negative, B, C (N, T, n), D (Di,): host float64."""
    return (rng.standard_normal((N, T, Di)), rng.uniform(0.1, 1.0, (N, T, Di)),
            -rng.uniform(0.5, 2.0, (Di, n)), rng.standard_normal((N, T, n)),
            rng.standard_normal((N, T, n)), rng.standard_normal(Di))


def _selective_scan_host(u, delta, A, B, C, D):
    """mamba-minimal's selective_scan, in NumPy: the reference."""
    deltaA = np.exp(np.einsum("btd,dn->btdn", delta, A))
    deltaB_u = np.einsum("btd,btn,btd->btdn", delta, B, u)
    x, ys = np.zeros((u.shape[0], u.shape[2], A.shape[1])), []
    for i in range(u.shape[1]):
        x = deltaA[:, i] * x + deltaB_u[:, i]
        ys.append(np.einsum("bdn,bn->bd", x, C[:, i]))
    return np.stack(ys, axis=1) + u * D


@pytest.mark.homework("hw5.selective_scan")
@pytest.mark.parametrize("mode", MODES)
def test_selective_scan_backward_matches_central_differences(device, rng, mode):
    inputs = _scan_inputs(rng)
    grad_y = rng.standard_normal((N, T, Di))
    y, cache = selective_scan_forward(*(on(device, v) for v in inputs), mode=mode, chunk_size=4)
    np.testing.assert_allclose(host(y), _selective_scan_host(*inputs), rtol=1e-10, atol=1e-12)
    gy = on(device, grad_y)
    grads = selective_scan_backward(gy, cache)
    want = numeric_vjp(lambda *v: (_selective_scan_host(*v),), [v.copy() for v in inputs],
                       [grad_y])
    for name, got, expected in zip(["u", "delta", "A", "B", "C", "D"], grads, want):
        np.testing.assert_allclose(host(got), expected, rtol=1e-6, atol=1e-8, err_msg=name)
    np.testing.assert_array_equal(host(gy), grad_y)


def test_selective_scan_gradcheck_and_composed(device, rng):
    values = _scan_inputs(rng)
    tensors = [minigrad.tensor(v, dtype="float64", device=device, requires_grad=True)
               for v in values]
    assert minigrad.gradcheck(lambda *a: selective_scan(*a, mode="scan"), tensors)
    upstream = minigrad.tensor(rng.standard_normal((N, T, Di)), dtype="float64", device=device)
    results = []
    for fn in (lambda *a: selective_scan(*a, mode="chunked", chunk_size=4),
               selective_scan_composed):
        for t in tensors:
            t.grad = None
        y = fn(*tensors)
        (y * upstream).sum().backward()
        results.append([y.detach().numpy()] + [t.grad.numpy() for t in tensors])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("selective", [True, False])
def test_mamba_step_by_step_equals_the_parallel_forward(rng, selective):
    model = Mamba(8, d_state=4, d_conv=3, expand=2, selective=selective, dtype="float64")
    x = minigrad.tensor(rng.standard_normal((N, 9, 8)), dtype="float64")
    with minigrad.no_grad():
        y = model(x).numpy()
        state = model.new_state(N)
        for t in range(9):
            y_t, state = model.step(x[:, t], state)
            np.testing.assert_allclose(y_t.numpy(), y[:, t], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("selective", [True, False])
def test_mamba_gradcheck(device, rng, selective):
    model = Mamba(4, d_state=2, d_conv=2, expand=1, dt_rank=1, selective=selective,
                  dtype="float64", device=device)
    x = minigrad.tensor(rng.standard_normal((1, 4, 4)), dtype="float64", device=device,
                        requires_grad=True)
    assert minigrad.gradcheck(lambda x, *p: model(x), [x, *model.parameters()])


def _torch_mamba(torch, p, x):
    """mamba-minimal's Mamba block (MambaBlock.forward + ssm + selective_scan), with p a
    dict of our parameters as torch tensors."""
    F = torch.nn.functional
    b, l, d = x.shape
    x_and_res = x @ p["in_proj.weight"].T
    x, res = x_and_res.chunk(2, dim=-1)
    x = x.transpose(1, 2)
    x = F.conv1d(x, p["conv1d.weight"], p["conv1d.bias"], groups=x.shape[1],
                 padding=p["conv1d.weight"].shape[-1] - 1)[:, :, :l]
    x = F.silu(x.transpose(1, 2))
    A = -torch.exp(p["A_log"])
    n = A.shape[1]
    x_dbl = x @ p["x_proj.weight"].T
    delta, B, C = x_dbl.split([x_dbl.shape[-1] - 2 * n, n, n], dim=-1)
    delta = F.softplus(delta @ p["dt_proj.weight"].T + p["dt_proj.bias"])
    deltaA = torch.exp(torch.einsum("bld,dn->bldn", delta, A))
    deltaB_u = torch.einsum("bld,bln,bld->bldn", delta, B, x)
    h = torch.zeros(b, x.shape[-1], n, dtype=x.dtype)
    ys = []
    for i in range(l):
        h = deltaA[:, i] * h + deltaB_u[:, i]
        ys.append(torch.einsum("bdn,bn->bd", h, C[:, i]))
    y = torch.stack(ys, dim=1) + x * p["D"]
    y = y * F.silu(res)
    return y @ p["out_proj.weight"].T


def test_mamba_against_mamba_minimal_in_pytorch(rng):
    torch = pytest.importorskip("torch")
    model = Mamba(8, d_state=4, d_conv=4, expand=2, dtype="float64")
    x = minigrad.tensor(rng.standard_normal((N, 7, 8)), dtype="float64", requires_grad=True)
    upstream = rng.standard_normal((N, 7, 8))
    (model(x) * minigrad.tensor(upstream)).sum().backward()
    y = model(x).detach().numpy()

    params = {k: torch.tensor(v.detach().numpy(), requires_grad=True)
              for k, v in model.named_parameters()}
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    ty = _torch_mamba(torch, params, tx)
    (ty * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), params[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)


def test_state_dict_keys_and_errors():
    model = Mamba(16, d_state=4)
    assert set(model.state_dict()) == {"in_proj.weight", "conv1d.weight", "conv1d.bias",
                                       "x_proj.weight", "dt_proj.weight", "dt_proj.bias",
                                       "A_log", "D", "out_proj.weight"}
    assert model.conv1d.weight.shape == (32, 1, 4) and model.x_proj.weight.shape == (1 + 8, 32)
    with pytest.raises(ValueError, match="expected x"):
        model(minigrad.zeros(1, 3, 8))
