"""The recurrent equations composed from minigrad's primitive ops (``impl="autograd"``).

The same formulas as the hand-written kernels in rnn.py, lstm.py and gru.py, written with
Tensor ops (matmul, +, *, sigmoid, tanh, slicing, stack) so that autograd derives the
backward.  The graph then holds a few dozen nodes per step instead of one node per layer,
and it is slow; it exists to check the explicit kernels (the tests assert both give the
same outputs and gradients) and to show what the kernels save.
"""
import minigrad

__all__ = ["rnn_cell_autograd", "lstm_cell_autograd", "gru_cell_autograd",
           "sequence_autograd"]


def _linear(x, weight, bias):
    """x (N, K) @ weight^T (K, G) + bias -> (N, G)."""
    y = x @ weight.T
    return y if bias is None else y + bias


def rnn_cell_autograd(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh): (N, D), (N, H) -> (N, H)."""
    a = _linear(x, w_ih, b_ih) + _linear(h, w_hh, b_hh)
    return a.tanh() if nonlinearity == "tanh" else a.relu()


def lstm_cell_autograd(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None, gates_out=None):
    """(x (N, D), h (N, H), c (N, H)) -> (h', c'), gates in the order i, f, g, o.

    gates_out: an optional dict that receives the gate Tensors by name (for recording)."""
    H = h.shape[1]
    a = _linear(x, w_ih, b_ih) + _linear(h, w_hh, b_hh)            # (N, 4H)
    i = a[:, :H].sigmoid()
    f = a[:, H:2 * H].sigmoid()
    g = a[:, 2 * H:3 * H].tanh()
    o = a[:, 3 * H:].sigmoid()
    c = f * c + i * g
    h = o * c.tanh()
    if gates_out is not None:
        gates_out.update(i=i, f=f, g=g, o=o)
    return h, c


def gru_cell_autograd(x, h, w_ih, w_hh, b_ih=None, b_hh=None, gates_out=None):
    """(x (N, D), h (N, H)) -> h', PyTorch's GRU: n = tanh(x_n + r * (h W_hn^T + b_hn))."""
    H = h.shape[1]
    x_proj = _linear(x, w_ih, b_ih)                                 # (N, 3H)
    h_proj = _linear(h, w_hh, b_hh)                                 # (N, 3H)
    r = (x_proj[:, :H] + h_proj[:, :H]).sigmoid()
    z = (x_proj[:, H:2 * H] + h_proj[:, H:2 * H]).sigmoid()
    n = (x_proj[:, 2 * H:] + r * h_proj[:, 2 * H:]).tanh()
    if gates_out is not None:
        gates_out.update(r=r, z=z, n=n)
    return (1 - z) * n + z * h


def sequence_autograd(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False,
                      recording=None):
    """One layer and direction over a sequence, step by step with ops.

    x: (T, N, D); h0, c0: (N, H) (c0 for "lstm" only).  mode: "rnn_tanh", "rnn_relu",
    "lstm", "gru".  Returns (output (T, N, H), h_n) or, for "lstm", (output, h_n, c_n),
    like the explicit RecurrentSequence.  With a ``recording`` (recurrent_sequence.Recording),
    the states keep their gradients (``retain_grad``), so the recording can read the total
    dL/dh_t and dL/dc_t after a backward, and the gates are kept.
    """
    T = x.shape[0]
    h, c = h0, c0
    hs, cs, gates = [None] * T, [None] * T, [None] * T
    for t in (reversed(range(T)) if reverse else range(T)):
        step_gates = {} if recording is not None else None
        if mode == "lstm":
            h, c = lstm_cell_autograd(x[t], h, c, w_ih, w_hh, b_ih, b_hh, step_gates)
            cs[t] = c
        elif mode == "gru":
            h = gru_cell_autograd(x[t], h, w_ih, w_hh, b_ih, b_hh, step_gates)
        else:
            h = rnn_cell_autograd(x[t], h, w_ih, w_hh, b_ih, b_hh, mode[len("rnn_"):])
        hs[t], gates[t] = h, step_gates
    if recording is not None:
        for state in hs + [s for s in cs if s is not None]:
            if state.requires_grad:
                state.retain_grad()
        recording.keep_autograd(hs, cs if mode == "lstm" else None, gates)
    output = minigrad.stack(hs, dim=0)                              # T x (N, H) -> (T, N, H)
    return (output, h, c) if mode == "lstm" else (output, h)
