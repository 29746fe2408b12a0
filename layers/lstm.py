"""The LSTM cell: step kernels, the one-step Function, and ``LSTMCell``.

One step (PyTorch's ``nn.LSTMCell``), gates in PyTorch's order i, f, g, o, with
x_proj_t = x_t W_ih^T + b_ih + b_hh precomputed:

    a_t = x_proj_t + h_{t-1} W_hh^T = [a_i, a_f, a_g, a_o]         (N, 4H)
    i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)   (N, H) each
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

Backward, given dh = dL/dh_t (total) and dc_next = dL/dc_t arriving from step t+1:

    dc   = dc_next + dh * o * (1 - tanh(c_t)^2)     total dL/dc_t
    do   = dh * tanh(c_t)        di = dc * g        dg = dc * i        df = dc * c_{t-1}
    da_o = do * o (1 - o)        da_i = di * i (1 - i)
    da_g = dg * (1 - g^2)        da_f = df * f (1 - f)
    dL/dc_{t-1} = dc * f                  (the cell state's gradient path: only a product by f)
    dL/dh_{t-1} = da @ W_hh               (N, 4H) @ (4H, H)

The path dc -> dc * f has no weight matrix and no squashing derivative in it: with f near 1
(forget_bias=1) the gradient reaches far back, which is what the gradient-flow tests show.
"""
from typing import NamedTuple

from minigrad import backend
from minigrad.function import Function

from .cell_base import (RecurrentCellBase, check_impl, project_inputs, projection_grads,
                        sigmoid_, tanh_)

__all__ = ["LSTMCache", "lstm_step_forward", "lstm_step_backward", "LSTMCellFunction",
           "LSTMCell", "set_forget_bias_"]


class LSTMCache(NamedTuple):
    """What one step keeps for its backward."""
    gates: object          # (N, 4H) activations i, f, g, o (after sigmoid/tanh)
    c_prev: object         # (N, H) c_{t-1}
    tanh_c: object         # (N, H) tanh(c_t)
    h_prev: object         # (N, H) h_{t-1}
    w_hh_t: object         # (H, 4H) W_hh^T


def lstm_step_forward(x_proj_t, h_prev, c_prev, w_hh_t, out=None):
    """One LSTM step.

    Inputs:
        x_proj_t: (N, 4H) x_t W_ih^T + b_ih + b_hh
        h_prev, c_prev: (N, H) h_{t-1}, c_{t-1}
        w_hh_t: (H, 4H) W_hh^T (the state stays on the left: h_prev @ w_hh_t)
        out: optional tuple of arrays (gates (N, 4H), h (N, H), c (N, H), tanh_c (N, H))
            that receive the results: the sequence layer passes rows of its (T, N, .)
            buffers, so no step allocates; ``gates`` may be x_proj_t itself.
    Returns h_t (N, H), c_t (N, H) and an LSTMCache.
    """
    xp = backend.array_module(x_proj_t)
    H = h_prev.shape[1]
    if out is None:
        out = (xp.empty_like(x_proj_t), xp.empty_like(h_prev), xp.empty_like(h_prev),
               xp.empty_like(h_prev))
    gates, h, c, tanh_c = out
    xp.add(x_proj_t, h_prev @ w_hh_t, out=gates)      # (N, H) @ (H, 4H) -> (N, 4H)
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    # all four gates in one sigmoid pass over (N, 4H), since tanh(a) = 2 sigmoid(2a) - 1:
    # fewer, larger elementwise calls than sigmoid(i, f), tanh(g), sigmoid(o) apart
    g *= 2.0
    sigmoid_(gates)
    g *= 2.0
    g -= 1.0
    xp.multiply(f, c_prev, out=c)                     # c = f * c_prev + i * g
    xp.multiply(i, g, out=tanh_c)                     # (tanh_c as scratch for i * g)
    c += tanh_c
    tanh_(c, out=tanh_c)
    xp.multiply(o, tanh_c, out=h)                     # h = o * tanh(c)
    return h, c, LSTMCache(gates, c_prev, tanh_c, h_prev, w_hh_t)


