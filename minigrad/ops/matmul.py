"""Matrix product with NumPy's rules: batched, broadcast, and the 1-D cases.

For C = A @ B with A (..., m, k) and B (..., k, n):
    dL/dA = dL/dC @ B^T    (..., m, k)
    dL/dB = A^T @ dL/dC    (..., k, n)
summed back over batch dims that broadcasting stretched.  A 1-D A is read as (1, k) and a
1-D B as (k, 1), and the added dim is dropped again, exactly as ``numpy.matmul`` does.
"""
from ..function import Function
from ._util import unbroadcast, broadcast_shapes

__all__ = ["matmul"]


def _check(a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dim, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}; use * for scalars")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} do not fit: "
                         f"the last dim of the first ({k_a}) must equal the "
                         f"{'only' if b.ndim == 1 else 'second-to-last'} dim of the second ({k_b})")
    if a.ndim > 2 and b.ndim > 2:
        broadcast_shapes("matmul (batch dims)", tuple(a.shape[:-2]), tuple(b.shape[:-2]))


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        _check(a, b)
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        ### BEGIN SOLUTION hw1.matmul
        ### TODO: y = a @ b with a (..., m, k), b (..., k, n), grad (..., m, n).  Return
        ###       (grad_a, grad_b) shaped as a and b (None where not needed): grad_a = grad b^T,
        ###       grad_b = a^T grad, summed over broadcast batch dims (unbroadcast).  A 1-d a is
        ###       (1, k) and a 1-d b is (k, 1) with that dim dropped from y: put it back first.
        a2 = a[None, :] if a.ndim == 1 else a           # (k,) -> (1, k)
        b2 = b[:, None] if b.ndim == 1 else b           # (k,) -> (k, 1)
        g2 = grad
        if b.ndim == 1:
            g2 = g2[..., None]                          # put back the dropped n = 1
        if a.ndim == 1:
            g2 = g2[..., None, :]                       # put back the dropped m = 1
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = unbroadcast(g2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            grad_b = unbroadcast(a2.swapaxes(-1, -2) @ g2, b2.shape).reshape(b.shape)
        return grad_a, grad_b
        ### END SOLUTION


def matmul(a, b):
    from ._util import as_tensor_like
    from ..tensor import Tensor
    like = a if isinstance(a, Tensor) else b
    return MatMul.apply(as_tensor_like(a, like), as_tensor_like(b, like))
