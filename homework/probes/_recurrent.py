"""Sandbox-side helpers of the recurrent probes: numerical VJPs of the step forwards."""
import numpy as np


def numeric_vjp(f, inputs, upstream, eps=1e-6):
    """Central differences of L = sum_k sum(f(*inputs)[k] * upstream[k]) w.r.t. each input."""
    def loss():
        return sum(float((np.asarray(o) * u).sum()) for o, u in zip(f(*inputs), upstream))
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


def f64(a):
    return None if a is None else np.array(a, dtype=np.float64)


def install_numeric_step_backwards(module):
    """Replace the step kernels that `module` (layers.recurrent_sequence) calls: the backwards
    become numerical VJPs of the forwards, so a BPTT probe checks the driver alone."""
    real_rnn, real_lstm, real_gru = (module.rnn_step_forward, module.lstm_step_forward,
                                     module.gru_step_forward)

    # The wrappers pass on whatever else the driver gives the real forwards (out= buffers).
    def rnn_forward(x_proj_t, h_prev, w_hh_t, nonlinearity="tanh", **kwargs):
        h, _ = real_rnn(x_proj_t, h_prev, w_hh_t, nonlinearity, **kwargs)
        return h, (f64(x_proj_t), f64(h_prev), f64(w_hh_t), nonlinearity)

    def rnn_backward(grad_h, cache, **kwargs):
        x_proj, h_prev, w_hh_t, nonlinearity = cache
        return tuple(numeric_vjp(lambda a, h: real_rnn(a, h, w_hh_t, nonlinearity)[:1],
                                 [x_proj.copy(), h_prev.copy()], [f64(grad_h)]))

    def lstm_forward(x_proj_t, h_prev, c_prev, w_hh_t, **kwargs):
        h, c, _ = real_lstm(x_proj_t, h_prev, c_prev, w_hh_t, **kwargs)
        return h, c, (f64(x_proj_t), f64(h_prev), f64(c_prev), f64(w_hh_t))

    def lstm_backward(grad_h, grad_c, cache, **kwargs):
        x_proj, h_prev, c_prev, w_hh_t = cache
        grads = numeric_vjp(lambda a, h, c: real_lstm(a, h, c, w_hh_t)[:2],
                            [x_proj.copy(), h_prev.copy(), c_prev.copy()],
                            [f64(grad_h), f64(grad_c)])
        return (*grads, np.zeros_like(c_prev))

    def gru_forward(x_proj_t, h_prev, w_hh_t, b_hh=None, **kwargs):
        h, _ = real_gru(x_proj_t, h_prev, w_hh_t, b_hh, **kwargs)
        return h, (f64(x_proj_t), f64(h_prev), f64(w_hh_t), f64(b_hh))

    def gru_backward(grad_h, cache, **kwargs):
        x_proj, h_prev, w_hh_t, b_hh = cache
        rows = np.zeros_like(x_proj) + (0.0 if b_hh is None else b_hh)
        grad_x_proj, grad_h_prev, grad_h_proj = numeric_vjp(
            lambda a, h, b: real_gru(a, h, w_hh_t, b)[:1],
            [x_proj.copy(), h_prev.copy(), rows], [f64(grad_h)])
        return grad_x_proj, grad_h_proj, grad_h_prev

    for name, fn in [("rnn_step_forward", rnn_forward), ("rnn_step_backward", rnn_backward),
                     ("lstm_step_forward", lstm_forward), ("lstm_step_backward", lstm_backward),
                     ("gru_step_forward", gru_forward), ("gru_step_backward", gru_backward)]:
        setattr(module, name, fn)
