"""One recurrent layer and direction over a whole sequence, as ONE Function.

``RecurrentSequence`` serves the three kinds of cell (mode "rnn_tanh", "rnn_relu", "lstm",
"gru"): they differ only in which step kernels the loop calls, so one driver keeps the
three BPTTs from drifting apart, and each kernel stays in its cell's file.

forward:  1. the input projections of all T steps in one matrix product
             (T*N, D) @ (D, G) -> (T, N, G), before the loop;
          2. the recurrence, one step kernel per step, writing into buffers allocated once
             (all states in one (T+1, N, H) array);
backward: 3. BPTT: the step kernels' backwards in reverse order, carrying dL/dh (and dL/dc)
             from step t to step t-1, every dL/d(pre-activation) kept in one (T, N, G) array;
          4. after the loop, every weight gradient in one matrix product over all T*N rows:
             dL/dW_hh = dA^T (G, T*N) @ H_prev (T*N, H), dL/dW_ih = dA^T @ X, dL/dx = dA @ W_ih.

So the autograd graph holds one node per layer and direction, not dozens per step, and the
per-step gradients dL/dh_t that BPTT computes anyway are what a ``Recording`` exposes.
The reverse direction runs the same loop on the time-reversed input and flips the results.
"""
from minigrad import backend
from minigrad.function import Function

from .cell_base import project_inputs, projection_grads
from .gru import gru_step_backward, gru_step_forward
from .lstm import lstm_step_backward, lstm_step_forward
from .rnn import rnn_step_backward, rnn_step_forward

__all__ = ["RecurrentSequence", "Recording", "MODES", "GATE_NAMES"]

MODES = ("rnn_tanh", "rnn_relu", "lstm", "gru")
GATE_NAMES = {"rnn_tanh": (), "rnn_relu": (), "lstm": ("i", "f", "g", "o"),
              "gru": ("r", "z", "n")}


class Recording:
    """What one layer and direction leaves for a student to look at, in time order.

    gates: {name: (T, N, H)} activations of the last forward (i, f, g, o or r, z, n);
    hidden_grads: (T, N, H) the total dL/dh_t after a backward (None before);
    cell_grads: (T, N, H) the total dL/dc_t (LSTM only).
    """

    def __init__(self):
        self.gates, self.hidden_grads, self.cell_grads = {}, None, None
        self._states = None        # impl="autograd": the state Tensors, read after backward

    def keep_autograd(self, hs, cs, gates):
        """Keep the autograd path's per-step Tensors (time order) and read them later."""
        self._states = (hs, cs)
        if gates and gates[0]:
            xp = hs[0].xp
            self.gates = {name: xp.stack([g[name].data for g in gates])
                          for name in gates[0]}

    def read_grads(self):
        """(hidden_grads, cell_grads) as arrays, from the explicit BPTT or retained grads."""
        if self._states is None:
            return self.hidden_grads, self.cell_grads
        hs, cs = self._states

        def stacked(states):
            if states is None or all(s.grad is None for s in states):
                return None
            xp = states[0].xp
            return xp.stack([xp.zeros_like(s.data) if s.grad is None else s.grad.data
                             for s in states])
        return stacked(hs), stacked(cs)