def lstm_step_backward(grad_h, grad_c, cache, out=None):
    """The gradients of one LSTM step.

    Inputs:
        grad_h: (N, H) dL/dh_t, total (from the output at t and from step t+1)
        grad_c: (N, H) dL/dc_t arriving from step t+1 (or from c_n); None means zero
        cache: the LSTMCache of the step
        out: optional tuple (grad_gates (N, 4H), grad_c_total (N, H)) to write into
    Neither grad_h nor grad_c is changed.
    Returns grad_gates (N, 4H) = dL/dx_proj_t, grad_h_prev (N, H), grad_c_prev (N, H) (both
    through this step), and grad_c_total (N, H), the total dL/dc_t (what recording shows).
    """
    ### BEGIN SOLUTION hw2.lstm_step
    ### TODO: from grad_h (N, H) and grad_c (N, H) compute grad_gates (N, 4H), grad_h_prev (N, H),
    ###       grad_c_prev (N, H) and the total dL/dc_t (N, H). Hint: c = f*c_prev + i*g,
    ###       h = o*tanh(c), gates i, f, g, o in that order; sigmoid' = s(1-s), tanh' = 1-t^2.
    xp = backend.array_module(grad_h)
    gates, c_prev, tanh_c, h_prev, w_hh_t = cache
    H = c_prev.shape[1]
    if out is None:
        out = (xp.empty_like(gates), xp.empty_like(c_prev))
    grad_gates, dc = out
    i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    da_i, da_f = grad_gates[:, :H], grad_gates[:, H:2 * H]
    da_g, da_o = grad_gates[:, 2 * H:3 * H], grad_gates[:, 3 * H:]
    # h = o tanh(c): dc = grad_c + grad_h o (1 - tanh(c)^2)
    xp.multiply(tanh_c, tanh_c, out=dc)
    xp.subtract(1.0, dc, out=dc)
    dc *= o
    dc *= grad_h
    if grad_c is not None:
        dc += grad_c
    # c = f c_prev + i g, then through each gate's nonlinearity (in place, no temporaries)
    xp.subtract(1.0, i, out=da_i)                     # da_i = dc g i (1 - i)
    da_i *= i
    da_i *= g
    da_i *= dc
    xp.subtract(1.0, f, out=da_f)                     # da_f = dc c_prev f (1 - f)
    da_f *= f
    da_f *= c_prev
    da_f *= dc
    xp.multiply(g, g, out=da_g)                       # da_g = dc i (1 - g^2)
    xp.subtract(1.0, da_g, out=da_g)
    da_g *= i
    da_g *= dc
    xp.subtract(1.0, o, out=da_o)                     # da_o = grad_h tanh(c) o (1 - o)
    da_o *= o
    da_o *= tanh_c
    da_o *= grad_h
    grad_c_prev = dc * f
    grad_h_prev = grad_gates @ w_hh_t.T               # (N, 4H) @ (4H, H) -> (N, H)
    return grad_gates, grad_h_prev, grad_c_prev, dc
    ### END SOLUTION


class LSTMCellFunction(Function):
    """One LSTM step as a Function: (x, h, c, weights) -> (h', c')."""

    @staticmethod
    def forward(ctx, x, h_prev, c_prev, w_ih, w_hh, b_ih=None, b_hh=None):
        # x: (N, D), h_prev/c_prev: (N, H), w_ih: (4H, D), w_hh: (4H, H)
        x_proj = project_inputs(x, w_ih, b_ih, b_hh)                 # (N, 4H)
        h, c, cache = lstm_step_forward(x_proj, h_prev, c_prev, w_hh.T)
        ctx.save_for_backward(x, w_ih, cache)
        return h, c

    @staticmethod
    def backward(ctx, grad_h, grad_c):
        x, w_ih, cache = ctx.saved
        grad_gates, grad_h_prev, grad_c_prev, _ = lstm_step_backward(grad_h, grad_c, cache)
        grad_x, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh = projection_grads(
            ctx, grad_gates, x, w_ih, grad_gates, cache.h_prev, bias_in_x_proj=True)
        return grad_x, grad_h_prev, grad_c_prev, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh


def set_forget_bias_(bias_ih, bias_hh, value, hidden_size):
    """Make the forget gate start at sigmoid(value): b_ih[H:2H] = value, b_hh[H:2H] = 0.

    (The two biases are always added, so their sum is what the gate sees.)  With value = 1
    the cell starts by keeping about 73% of its state per step (Jozefowicz et al., 2015).
    """
    if bias_ih is None:
        raise ValueError("forget_bias needs bias=True: there is no bias to set")
    H = hidden_size
    bias_ih.data[H:2 * H] = value
    bias_hh.data[H:2 * H] = 0.0


class LSTMCell(RecurrentCellBase):
    """PyTorch's ``nn.LSTMCell(input_size, hidden_size, bias=True)``, plus ``forget_bias``.

    forward(input (N, D) or (D,), hx=(h, c) or None -> zeros) -> (h', c'), each (N, H).
    forget_bias: None keeps PyTorch's init; a number sets the forget-gate slice of bias_ih
    to it and that of bias_hh to 0.  impl="autograd" runs the same equations composed from
    minigrad ops.
    """

    num_gates = 4

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None,
                 forget_bias=None, impl="explicit"):
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)
        self.forget_bias = forget_bias
        self.impl = check_impl("LSTMCell", impl)
        if forget_bias is not None:
            set_forget_bias_(self.bias_ih, self.bias_hh, forget_bias, hidden_size)

    def reset_parameters(self):
        super().reset_parameters()
        if getattr(self, "forget_bias", None) is not None:   # None during super().__init__
            set_forget_bias_(self.bias_ih, self.bias_hh, self.forget_bias, self.hidden_size)

    def forward(self, input, hx=None, impl=None):
        h, c = (None, None) if hx is None else hx
        input, (h, c), unbatched = self._prepare(input, [h, c])
        if check_impl("LSTMCell", impl or self.impl) == "autograd":
            from .recurrent_autograd import lstm_cell_autograd
            h, c = lstm_cell_autograd(input, h, c, *self._weights())
        else:
            h, c = LSTMCellFunction.apply(input, h, c, *self._weights())
        return (h.reshape(-1), c.reshape(-1)) if unbatched else (h, c)
