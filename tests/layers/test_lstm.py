"""LSTM step kernels, LSTMCellFunction and LSTMCell (layers/lstm.py)."""
import numpy as np
import pytest

import minigrad
from layers.lstm import (LSTMCell, LSTMCellFunction, lstm_step_backward, lstm_step_forward)
from recurrent_testing import host, numeric_vjp, on

N, D, H = 2, 3, 3


def _step_inputs(rng):
    """x_proj_t (N, 4H), h_prev, c_prev (N, H), W_hh^T (H, 4H), host float64."""
    return (rng.standard_normal((N, 4 * H)), rng.standard_normal((N, H)),
            rng.standard_normal((N, H)), 0.5 * rng.standard_normal((H, 4 * H)))


@pytest.mark.homework("hw2.lstm_step")
def test_lstm_step_backward_matches_central_differences(device, rng):
    x_proj, h_prev, c_prev, w_hh_t = _step_inputs(rng)
    grad_h, grad_c = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    h, c, cache = lstm_step_forward(*(on(device, a) for a in (x_proj, h_prev, c_prev, w_hh_t)))
    gh, gc = on(device, grad_h), on(device, grad_c)
    grad_gates, grad_h_prev, grad_c_prev, grad_c_total = lstm_step_backward(gh, gc, cache)

    # L = sum(h_t * grad_h) + sum(c_t * grad_c), differentiated by central differences
    expected = numeric_vjp(lambda a, hp, cp: lstm_step_forward(a, hp, cp, w_hh_t)[:2],
                           [x_proj.copy(), h_prev.copy(), c_prev.copy()], [grad_h, grad_c])
    for name, got, want in zip(("grad_gates", "grad_h_prev", "grad_c_prev"),
                               (grad_gates, grad_h_prev, grad_c_prev), expected):
        np.testing.assert_allclose(host(got), want, rtol=1e-6, atol=1e-8, err_msg=name)
    # the total dL/dc_t: c_t reaches L directly (grad_c) and through h_t = o * tanh(c_t)
    o = host(cache.o)
    total = numeric_vjp(lambda cc: (o * np.tanh(cc), cc), [host(c)], [grad_h, grad_c])[0]
    np.testing.assert_allclose(host(grad_c_total), total, rtol=1e-6, atol=1e-8)
    # the incoming gradients are left as they were
    np.testing.assert_array_equal(host(gh), grad_h)
    np.testing.assert_array_equal(host(gc), grad_c)


@pytest.mark.homework("hw2.lstm_step")
def test_lstm_cell_function_gradcheck(device, rng):
    values = [rng.standard_normal(s) for s in
              [(N, D), (N, H), (N, H), (4 * H, D), (4 * H, H), (4 * H,), (4 * H,)]]
    inputs = [minigrad.tensor(v, dtype="float64", device=device, requires_grad=True)
              for v in values]
    assert minigrad.gradcheck(lambda *a: LSTMCellFunction.apply(*a), inputs)


def test_lstm_step_leaves_its_inputs_unchanged(rng):
    x_proj, h_prev, c_prev, w_hh_t = _step_inputs(rng)
    copies = [a.copy() for a in (x_proj, h_prev, c_prev, w_hh_t)]
    _, _, cache = lstm_step_forward(x_proj, h_prev, c_prev, w_hh_t)
    lstm_step_backward(rng.standard_normal((N, H)), rng.standard_normal((N, H)), cache)
    for a, b in zip((x_proj, h_prev, c_prev, w_hh_t), copies):
        np.testing.assert_array_equal(a, b)


def test_forward_matches_the_gate_equations(rng):
    # i, f, g, o slices in PyTorch's order; c = f c_prev + i g; h = o tanh(c)
    x_proj, h_prev, c_prev, w_hh_t = _step_inputs(rng)
    h, c, _ = lstm_step_forward(x_proj, h_prev, c_prev, w_hh_t)
    a = x_proj + h_prev @ w_hh_t
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    i, f, g, o = sig(a[:, :H]), sig(a[:, H:2 * H]), np.tanh(a[:, 2 * H:3 * H]), sig(a[:, 3 * H:])
    np.testing.assert_allclose(c, f * c_prev + i * g, rtol=1e-12)
    np.testing.assert_allclose(h, o * np.tanh(f * c_prev + i * g), rtol=1e-12)


@pytest.mark.parametrize("impl", ["explicit", "autograd"])
def test_lstm_cell_gradcheck_both_impls(device, rng, impl):
    cell = LSTMCell(D, H, dtype="float64", device=device, impl=impl)
    x, h, c = (minigrad.tensor(rng.standard_normal(s), dtype="float64", device=device,
                               requires_grad=True) for s in [(N, D), (N, H), (N, H)])
    assert minigrad.gradcheck(lambda x, h, c, *p: cell(x, (h, c)),
                              [x, h, c, *cell.parameters()])


def test_lstm_cell_impls_agree(device, rng):
    cell = LSTMCell(D, H, dtype="float64", device=device)
    x = minigrad.tensor(rng.standard_normal((N, D)), dtype="float64", device=device,
                        requires_grad=True)
    upstream = [minigrad.tensor(rng.standard_normal((N, H)), dtype="float64", device=device)
                for _ in range(2)]
    results = {}
    for impl in ("explicit", "autograd"):
        cell.zero_grad()
        x.grad = None
        h, c = cell(x, impl=impl)               # no state given: zeros
        ((h * upstream[0]).sum() + (c * upstream[1]).sum()).backward()
        results[impl] = [h.detach().numpy(), c.detach().numpy(), x.grad.numpy()] + [
            p.grad.numpy() for p in cell.parameters()]
    for a, b in zip(results["explicit"], results["autograd"]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_unbatched_input_is_one_row_of_a_batch(rng):
    cell = LSTMCell(D, H)
    x = minigrad.tensor(rng.standard_normal((1, D)), dtype="float32")
    h1, c1 = cell(x)
    h0, c0 = cell(x.reshape(D))
    assert h0.shape == (H,) and c0.shape == (H,)
    np.testing.assert_allclose(h0.detach().numpy(), h1.detach().numpy()[0], rtol=1e-6)


def test_forget_bias_sets_the_forget_slice_only(rng):
    cell = LSTMCell(D, H, forget_bias=1.0)
    b_ih, b_hh = cell.bias_ih.detach().numpy(), cell.bias_hh.detach().numpy()
    np.testing.assert_array_equal(b_ih[H:2 * H], 1.0)
    np.testing.assert_array_equal(b_hh[H:2 * H], 0.0)
    bound = 1 / np.sqrt(H)                   # the other slices keep PyTorch's U(-1/sqrt(H), .)
    assert np.all(np.abs(np.delete(b_ih, np.s_[H:2 * H])) <= bound)
    assert np.ptp(np.delete(b_ih, np.s_[H:2 * H])) > 0
    with pytest.raises(ValueError, match="bias"):
        LSTMCell(D, H, bias=False, forget_bias=1.0)


def test_errors_name_the_shapes():
    cell = LSTMCell(D, H)
    with pytest.raises(ValueError, match="input_size=3"):
        cell(minigrad.zeros(N, D + 1))
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        cell(minigrad.zeros(N, D), (minigrad.zeros(N + 1, H), minigrad.zeros(N + 1, H)))
    with pytest.raises(TypeError, match="dtype"):
        cell(minigrad.zeros(N, D, dtype="float64"))
