"""RNN step kernels, RNNCellFunction and RNNCell (layers/rnn.py)."""
import numpy as np
import pytest

import minigrad
from layers.rnn import RNNCell, RNNCellFunction, rnn_step_backward, rnn_step_forward
from recurrent_testing import host, numeric_vjp, on

N, D, H = 2, 3, 3


@pytest.mark.homework("hw2.rnn_step")
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_step_backward_matches_central_differences(device, rng, nonlinearity):
    x_proj, h_prev = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    w_hh_t = 0.5 * rng.standard_normal((H, H))
    grad_h = rng.standard_normal((N, H))
    h, cache = rnn_step_forward(on(device, x_proj), on(device, h_prev), on(device, w_hh_t),
                                nonlinearity)
    gh = on(device, grad_h)
    grad_a, grad_h_prev = rnn_step_backward(gh, cache)
    expected = numeric_vjp(lambda a, hp: rnn_step_forward(a, hp, w_hh_t, nonlinearity)[:1],
                           [x_proj.copy(), h_prev.copy()], [grad_h])
    np.testing.assert_allclose(host(grad_a), expected[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(host(grad_h_prev), expected[1], rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(host(gh), grad_h)          # grad_h left as it was


@pytest.mark.homework("hw2.rnn_step")
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_function_gradcheck(device, rng, nonlinearity):
    values = [rng.standard_normal(s) for s in [(N, D), (N, H), (H, D), (H, H), (H,), (H,)]]
    inputs = [minigrad.tensor(v, dtype="float64", device=device, requires_grad=True)
              for v in values]
    assert minigrad.gradcheck(
        lambda *a: RNNCellFunction.apply(*a, nonlinearity=nonlinearity), inputs)


def test_rnn_step_forward_is_the_formula(rng):
    x_proj, h_prev, w_hh_t = (rng.standard_normal((N, H)), rng.standard_normal((N, H)),
                              rng.standard_normal((H, H)))
    h, _ = rnn_step_forward(x_proj, h_prev, w_hh_t, "tanh")
    np.testing.assert_allclose(h, np.tanh(x_proj + h_prev @ w_hh_t), rtol=1e-12)
    h, _ = rnn_step_forward(x_proj, h_prev, w_hh_t, "relu")
    np.testing.assert_allclose(h, np.maximum(x_proj + h_prev @ w_hh_t, 0), rtol=1e-12)


@pytest.mark.parametrize("impl", ["explicit", "autograd"])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_gradcheck_both_impls(device, rng, impl, nonlinearity):
    cell = RNNCell(D, H, nonlinearity=nonlinearity, dtype="float64", device=device, impl=impl)
    x, h = (minigrad.tensor(rng.standard_normal(s), dtype="float64", device=device,
                            requires_grad=True) for s in [(N, D), (N, H)])
    assert minigrad.gradcheck(lambda x, h, *p: cell(x, h), [x, h, *cell.parameters()])


def test_rnn_cell_impls_agree(rng):
    cell = RNNCell(D, H, bias=False, dtype="float64")
    x = minigrad.tensor(rng.standard_normal((N, D)), dtype="float64", requires_grad=True)
    upstream = minigrad.tensor(rng.standard_normal((N, H)), dtype="float64")
    results = {}
    for impl in ("explicit", "autograd"):
        cell.zero_grad()
        x.grad = None
        h = cell(x, impl=impl)
        (h * upstream).sum().backward()
        results[impl] = [h.detach().numpy(), x.grad.numpy()] + [
            p.grad.numpy() for p in cell.parameters()]
    assert len(results["explicit"]) == 4      # no biases with bias=False
    for a, b in zip(results["explicit"], results["autograd"]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_parameters_and_init():
    cell = RNNCell(D, 5)
    assert [(n, p.shape) for n, p in cell.named_parameters()] == [
        ("weight_ih", (5, D)), ("weight_hh", (5, 5)), ("bias_ih", (5,)), ("bias_hh", (5,))]
    for p in cell.parameters():              # PyTorch: U(-1/sqrt(H), 1/sqrt(H))
        values = p.detach().numpy()
        assert np.all(np.abs(values) <= 1 / np.sqrt(5)) and np.ptp(values) > 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="nonlinearity"):
        RNNCell(D, H, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="impl"):
        RNNCell(D, H, impl="fast")