class RecurrentSequence(Function):
    """(x, h0, c0, W_ih, W_hh, b_ih, b_hh) -> (output, h_n[, c_n]) for one layer, direction.

    Inputs: x (T, N, D); h0, c0 (N, H) or None (zeros; c0 only for mode "lstm");
    w_ih (G, D), w_hh (G, H), b_ih, b_hh (G,) or None, with G = H, 4H, 3H for rnn, lstm, gru.
    Settings: mode in MODES; reverse (run from t = T-1 down to 0); recording (a Recording
    or None).
    Returns output (T, N, H) with output[t] = h_t, h_n (N, H) and, for "lstm", c_n (N, H).
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, mode="lstm",
                reverse=False, recording=None):
        if mode not in MODES:
            raise ValueError(f"RecurrentSequence: mode must be one of {MODES}, got {mode!r}")
        xp = ctx.xp
        T, N, D = x.shape
        G, H = w_hh.shape
        if reverse:
            x = x[::-1]                               # step k reads time T-1-k
        x_flat = xp.ascontiguousarray(x).reshape(T * N, D)
        # 1. all input projections at once: (T*N, D) @ (D, G) -> (T, N, G); the GRU keeps
        #    b_hh for the hidden projection, where r multiplies it
        x_proj = project_inputs(x_flat, w_ih, b_ih, None if mode == "gru" else b_hh)
        x_proj = x_proj.reshape(T, N, G)
        w_hh_t = w_hh.T                               # (H, G): h (N, H) @ w_hh_t, state on the left
        hs = xp.empty((T + 1, N, H), dtype=x.dtype)   # hs[t + 1] = h_t, hs[0] = h0
        hs[0] = 0 if h0 is None else h0
        c = xp.zeros((N, H), dtype=x.dtype) if c0 is None else c0
        # 2. the recurrence: one step kernel per step
        caches = []
        for t in range(T):
            if mode == "lstm":
                hs[t + 1], c, cache = lstm_step_forward(x_proj[t], hs[t], c, w_hh_t)
            elif mode == "gru":
                hs[t + 1], cache = gru_step_forward(x_proj[t], hs[t], w_hh_t, b_hh)
            else:
                hs[t + 1], cache = rnn_step_forward(x_proj[t], hs[t], w_hh_t, mode[len("rnn_"):])
            caches.append(cache)
        ctx.mode, ctx.reverse, ctx.recording = mode, reverse, recording
        ctx.save_for_backward(x_flat, w_ih, hs, caches)
        if recording is not None:
            steps = {name: xp.stack([getattr(cache, name) for cache in caches])   # (T, N, H)
                     for name in GATE_NAMES[mode]}
            recording.gates = {name: _time_order(g, reverse) for name, g in steps.items()}
            recording.hidden_grads = recording.cell_grads = None
        output = _time_order(hs[1:], reverse)         # (T, N, H)
        if mode == "lstm":
            return output, hs[T], c
        return output, hs[T]

    @staticmethod
    def backward(ctx, grad_output, grad_h_n, grad_c_n=None):
        ### BEGIN SOLUTION hw2.bptt
        ### TODO: BPTT. For t = T-1 down to 0: the total dL/dh_t is grad_output[t] plus what step
        ###       t+1 sent back; call the step kernel's backward (lstm also carries dL/dc), keep
        ###       every dL/d(pre-activation) in a (T, N, G) array and every dL/dh_t in hidden_grads.
        ###       After the loop: all weight gradients in one product each (projection_grads).
        ###       Return grads of (x, h0, c0, w_ih, w_hh, b_ih, b_hh); mind ctx.reverse.
        xp = ctx.xp
        x_flat, w_ih, hs, caches = ctx.saved
        mode, T = ctx.mode, len(caches)
        N, H = grad_h_n.shape
        G = w_ih.shape[0]
        if ctx.reverse:
            grad_output = grad_output[::-1]           # into step order
        grad_x_proj = xp.empty((T, N, G), dtype=grad_h_n.dtype)      # dL/dx_proj_t of every step
        grad_h_proj = xp.empty_like(grad_x_proj) if mode == "gru" else grad_x_proj
        hidden_grads = xp.empty((T, N, H), dtype=grad_h_n.dtype)     # total dL/dh_t
        cell_grads = xp.empty_like(hidden_grads) if mode == "lstm" else None
        grad_h_next, grad_c_next = grad_h_n, grad_c_n  # what reaches the last step from h_n, c_n
        for t in reversed(range(T)):
            grad_h = grad_output[t] + grad_h_next      # from output[t] and from step t+1
            hidden_grads[t] = grad_h
            if mode == "lstm":
                grad_x_proj[t], grad_h_next, grad_c_next, cell_grads[t] = lstm_step_backward(
                    grad_h, grad_c_next, caches[t])
            elif mode == "gru":
                grad_x_proj[t], grad_h_proj[t], grad_h_next = gru_step_backward(grad_h, caches[t])
            else:
                grad_x_proj[t], grad_h_next = rnn_step_backward(grad_h, caches[t])
        # all steps' weight gradients at once: (G, T*N) @ (T*N, D) and (G, T*N) @ (T*N, H)
        grad_x, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh = projection_grads(
            ctx, grad_x_proj.reshape(T * N, G), x_flat, w_ih, grad_h_proj.reshape(T * N, G),
            hs[:-1].reshape(T * N, H), bias_in_x_proj=mode != "gru")
        if grad_x is not None:
            grad_x = _time_order(grad_x.reshape(T, N, -1), ctx.reverse)
        if ctx.recording is not None:
            ctx.recording.hidden_grads = _time_order(hidden_grads, ctx.reverse)
            if mode == "lstm":
                ctx.recording.cell_grads = _time_order(cell_grads, ctx.reverse)
        need = ctx.needs_input_grad
        grad_h0 = grad_h_next if need[1] else None
        grad_c0 = grad_c_next if mode == "lstm" and need[2] else None
        return grad_x, grad_h0, grad_c0, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh
        ### END SOLUTION


def _time_order(steps, reverse):
    """Arrays in step order -> time order (the reverse direction ran from T-1 down)."""
    return steps[::-1] if reverse else steps
