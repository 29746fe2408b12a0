"""The Elman RNN cell: step kernels, the one-step Function, and ``RNNCell``.

One step (PyTorch's ``nn.RNNCell``), with x_proj_t = x_t W_ih^T + b_ih + b_hh precomputed:

    a_t = x_proj_t + h_{t-1} W_hh^T          (N, H)
    h_t = tanh(a_t)   or   relu(a_t)

and its derivatives, given g = dL/dh_t (the total gradient reaching h_t):

    dL/da_t     = g * (1 - h_t^2)            (tanh' written with the output)
                = g * [h_t > 0]              (relu)
    dL/dh_{t-1} = dL/da_t @ W_hh             (N, H) @ (H, H)

dL/da_t is also dL/dx_proj_t, from which the weight gradients follow (cell_base.py).
The sequence layer (recurrent_sequence.py) calls the same two kernels once per step.
"""
from typing import NamedTuple

from minigrad import backend
from minigrad.function import Function

from .cell_base import RecurrentCellBase, check_impl, project_inputs, projection_grads

__all__ = ["RNNCache", "rnn_step_forward", "rnn_step_backward", "RNNCellFunction", "RNNCell"]

NONLINEARITIES = ("tanh", "relu")


class RNNCache(NamedTuple):
    """What one step keeps for its backward."""
    h: object              # (N, H) h_t, the output (its derivative is written with it)
    h_prev: object         # (N, H) h_{t-1}
    w_hh_t: object         # (H, H) W_hh^T
    nonlinearity: str      # "tanh" or "relu"


def rnn_step_forward(x_proj_t, h_prev, w_hh_t, nonlinearity="tanh"):
    """One RNN step.

    Inputs:
        x_proj_t: (N, H) x_t W_ih^T + b_ih + b_hh
        h_prev: (N, H) h_{t-1}
        w_hh_t: (H, H) W_hh^T (the state stays on the left: h_prev @ w_hh_t)
        nonlinearity: "tanh" or "relu"
    Returns h_t (N, H) and an RNNCache.
    """
    xp = backend.array_module(x_proj_t)
    a = x_proj_t + h_prev @ w_hh_t                    # (N, H) @ (H, H) -> (N, H)
    if nonlinearity == "tanh":
        h = xp.tanh(a)
    else:
        h = xp.maximum(a, 0)
    return h, RNNCache(h, h_prev, w_hh_t, nonlinearity)


def rnn_step_backward(grad_h, cache):
    """The gradients of one RNN step.

    Inputs:
        grad_h: (N, H) dL/dh_t, total (from the output at t and from step t+1); not changed
        cache: the RNNCache of the step
    Returns grad_a (N, H) = dL/dx_proj_t, and grad_h_prev (N, H) = dL/dh_{t-1} through this step.
    """
    ### BEGIN SOLUTION hw2.rnn_step
    ### TODO: from grad_h (N, H) compute grad_a = dL/da_t (N, H) and grad_h_prev (N, H).
    ###       h = tanh(a): da = dh (1 - h^2); h = relu(a): da = dh [h > 0]; a = x_proj + h_prev W_hh^T.
    h, h_prev, w_hh_t, nonlinearity = cache
    if nonlinearity == "tanh":
        grad_a = grad_h * (1 - h * h)                 # tanh'(a) = 1 - tanh(a)^2 = 1 - h^2
    else:
        grad_a = grad_h * (h > 0)                     # relu'(a) = [a > 0] = [h > 0]
    grad_h_prev = grad_a @ w_hh_t.T                   # (N, H) @ (H, H) -> (N, H)
    return grad_a, grad_h_prev
    ### END SOLUTION


class RNNCellFunction(Function):
    """One RNN step as a Function: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)."""

    @staticmethod
    def forward(ctx, x, h_prev, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
        # x: (N, D), h_prev: (N, H), w_ih: (H, D), w_hh: (H, H)
        x_proj = project_inputs(x, w_ih, b_ih, b_hh)          # (N, H)
        h, cache = rnn_step_forward(x_proj, h_prev, w_hh.T, nonlinearity)
        ctx.save_for_backward(x, w_ih, cache)
        return h

    @staticmethod
    def backward(ctx, grad_h):
        x, w_ih, cache = ctx.saved
        grad_a, grad_h_prev = rnn_step_backward(grad_h, cache)
        grad_x, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh = projection_grads(
            ctx, grad_a, x, w_ih, grad_a, cache.h_prev, bias_in_x_proj=True)
        return grad_x, grad_h_prev, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh


class RNNCell(RecurrentCellBase):
    """PyTorch's ``nn.RNNCell(input_size, hidden_size, bias=True, nonlinearity="tanh")``.

    forward(input (N, D) or (D,), hx (N, H) or None -> zeros) -> h' (N, H).
    impl="explicit" (default) runs RNNCellFunction; impl="autograd" the same equations
    composed from minigrad ops (recurrent_autograd.py), to check it.
    """

    num_gates = 1

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh",
                 device=None, dtype=None, impl="explicit"):
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', "
                             f"got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity
        self.impl = check_impl("RNNCell", impl)

    def forward(self, input, hx=None, impl=None):
        input, (h,), unbatched = self._prepare(input, [hx])
        if check_impl("RNNCell", impl or self.impl) == "autograd":
            from .recurrent_autograd import rnn_cell_autograd
            h = rnn_cell_autograd(input, h, *self._weights(), self.nonlinearity)
        else:
            h = RNNCellFunction.apply(input, h, *self._weights(),
                                      nonlinearity=self.nonlinearity)
        return h.reshape(-1) if unbatched else h

