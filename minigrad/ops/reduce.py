"""Reductions: sum, mean (more to come: var, std, amax, amin, max, min, argmax).

PyTorch's names: ``dim`` (an int, a tuple or None for all) and ``keepdim``; ``axis`` is
accepted as an alias.  The backward of a reduction spreads the upstream gradient back over
the reduced dims: put the dropped dims back as size 1, then broadcast.
"""
from ..function import Function
from ._util import normalize_dims

__all__ = ["sum", "mean"]


def _dim_arg(dim, axis):
    if axis is not None:
        if dim is not None:
            raise TypeError("give dim or its alias axis, not both")
        return axis
    return dim


def expand_reduced(grad, shape, dims, keepdim):
    """An upstream gradient of a reduction over ``dims``, broadcast back to ``shape``."""
    if not keepdim:
        kept = [1 if i in dims else n for i, n in enumerate(shape)]
        grad = grad.reshape(kept)
    return grad


class Sum(Function):
    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        ctx.dims = normalize_dims("sum", dim, x.ndim)
        ctx.shape, ctx.keepdim = x.shape, keepdim
        return x.sum(axis=ctx.dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):        # every summed element moved the sum by 1
        grad = expand_reduced(grad, ctx.shape, ctx.dims, ctx.keepdim)
        return ctx.xp.broadcast_to(grad, ctx.shape).copy()


class Mean(Function):
    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        ctx.dims = normalize_dims("mean", dim, x.ndim)
        ctx.shape, ctx.keepdim = x.shape, keepdim
        return x.mean(axis=ctx.dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):        # each of the n averaged elements moved the mean by 1/n
        count = 1
        for d in ctx.dims:
            count *= ctx.shape[d]
        grad = expand_reduced(grad, ctx.shape, ctx.dims, ctx.keepdim) / count
        return ctx.xp.broadcast_to(grad, ctx.shape).copy()


def sum(x, dim=None, keepdim=False, axis=None):
    return Sum.apply(x, dim=_dim_arg(dim, axis), keepdim=keepdim)


def mean(x, dim=None, keepdim=False, axis=None):
    return Mean.apply(x, dim=_dim_arg(dim, axis), keepdim=keepdim)
