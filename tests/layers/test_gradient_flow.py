"""The textbook facts about gradients through time, with real numbers.

A loss on the last output of a 100-step sequence; the recording gives the total gradient
dL/dh_t at every step (``hidden_grads``), so we can see how much of it reaches step 0.
"""
import numpy as np
import pytest

import minigrad
from layers import LSTM, RNN
from layer_testing import fill_

T, N, D, H = 100, 4, 8, 16


@pytest.fixture
def inputs(rng):
    return minigrad.tensor(rng.standard_normal((T, N, D)), dtype="float64")


def _step_norms(module, x, rng):
    """||dL/dh_t|| for t = 0..T-1 (layer 0), L = sum(output[T-1] * R) with R random."""
    module.record = True
    output = module(x)[0]
    upstream = minigrad.tensor(rng.standard_normal((N, H)), dtype="float64")
    (output[T - 1] * upstream).sum().backward()
    grads = module.hidden_grads[0].numpy().reshape(T, -1)
    return np.linalg.norm(grads, axis=1), output


def test_tanh_rnn_with_contracting_weights_vanishes(inputs, rng):
    rnn = RNN(D, H, dtype="float64")
    q, _ = np.linalg.qr(rng.standard_normal((H, H)))
    fill_(rnn.weight_hh_l0, 0.5 * q)            # every singular value 0.5: radius = norm = 0.5
    norms, _ = _step_norms(rnn, inputs, rng)
    # dL/dh_{t-1} = (dL/dh_t * (1 - h_t^2)) @ W_hh and |tanh'| <= 1, so each step back
    # shrinks the gradient at least by ||W_hh|| = 0.5:  ||dL/dh_0|| <= 0.5^99 ||dL/dh_99||
    assert np.all(norms[:-1] <= 0.5 * norms[1:] * (1 + 1e-9))
    ratio = norms[0] / norms[-1]
    assert 0 < ratio <= 0.5 ** (T - 1) * (1 + 1e-9)    # 0.5^99 ~ 1.6e-30
    assert ratio < 1e-29


def test_relu_rnn_with_expanding_weights_explodes_and_clipping_bounds_the_step(inputs, rng):
    rnn = RNN(D, H, nonlinearity="relu", dtype="float64")
    with minigrad.no_grad():
        fill_(rnn.weight_hh_l0, 1.2 * np.eye(H))         # radius 1.2
        rnn.weight_ih_l0.data[...] *= 0.1               # |x W_ih^T| < 0.1 per unit ...
        rnn.bias_ih_l0.data[...] = 1.0                  # ... so the pre-activation stays > 0
    norms, output = _step_norms(rnn, inputs, rng)
    assert np.all(output.detach().numpy() > 0)
    # every unit is active, so relu' = 1 and dL/dh_{t-1} = dL/dh_t @ (1.2 I): exactly
    # ||dL/dh_0|| = 1.2^99 ||dL/dh_99|| ~ 6.9e7
    np.testing.assert_allclose(norms[0] / norms[-1], 1.2 ** (T - 1), rtol=1e-9)

    # the weight gradients add up all those steps: far too large for a plain SGD step
    params = list(rnn.parameters())
    before = [p.detach().numpy().copy() for p in params]
    total = float(minigrad.optim.clip_grad_norm_(params, max_norm=1.0))
    assert total > 1e6
    clipped = np.sqrt(sum(float((p.grad.numpy() ** 2).sum()) for p in params))
    np.testing.assert_allclose(clipped, 1.0, rtol=1e-5)  # rescaled to max_norm
    minigrad.optim.SGD(params, lr=0.1).step()
    moved = np.sqrt(sum(((p.detach().numpy() - b) ** 2).sum() for p, b in zip(params, before)))
    assert moved <= 0.1 * (1 + 1e-5)                     # ||update|| = lr * ||clipped grad||


def test_lstm_with_forget_bias_one_keeps_far_more_gradient_than_a_tanh_rnn(inputs, rng):
    rnn = RNN(D, H, dtype="float64")
    lstm = LSTM(D, H, dtype="float64", forget_bias=1.0)
    rnn_norms, _ = _step_norms(rnn, inputs, rng)
    lstm_norms, _ = _step_norms(lstm, inputs, rng)
    rnn_ratio = rnn_norms[0] / rnn_norms[-1]
    lstm_ratio = lstm_norms[0] / lstm_norms[-1]
    # RNN at PyTorch's init: W_hh ~ U(-1/4, 1/4) (H = 16) has spectral radius ~0.6, and
    # tanh' < 1 shrinks it further: below 1e-20 after 99 steps (measured ~1e-25..1e-34).
    assert rnn_ratio < 1e-20
    # LSTM: the cell-state path dc_{t-1} = f_t * dc_t has no weight matrix and no tanh';
    # with f ~ sigmoid(1) = 0.73 it shrinks ~0.73 per step (0.73^99 ~ 3e-14), and steps
    # with larger f do better (measured ~1e-10..1e-8): at least 10^6 times the RNN's.
    assert lstm_ratio > 1e6 * rnn_ratio
    assert lstm_ratio > 1e-13
