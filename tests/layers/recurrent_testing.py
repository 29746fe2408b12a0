"""Helpers for the recurrent tests: host-side numerical VJPs of the step kernels, and
stand-in step backwards built from them.

The stand-ins let the hw2.bptt tests check the BPTT driver alone: with the step kernels'
backwards replaced by central differences of their (given) forwards, a failing BPTT test
can only be the driver's fault, never a student's unfinished hw2.*_step.
"""
from typing import NamedTuple

import numpy as np

from minigrad import backend


def host(a):
    """A host float64 copy of a backend array (or None)."""
    return None if a is None else np.array(backend.to_numpy(a), dtype=np.float64)


def on(device, a):
    """A host array as a backend array on ``device`` (float64)."""
    return None if a is None else backend.as_array(np.asarray(a, dtype=np.float64), device=device)


def numeric_vjp(f, inputs, upstream, eps=1e-6):
    """Central differences of L = sum_k sum(f(*inputs)[k] * upstream[k]) w.r.t. each input.

    f: host arrays -> tuple of host arrays; inputs: host float64 arrays (perturbed in place
    and restored); upstream: host arrays (None entries are skipped).  Returns one gradient
    per input.
    """
    def loss():
        return sum(float((np.asarray(o) * u).sum()) for o, u in zip(f(*inputs), upstream)
                   if u is not None)
    grads = []
    for x in inputs:
        grad = np.zeros_like(x)
        flat, gflat = x.reshape(-1), grad.reshape(-1)
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            plus = loss()
            flat[i] = original - eps
            minus = loss()
            flat[i] = original
            gflat[i] = (plus - minus) / (2 * eps)
        grads.append(grad)
    return grads


class _Recorded(NamedTuple):
    """A stand-in cache: the step's inputs (host copies) and the real kernel's cache."""
    inputs: tuple
    real: object


def install_numeric_step_backwards(monkeypatch, module):
    """Replace the step kernels that ``module`` (recurrent_sequence) calls: the forwards by
    wrappers that also keep their inputs, the backwards by numerical VJPs of the forwards."""
    real_rnn, real_lstm, real_gru = (module.rnn_step_forward, module.lstm_step_forward,
                                     module.gru_step_forward)

    def rnn_forward(x_proj_t, h_prev, w_hh_t, nonlinearity="tanh"):
        inputs = (host(x_proj_t), host(h_prev), host(w_hh_t), nonlinearity)
        h, cache = real_rnn(x_proj_t, h_prev, w_hh_t, nonlinearity)
        return h, _Recorded(inputs, cache)

    def rnn_backward(grad_h, cache):
        x_proj, h_prev, w_hh_t, nonlinearity = cache.inputs
        grads = numeric_vjp(lambda a, h: real_rnn(a, h, w_hh_t, nonlinearity)[:1],
                            [x_proj.copy(), h_prev.copy()], [host(grad_h)])
        return tuple(on(backend.device_of(grad_h), g) for g in grads)

    def lstm_forward(x_proj_t, h_prev, c_prev, w_hh_t):
        inputs = (host(x_proj_t), host(h_prev), host(c_prev), host(w_hh_t))
        h, c, cache = real_lstm(x_proj_t, h_prev, c_prev, w_hh_t)
        return h, c, _Recorded(inputs, cache)

    def lstm_backward(grad_h, grad_c, cache):
        x_proj, h_prev, c_prev, w_hh_t = cache.inputs
        grads = numeric_vjp(lambda a, h, c: real_lstm(a, h, c, w_hh_t)[:2],
                            [x_proj.copy(), h_prev.copy(), c_prev.copy()],
                            [host(grad_h), host(grad_c)])
        device = backend.device_of(grad_h)
        # the 4th result (the total dL/dc_t) only feeds the recording, unused here
        return (*(on(device, g) for g in grads), on(device, np.zeros_like(c_prev)))

    def gru_forward(x_proj_t, h_prev, w_hh_t, b_hh=None):
        inputs = (host(x_proj_t), host(h_prev), host(w_hh_t), host(b_hh))
        h, cache = real_gru(x_proj_t, h_prev, w_hh_t, b_hh)
        return h, _Recorded(inputs, cache)

    def gru_backward(grad_h, cache):
        x_proj, h_prev, w_hh_t, b_hh = cache.inputs
        # a per-row copy of b_hh: its gradient is dL/dh_proj, row by row
        rows = np.zeros_like(x_proj) + (0.0 if b_hh is None else b_hh)
        grads = numeric_vjp(lambda a, h, b: real_gru(a, h, w_hh_t, b)[:1],
                            [x_proj.copy(), h_prev.copy(), rows], [host(grad_h)])
        device = backend.device_of(grad_h)
        grad_x_proj, grad_h_prev, grad_h_proj = (on(device, g) for g in grads)
        return grad_x_proj, grad_h_proj, grad_h_prev

    for name, fn in [("rnn_step_forward", rnn_forward), ("rnn_step_backward", rnn_backward),
                     ("lstm_step_forward", lstm_forward), ("lstm_step_backward", lstm_backward),
                     ("gru_step_forward", gru_forward), ("gru_step_backward", gru_backward)]:
        monkeypatch.setattr(module, name, fn)
