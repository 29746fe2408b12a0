"""GRU step kernels, GRUCellFunction and GRUCell (layers/gru.py)."""
import numpy as np
import pytest

import minigrad
from layers.gru import GRUCell, GRUCellFunction, gru_step_backward, gru_step_forward
from recurrent_testing import host, numeric_vjp, on

N, D, H = 2, 3, 3


def _step_inputs(rng):
    """x_proj_t (N, 3H), h_prev (N, H), W_hh^T (H, 3H), b_hh (3H,), host float64."""
    return (rng.standard_normal((N, 3 * H)), rng.standard_normal((N, H)),
            0.5 * rng.standard_normal((H, 3 * H)), rng.standard_normal(3 * H))


@pytest.mark.homework("hw2.gru_step")
def test_gru_step_backward_matches_central_differences(device, rng):
    x_proj, h_prev, w_hh_t, b_hh = _step_inputs(rng)
    grad_h = rng.standard_normal((N, H))
    h, cache = gru_step_forward(*(on(device, a) for a in (x_proj, h_prev, w_hh_t, b_hh)))
    gh = on(device, grad_h)
    grad_x_proj, grad_h_proj, grad_h_prev = gru_step_backward(gh, cache)
    # dL/dh_proj is the gradient of a per-row bias added to h_prev W_hh^T
    rows = np.zeros((N, 3 * H)) + b_hh
    expected = numeric_vjp(lambda a, hp, b: gru_step_forward(a, hp, w_hh_t, b)[:1],
                           [x_proj.copy(), h_prev.copy(), rows], [grad_h])
    for name, got, want in zip(("grad_x_proj", "grad_h_prev", "grad_h_proj"),
                               (grad_x_proj, grad_h_prev, grad_h_proj), expected):
        np.testing.assert_allclose(host(got), want, rtol=1e-6, atol=1e-8, err_msg=name)
    np.testing.assert_array_equal(host(gh), grad_h)


@pytest.mark.homework("hw2.gru_step")
def test_gru_cell_function_gradcheck(device, rng):
    values = [rng.standard_normal(s) for s in
              [(N, D), (N, H), (3 * H, D), (3 * H, H), (3 * H,), (3 * H,)]]
    inputs = [minigrad.tensor(v, dtype="float64", device=device, requires_grad=True)
              for v in values]
    assert minigrad.gradcheck(lambda *a: GRUCellFunction.apply(*a), inputs)


def test_forward_is_pytorchs_formula(rng):
    # n = tanh(x_n + r * (h W_hn^T + b_hn)): b_hn inside the product with r
    x_proj, h_prev, w_hh_t, b_hh = _step_inputs(rng)
    h, _ = gru_step_forward(x_proj, h_prev, w_hh_t, b_hh)
    h_proj = h_prev @ w_hh_t + b_hh
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    r = sig(x_proj[:, :H] + h_proj[:, :H])
    z = sig(x_proj[:, H:2 * H] + h_proj[:, H:2 * H])
    n = np.tanh(x_proj[:, 2 * H:] + r * h_proj[:, 2 * H:])
    np.testing.assert_allclose(h, (1 - z) * n + z * h_prev, rtol=1e-12)


def test_gru_step_leaves_its_inputs_unchanged(rng):
    x_proj, h_prev, w_hh_t, b_hh = _step_inputs(rng)
    copies = [a.copy() for a in (x_proj, h_prev, w_hh_t, b_hh)]
    _, cache = gru_step_forward(x_proj, h_prev, w_hh_t, b_hh)
    gru_step_backward(rng.standard_normal((N, H)), cache)
    for a, b in zip((x_proj, h_prev, w_hh_t, b_hh), copies):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("impl", ["explicit", "autograd"])
def test_gru_cell_gradcheck_both_impls(device, rng, impl):
    cell = GRUCell(D, H, dtype="float64", device=device, impl=impl)
    x, h = (minigrad.tensor(rng.standard_normal(s), dtype="float64", device=device,
                            requires_grad=True) for s in [(N, D), (N, H)])
    assert minigrad.gradcheck(lambda x, h, *p: cell(x, h), [x, h, *cell.parameters()])


@pytest.mark.parametrize("bias", [True, False])
def test_gru_cell_impls_agree(rng, bias):
    cell = GRUCell(D, H, bias=bias, dtype="float64")
    x = minigrad.tensor(rng.standard_normal((N, D)), dtype="float64", requires_grad=True)
    h0 = minigrad.tensor(rng.standard_normal((N, H)), dtype="float64", requires_grad=True)
    upstream = minigrad.tensor(rng.standard_normal((N, H)), dtype="float64")
    results = {}
    for impl in ("explicit", "autograd"):
        cell.zero_grad()
        x.grad = h0.grad = None
        h = cell(x, h0, impl=impl)
        (h * upstream).sum().backward()
        results[impl] = [h.detach().numpy(), x.grad.numpy(), h0.grad.numpy()] + [
            p.grad.numpy() for p in cell.parameters()]
    for a, b in zip(results["explicit"], results["autograd"]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_unbatched_input():
    cell = GRUCell(D, H)
    h = cell(minigrad.zeros(D))
    assert h.shape == (H,)
