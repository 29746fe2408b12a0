"""The GRU cell: step kernels, the one-step Function, and ``GRUCell``.

One step with PyTorch's equations and gate order r, z, n.  Unlike the LSTM, the two
projections stay apart, because the candidate multiplies only the hidden one by r:

    x_proj_t = x_t W_ih^T + b_ih = [x_r, x_z, x_n]        (N, 3H)  (all steps precomputed)
    h_proj_t = h_{t-1} W_hh^T + b_hh = [h_r, h_z, h_n]    (N, 3H)
    r = sigmoid(x_r + h_r)      z = sigmoid(x_z + h_z)
    n = tanh(x_n + r * h_n)
    h_t = (1 - z) * n + z * h_{t-1}  =  n + z * (h_{t-1} - n)

Backward, given dh = dL/dh_t (total):

    da_z = dh * (h_{t-1} - n) * z (1 - z)
    da_n = dh * (1 - z) * (1 - n^2)                 = dL/dx_n
    da_r = da_n * h_n * r (1 - r)
    dL/dx_proj = [da_r, da_z, da_n]
    dL/dh_proj = [da_r, da_z, da_n * r]             (only the n slice differs)
    dL/dh_{t-1} = dh * z + dL/dh_proj @ W_hh        (N, 3H) @ (3H, H)
"""
from typing import NamedTuple

from minigrad import backend
from minigrad.function import Function

from .cell_base import RecurrentCellBase, check_impl, project_inputs, projection_grads, sigmoid

__all__ = ["GRUCache", "gru_step_forward", "gru_step_backward", "GRUCellFunction", "GRUCell"]


class GRUCache(NamedTuple):
    """What one step keeps for its backward."""
    r: object              # (N, H) reset gate
    z: object              # (N, H) update gate
    n: object              # (N, H) candidate state
    h_n: object            # (N, H) the n slice of h_{t-1} W_hh^T + b_hh (r multiplies it)
    h_prev: object         # (N, H) h_{t-1}
    w_hh_t: object         # (H, 3H) W_hh^T


def gru_step_forward(x_proj_t, h_prev, w_hh_t, b_hh=None):
    """One GRU step.

    Inputs:
        x_proj_t: (N, 3H) x_t W_ih^T + b_ih (b_hh not included: see the module docstring)
        h_prev: (N, H) h_{t-1}
        w_hh_t: (H, 3H) W_hh^T;  b_hh: (3H,) or None
    Returns h_t (N, H) and a GRUCache.
    """
    xp = backend.array_module(x_proj_t)
    H = h_prev.shape[1]
    h_proj = h_prev @ w_hh_t                          # (N, H) @ (H, 3H) -> (N, 3H)
    if b_hh is not None:
        h_proj = h_proj + b_hh
    x_r, x_z, x_n = x_proj_t[:, :H], x_proj_t[:, H:2 * H], x_proj_t[:, 2 * H:]
    h_r, h_z, h_n = h_proj[:, :H], h_proj[:, H:2 * H], h_proj[:, 2 * H:]
    r = sigmoid(x_r + h_r)                            # reset gate
    z = sigmoid(x_z + h_z)                            # update gate
    n = xp.tanh(x_n + r * h_n)                        # candidate state
    h = n + z * (h_prev - n)                          # = (1 - z) * n + z * h_prev
    return h, GRUCache(r, z, n, h_n, h_prev, w_hh_t)


def gru_step_backward(grad_h, cache):
    """The gradients of one GRU step.

    Inputs:
        grad_h: (N, H) dL/dh_t, total (from the output at t and from step t+1); not changed
        cache: the GRUCache of the step
    Returns grad_x_proj (N, 3H), grad_h_proj (N, 3H) and grad_h_prev (N, H) through this step.
    """
    ### BEGIN SOLUTION hw2.gru_step
    ### TODO: from grad_h (N, H) compute grad_x_proj = dL/d[x_r, x_z, x_n] (N, 3H), grad_h_proj =
    ###       dL/d[h_r, h_z, h_n] (N, 3H) and grad_h_prev (N, H). Hint: n = tanh(x_n + r * h_n),
    ###       h = (1 - z) * n + z * h_prev, and h_prev also feeds h_proj = h_prev W_hh^T + b_hh.
    xp = backend.array_module(grad_h)
    r, z, n, h_n, h_prev, w_hh_t = cache
    dh = grad_h
    da_z = dh * (h_prev - n) * z * (1 - z)
    da_n = dh * (1 - z) * (1 - n * n)
    da_r = da_n * h_n * r * (1 - r)
    grad_x_proj = xp.concatenate([da_r, da_z, da_n], axis=1)        # (N, 3H)
    grad_h_proj = xp.concatenate([da_r, da_z, da_n * r], axis=1)    # n: d(r * h_n)/dh_n = r
    grad_h_prev = grad_h_proj @ w_hh_t.T + dh * z     # (N, 3H) @ (3H, H), + h = ... + z h_prev
    return grad_x_proj, grad_h_proj, grad_h_prev
    ### END SOLUTION


class GRUCellFunction(Function):
    """One GRU step as a Function: (x, h, weights) -> h'."""

    @staticmethod
    def forward(ctx, x, h_prev, w_ih, w_hh, b_ih=None, b_hh=None):
        # x: (N, D), h_prev: (N, H), w_ih: (3H, D), w_hh: (3H, H)
        x_proj = project_inputs(x, w_ih, b_ih)                        # (N, 3H)
        h, cache = gru_step_forward(x_proj, h_prev, w_hh.T, b_hh)
        ctx.save_for_backward(x, w_ih, cache)
        return h

    @staticmethod
    def backward(ctx, grad_h):
        x, w_ih, cache = ctx.saved
        grad_x_proj, grad_h_proj, grad_h_prev = gru_step_backward(grad_h, cache)
        grad_x, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh = projection_grads(
            ctx, grad_x_proj, x, w_ih, grad_h_proj, cache.h_prev, bias_in_x_proj=False)
        return grad_x, grad_h_prev, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh


class GRUCell(RecurrentCellBase):
    """PyTorch's ``nn.GRUCell(input_size, hidden_size, bias=True)``.

    forward(input (N, D) or (D,), hx (N, H) or None -> zeros) -> h' (N, H).
    impl="autograd" runs the same equations composed from minigrad ops.
    """

    num_gates = 3

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None,
                 impl="explicit"):
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)
        self.impl = check_impl("GRUCell", impl)

    def forward(self, input, hx=None, impl=None):
        input, (h,), unbatched = self._prepare(input, [hx])
        if check_impl("GRUCell", impl or self.impl) == "autograd":
            from .recurrent_autograd import gru_cell_autograd
            h = gru_cell_autograd(input, h, *self._weights())
        else:
            h = GRUCellFunction.apply(input, h, *self._weights())
        return h.reshape(-1) if unbatched else h
