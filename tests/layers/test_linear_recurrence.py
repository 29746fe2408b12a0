"""The linear recurrence h_t = a_t h_{t-1} + b_t: three modes, their backward (layers/
linear_recurrence.py and layers/scan.py)."""
import numpy as np
import pytest

import minigrad
from layers.linear_recurrence import (MODES, linear_recurrence, linear_recurrence_composed,
                                      scan_backward, scan_forward)
from layers.scan import solve
from recurrent_testing import host, numeric_vjp, on


def _loop_host(a, b, h0):
    """The recurrence in plain float64 NumPy, the reference for everything below."""
    h, out = h0.astype(np.float64), np.empty(b.shape)
    for t in range(b.shape[1]):
        h = a[:, t] * h + b[:, t]
        out[:, t] = h
    return out


def _inputs(rng, N=2, T=11, D=3, signed=True):
    a = rng.uniform(-1.1, 1.1, (N, T, D)) if signed else rng.uniform(0.2, 1.0, (N, T, D))
    return a, rng.standard_normal((N, T, D)), rng.standard_normal((N, D))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("T", [1, 2, 7, 16, 37])
@pytest.mark.parametrize("chunk_size", [1, 4, 64])
def test_solvers_equal_the_loop_to_1e_10(rng, mode, T, chunk_size):
    a, b, h0 = _inputs(rng, T=T)
    want = _loop_host(a, b, h0)
    np.testing.assert_allclose(solve(a, b, h0, mode, chunk_size), want, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(solve(a, b, None, mode, chunk_size), _loop_host(a, b, 0 * h0),
                               rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode", MODES)
def test_reverse_runs_from_the_end(rng, mode):
    a, b, h0 = _inputs(rng, T=9)
    want = _loop_host(a[:, ::-1], b[:, ::-1], h0)[:, ::-1]
    np.testing.assert_allclose(solve(a, b, h0, mode, 4, reverse=True), want, rtol=1e-10,
                               atol=1e-10)


@pytest.mark.homework("hw5.reverse_scan")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("with_h0", [True, False])
def test_scan_backward_matches_central_differences(device, rng, mode, with_h0):
    a, b, h0 = _inputs(rng, T=6)
    grad_h = rng.standard_normal(b.shape)
    h, cache = scan_forward(on(device, a), on(device, b), on(device, h0) if with_h0 else None,
                            mode, 4)
    gh = on(device, grad_h)
    grad_a, grad_b, grad_h0 = scan_backward(gh, cache)

    def f(a, b, h0):
        return (_loop_host(a, b, h0 if with_h0 else 0 * h0),)
    want = numeric_vjp(f, [a.copy(), b.copy(), h0.copy()], [grad_h])
    np.testing.assert_allclose(host(grad_a), want[0], rtol=1e-6, atol=1e-8, err_msg="grad_a")
    np.testing.assert_allclose(host(grad_b), want[1], rtol=1e-6, atol=1e-8, err_msg="grad_b")
    if with_h0:
        np.testing.assert_allclose(host(grad_h0), want[2], rtol=1e-6, atol=1e-8)
    else:
        assert grad_h0 is None
    np.testing.assert_array_equal(host(gh), grad_h)          # the incoming gradient is unchanged


@pytest.mark.parametrize("mode", MODES)
def test_gradcheck_each_mode(device, rng, mode):
    a, b, h0 = (minigrad.tensor(v, dtype="float64", device=device, requires_grad=True)
                for v in _inputs(rng, T=5))
    assert minigrad.gradcheck(lambda a, b, h0: linear_recurrence(a, b, h0, mode, 2), [a, b, h0])


def test_modes_and_composed_agree_in_value_and_gradient(rng):
    values = _inputs(rng, T=13)
    upstream = minigrad.tensor(rng.standard_normal(values[1].shape), dtype="float64")
    results = {}
    for name in MODES + ("composed",):
        a, b, h0 = (minigrad.tensor(v, dtype="float64", requires_grad=True) for v in values)
        if name == "composed":
            h = linear_recurrence_composed(a, b, h0)
        else:
            h = linear_recurrence(a, b, h0, mode=name, chunk_size=4)
        (h * upstream).sum().backward()
        results[name] = [h.detach().numpy(), a.grad.numpy(), b.grad.numpy(), h0.grad.numpy()]
    for name in MODES:
        for got, want in zip(results[name], results["composed"]):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("mode", MODES)
def test_float32_at_65536_steps_stays_close_to_a_float64_loop(rng, mode):
    # products of 65,536 a's underflow float32 many times over; nothing may divide by them
    N, T, D = 1, 65536, 2
    a = rng.uniform(0.5, 1.0, (N, T, D))
    a[0, ::997] = 0.0                                      # exact zeros: log space would fail
    a[0, :, 1] = 1.0 - 1e-4                                # a slow decay: long memory
    b = rng.standard_normal((N, T, D))
    want = _loop_host(a, b, np.zeros((N, D)))
    got = solve(a.astype(np.float32), b.astype(np.float32), None, mode, 256)
    assert got.dtype == np.float32 and np.isfinite(got).all()
    scale = np.abs(want).max(axis=1, keepdims=True)
    assert np.max(np.abs(got - want) / scale) < 1e-4


def test_float32_gradient_at_long_T_is_finite(rng):
    N, T, D = 1, 4096, 2
    a = minigrad.tensor(rng.uniform(0.0, 1.0, (N, T, D)), requires_grad=True)
    b = minigrad.tensor(rng.standard_normal((N, T, D)), requires_grad=True)
    for mode in MODES:
        a.grad = b.grad = None
        linear_recurrence(a, b, mode=mode).sum().backward()
        assert np.isfinite(a.grad.numpy()).all() and np.isfinite(b.grad.numpy()).all()


def test_bad_input_is_named():
    a = minigrad.zeros(2, 3, 4)
    with pytest.raises(ValueError, match="a and b must both be"):
        linear_recurrence(a, minigrad.zeros(2, 3, 5))
    with pytest.raises(ValueError, match="h0 must be"):
        linear_recurrence(a, a, minigrad.zeros(2, 5))
    with pytest.raises(ValueError, match="mode must be one of"):
        linear_recurrence(a, a, mode="fast")
