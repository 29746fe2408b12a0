"""The position-wise feed-forward block of a Transformer, and a fused linear + ReLU.

    FFN(x) = linear2(dropout(activation(linear1(x))))      x (..., E) -> (..., E)

with linear1: E -> F (dim_feedforward), linear2: F -> E, the same two layers applied to
every position separately ("Attention Is All You Need", section 3.3).

``LinearReLU`` computes relu(x W^T + b) as one node: the (..., F) pre-activation is never
kept (relu's backward needs only where y > 0), which saves one pass and one array of the
block's largest activation.  Other activations go through F.linear then the activation.
"""
from minigrad.function import Function
from minigrad.nn import Module
import minigrad.nn.functional as F

from .dropout import Dropout
from .linear import Linear

__all__ = ["PositionwiseFeedForward", "LinearReLU", "linear_activation", "get_activation"]


class LinearReLU(Function):
    """y = max(x W^T + b, 0); x (..., D), W (H, D), b (H,) or None -> y (..., H)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        xp = ctx.xp
        D = x.shape[-1]
        y = x.reshape(-1, D) @ weight.T               # (M, D) @ (D, H): one GEMM, M = N*T
        if bias is not None:
            y += bias
        xp.maximum(y, 0, out=y)                       # in place: y is ours
        ctx.has_bias = bias is not None
        ctx.save_for_backward(x, weight, y)
        return y.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, grad):                          # grad: (..., H)
        x, weight, y = ctx.saved
        xp = ctx.xp
        # d relu(z)/dz = 1 where z > 0, i.e. where y > 0 (0 at z = 0, as PyTorch); a product
        # with the bool mask, because NumPy's where with a scalar is ~4x slower than multiply
        # (a NaN upstream gradient then stays NaN where y = 0 instead of being cut to 0)
        grad_z = xp.multiply(grad.reshape(y.shape), y > 0)                  # (M, H), new
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = (grad_z @ weight).reshape(x.shape)           # (M, H) @ (H, D)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_z.T @ x.reshape(-1, x.shape[-1])    # (H, M) @ (M, D)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad_z.sum(axis=0)                         # (H,)
        return grad_x, grad_weight, grad_bias


def get_activation(activation):
    """"relu", "gelu" or a callable -> a callable on tensors."""
    if callable(activation):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise ValueError(f"activation should be 'relu', 'gelu' or a callable, got {activation!r}")


def linear_activation(x, linear, activation):
    """activation(linear(x)), as one fused node when the activation is ReLU."""
    if activation is F.relu or activation == "relu":
        return LinearReLU.apply(x, linear.weight, linear.bias)
    return get_activation(activation)(linear(x))


class PositionwiseFeedForward(Module):
    """FFN(x) = linear2(dropout(activation(linear1(x)))); x (..., E) -> (..., E).

    Submodules named as in PyTorch's TransformerEncoderLayer: linear1, dropout, linear2.
    """

    def __init__(self, d_model, dim_feedforward=2048, dropout=0.1, activation="relu",
                 device=None, dtype=None):
        super().__init__()
        self.linear1 = Linear(d_model, dim_feedforward, device=device, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, device=device, dtype=dtype)
        self.activation = get_activation(activation)

    def forward(self, x):
        return self.linear2(self.dropout(linear_activation(x, self.linear1, self.activation)))
