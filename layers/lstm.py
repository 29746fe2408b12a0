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

from .cell_base import RecurrentCellBase, check_impl, project_inputs, projection_grads, sigmoid

__all__ = ["LSTMCache", "lstm_step_forward", "lstm_step_backward", "LSTMCellFunction",
           "LSTMCell", "set_forget_bias_"]


class LSTMCache(NamedTuple):
    """What one step keeps for its backward."""
    i: object              # (N, H) input gate
    f: object              # (N, H) forget gate
    g: object              # (N, H) candidate cell values
    o: object              # (N, H) output gate
    c_prev: object         # (N, H) c_{t-1}
    tanh_c: object         # (N, H) tanh(c_t)
    h_prev: object         # (N, H) h_{t-1}
    w_hh_t: object         # (H, 4H) W_hh^T


def lstm_step_forward(x_proj_t, h_prev, c_prev, w_hh_t):
    """One LSTM step.

    Inputs:
        x_proj_t: (N, 4H) x_t W_ih^T + b_ih + b_hh
        h_prev, c_prev: (N, H) h_{t-1}, c_{t-1}
        w_hh_t: (H, 4H) W_hh^T (the state stays on the left: h_prev @ w_hh_t)
    Returns h_t (N, H), c_t (N, H) and an LSTMCache.
    """
    xp = backend.array_module(x_proj_t)
    H = h_prev.shape[1]
    a = x_proj_t + h_prev @ w_hh_t                    # (N, H) @ (H, 4H) -> (N, 4H)
    i = sigmoid(a[:, :H])                             # input gate
    f = sigmoid(a[:, H:2 * H])                        # forget gate
    g = xp.tanh(a[:, 2 * H:3 * H])                    # candidate values
    o = sigmoid(a[:, 3 * H:])                         # output gate
    c = f * c_prev + i * g
    tanh_c = xp.tanh(c)
    h = o * tanh_c
    return h, c, LSTMCache(i, f, g, o, c_prev, tanh_c, h_prev, w_hh_t)


def lstm_step_backward(grad_h, grad_c, cache):
    """The gradients of one LSTM step.

    Inputs:
        grad_h: (N, H) dL/dh_t, total (from the output at t and from step t+1)
        grad_c: (N, H) dL/dc_t arriving from step t+1 (or from c_n); None means zero
        cache: the LSTMCache of the step
    Neither grad_h nor grad_c is changed.
    Returns grad_gates (N, 4H) = dL/dx_proj_t, grad_h_prev (N, H), grad_c_prev (N, H) (both
    through this step), and grad_c_total (N, H), the total dL/dc_t (what recording shows).
    """
    ### BEGIN SOLUTION hw2.lstm_step
    ### TODO: from grad_h (N, H) and grad_c (N, H) compute grad_gates (N, 4H), grad_h_prev (N, H),
    ###       grad_c_prev (N, H) and the total dL/dc_t (N, H). Hint: c = f*c_prev + i*g,
    ###       h = o*tanh(c), gates i, f, g, o in that order; sigmoid' = s(1-s), tanh' = 1-t^2.
    xp = backend.array_module(grad_h)
    i, f, g, o, c_prev, tanh_c, h_prev, w_hh_t = cache
    dh = grad_h
    dc = dh * o * (1 - tanh_c * tanh_c)               # h = o tanh(c)
    if grad_c is not None:
        dc = dc + grad_c                              # total dL/dc_t
    da_i = dc * g * i * (1 - i)                       # c = f c_prev + i g
    da_f = dc * c_prev * f * (1 - f)
    da_g = dc * i * (1 - g * g)
    da_o = dh * tanh_c * o * (1 - o)
    grad_gates = xp.concatenate([da_i, da_f, da_g, da_o], axis=1)   # (N, 4H)
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
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            got = (f"{type(hx).__name__} of length {len(hx)}" if isinstance(hx, (tuple, list))
                   else type(hx).__name__)
            raise TypeError(f"LSTMCell: hx must be a tuple (h, c) of two tensors, each (N, H), "
                            f"got {got}; pass cell(x, (h, c))")
        h, c = (None, None) if hx is None else hx
        input, (h, c), unbatched = self._prepare(input, [h, c])
        if check_impl("LSTMCell", impl or self.impl) == "autograd":
            from .recurrent_autograd import lstm_cell_autograd
            h, c = lstm_cell_autograd(input, h, c, *self._weights())
        else:
            h, c = LSTMCellFunction.apply(input, h, c, *self._weights())
        return (h.reshape(-1), c.reshape(-1)) if unbatched else (h, c)
