"""Reductions: sum, mean, var, std, amax, amin, max, min, argmax, argmin, any, all.

PyTorch's names: ``dim`` (an int, a tuple or None for all) and ``keepdim``; ``axis`` is
accepted as an alias.  The backward of a reduction spreads the upstream gradient back over
the reduced dims: put the dropped dims back as size 1, then broadcast.

Return values as in PyTorch: ``x.max()`` is a 0-d tensor, ``x.max(dim)`` a named tuple
``(values, indices)``; argmax/argmin/any/all give int64/bool tensors with no gradient.
"""
from typing import NamedTuple

from ..function import Function
from ._util import normalize_dims, normalize_dim, dim_arg

__all__ = ["sum", "mean", "var", "std", "amax", "amin", "max", "min", "argmax", "argmin",
           "any", "all", "MaxMin", "expand_reduced"]

_builtin_max, _builtin_min = max, min


def expand_reduced(grad, shape, dims, keepdim):
    """An upstream gradient of a reduction over ``dims``, reshaped so it broadcasts to ``shape``."""
    if not keepdim:
        kept = [1 if i in dims else n for i, n in enumerate(shape)]
        grad = grad.reshape(kept)
    return grad


def _count(shape, dims):
    """How many elements each output of a reduction over ``dims`` summarises."""
    count = 1
    for d in dims:
        count *= shape[d]
    return count


def _drop(array, dims, keepdim):
    """A keepdims=True reduction result without the reduced dims (when keepdim is False)."""
    if keepdim:
        return array
    return array.reshape([n for i, n in enumerate(array.shape) if i not in dims])


class Sum(Function):
    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        ctx.dims = normalize_dims("sum", dim, x.ndim)
        ctx.shape, ctx.keepdim = x.shape, keepdim
        return x.sum(axis=ctx.dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):        # every summed element moved the sum by 1
        xp = ctx.xp
        ### BEGIN SOLUTION hw1.sum_mean
        ### TODO: y = x.sum(ctx.dims) with x of shape ctx.shape.  grad has y's shape; return
        ###       grad_x of shape ctx.shape: every summed element gets grad (dy/dx = 1).  Put the
        ###       reduced dims back first (they are gone unless ctx.keepdim): expand_reduced.
        grad = expand_reduced(grad, ctx.shape, ctx.dims, ctx.keepdim)
        return xp.broadcast_to(grad, ctx.shape).copy()
        ### END SOLUTION


class Mean(Function):
    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False):
        ctx.dims = normalize_dims("mean", dim, x.ndim)
        ctx.shape, ctx.keepdim = x.shape, keepdim
        return x.mean(axis=ctx.dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):        # each of the n averaged elements moved the mean by 1/n
        xp = ctx.xp
        ### BEGIN SOLUTION hw1.sum_mean
        ### TODO: y = x.mean(ctx.dims): as Sum's backward, divided by n, the number of averaged
        ###       elements (_count(ctx.shape, ctx.dims)): dy/dx = 1/n.
        grad = expand_reduced(grad, ctx.shape, ctx.dims, ctx.keepdim) / _count(ctx.shape, ctx.dims)
        return xp.broadcast_to(grad, ctx.shape).copy()
        ### END SOLUTION


# ---------------------------------------------------------------- spread: var, std
def _centered(op, x, dim, correction):
    """x - mean(x) over dims, and the divisor n - correction (PyTorch's Bessel correction)."""
    dims = normalize_dims(op, dim, x.ndim)
    centered = x - x.mean(axis=dims, keepdims=True)
    divisor = _builtin_max(_count(x.shape, dims) - correction, 0)   # 0 gives inf/nan, as PyTorch
    return dims, centered, divisor


class Var(Function):
    """var = sum((x - mean)^2) / (n - correction) over dims."""

    @staticmethod
    def forward(ctx, x, dim=None, correction=1, keepdim=False):
        dims, centered, divisor = _centered("var", x, dim, correction)
        ctx.dims, ctx.keepdim, ctx.divisor = dims, keepdim, divisor
        ctx.save_for_backward(centered)
        return (centered * centered).sum(axis=dims, keepdims=keepdim) / divisor

    @staticmethod
    def backward(ctx, grad):
        # d var/d x_i = 2 (x_i - mean) / (n - c); the mean's own dependence on x_i adds
        # -2/(n(n-c)) sum_j (x_j - mean) = 0, so it drops out.
        (centered,) = ctx.saved
        grad = expand_reduced(grad, centered.shape, ctx.dims, ctx.keepdim)
        return grad * centered * (2 / ctx.divisor)


class Std(Function):
    """std = sqrt(var); d std/dx_i = (x_i - mean) / ((n - c) std)."""

    @staticmethod
    def forward(ctx, x, dim=None, correction=1, keepdim=False):
        dims, centered, divisor = _centered("std", x, dim, correction)
        ctx.dims, ctx.keepdim, ctx.divisor = dims, keepdim, divisor
        std = ctx.xp.sqrt((centered * centered).sum(axis=dims, keepdims=True) / divisor)
        ctx.save_for_backward(centered, std)
        return _drop(std, dims, keepdim)

    @staticmethod
    def backward(ctx, grad):        # inf/nan where std == 0, as in PyTorch
        centered, std = ctx.saved
        grad = expand_reduced(grad, centered.shape, ctx.dims, ctx.keepdim)
        return grad * centered / (ctx.divisor * std)


def _correction(op, correction, unbiased):
    if unbiased is not None:
        if correction is not None:
            raise TypeError(f"{op}: give correction or unbiased, not both")
        return 1 if unbiased else 0
    return 1 if correction is None else correction


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
    """Variance over ``dim`` with divisor n - correction (correction=1 by default, as PyTorch)."""
    return Var.apply(x, dim=dim_arg(dim, axis), correction=_correction("var", correction, unbiased),
                     keepdim=keepdim)


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None):
    """Standard deviation, sqrt(var(x, dim, correction))."""
    return Std.apply(x, dim=dim_arg(dim, axis), correction=_correction("std", correction, unbiased),
                     keepdim=keepdim)


# ---------------------------------------------------------------- extremes: amax, amin, max, min
class Extreme(Function):
    """amax/amin over dims; the gradient is split evenly among ties (as PyTorch's amax)."""

    @staticmethod
    def forward(ctx, x, dim=None, keepdim=False, largest=True):
        op = "amax" if largest else "amin"
        if x.size == 0:
            raise ValueError(f"{op}: cannot reduce an empty tensor of shape {tuple(x.shape)}")
        dims = normalize_dims(op, dim, x.ndim)
        kept = x.max(axis=dims, keepdims=True) if largest else x.min(axis=dims, keepdims=True)
        winners = x == kept                        # every tie is a winner
        ctx.dims, ctx.keepdim = dims, keepdim
        ctx.save_for_backward(winners, winners.sum(axis=dims, keepdims=True).astype(x.dtype))
        return _drop(kept, dims, keepdim)

    @staticmethod
    def backward(ctx, grad):        # dL/dx = dL/dy / (number of ties) at each winner, else 0
        winners, ties = ctx.saved
        grad = expand_reduced(grad, winners.shape, ctx.dims, ctx.keepdim)
        return grad * winners / ties


class MaxMin(NamedTuple):
    """What ``x.max(dim)`` / ``x.min(dim)`` return, like ``torch.return_types.max``."""
    values: object
    indices: object


class ExtremeAlongDim(Function):
    """max/min along one dim, with the index chosen; the gradient goes to that index only."""

    @staticmethod
    def forward(ctx, x, dim=0, keepdim=False, largest=True):
        op = "max" if largest else "min"
        if x.ndim == 0 or x.shape[dim] == 0:
            raise ValueError(f"{op}: cannot reduce dim {dim} of a tensor of shape "
                             f"{tuple(x.shape)}; expected a dim of size >= 1")
        pick = x.argmax if largest else x.argmin
        indices = pick(axis=dim, keepdims=True)                      # first winner, as NumPy
        values = ctx.xp.take_along_axis(x, indices, axis=dim)
        ctx.dim, ctx.keepdim, ctx.shape = dim, keepdim, x.shape
        ctx.save_for_backward(indices)
        return _drop(values, (dim,), keepdim), _drop(indices.astype("int64"), (dim,), keepdim)

    @staticmethod
    def backward(ctx, grad, grad_indices):
        (indices,) = ctx.saved
        xp = ctx.xp
        grad = expand_reduced(grad, ctx.shape, (ctx.dim,), ctx.keepdim)
        # one-hot along dim: position == chosen index (portable: no put_along_axis on CuPy)
        positions = [1] * len(ctx.shape)
        positions[ctx.dim] = ctx.shape[ctx.dim]
        hit = xp.arange(ctx.shape[ctx.dim]).reshape(positions) == indices
        return xp.where(hit, grad, xp.zeros((), dtype=grad.dtype))


def amax(x, dim=None, keepdim=False, *, axis=None):
    dim = dim_arg(dim, axis)
    return Extreme.apply(x, dim=None if dim == () else dim, keepdim=keepdim, largest=True)


def amin(x, dim=None, keepdim=False, *, axis=None):
    dim = dim_arg(dim, axis)
    return Extreme.apply(x, dim=None if dim == () else dim, keepdim=keepdim, largest=False)


def _max_or_min(op, x, dim, keepdim, axis, largest):
    from ..tensor import Tensor
    dim = dim_arg(dim, axis)
    if isinstance(dim, Tensor):                    # torch.max(a, b): elementwise
        from .select import maximum, minimum
        return maximum(x, dim) if largest else minimum(x, dim)
    if dim is None:                                # one value: ties share the gradient
        return Extreme.apply(x, dim=None, keepdim=False, largest=largest)
    dim = normalize_dim(op, dim, x.ndim)
    values, indices = ExtremeAlongDim.apply(x, dim=dim, keepdim=keepdim, largest=largest)
    return MaxMin(values, indices)


def max(x, dim=None, keepdim=False, *, axis=None):
    """``x.max()``: the largest value (0-d); ``x.max(dim)``: ``MaxMin(values, indices)``;
    ``max(a, b)`` with a tensor ``b``: the elementwise maximum."""
    return _max_or_min("max", x, dim, keepdim, axis, largest=True)


def min(x, dim=None, keepdim=False, *, axis=None):
    """``x.min()``, ``x.min(dim) -> MaxMin(values, indices)``, or elementwise ``min(a, b)``."""
    return _max_or_min("min", x, dim, keepdim, axis, largest=False)


# ---------------------------------------------------------------- no gradient: arg*, any, all
def _no_grad(x, array):
    from ..tensor import Tensor
    return Tensor._from_op(x.xp.asarray(array), None, 0)


def _arg_extreme(op, x, dim, keepdim, largest):
    data = x.data
    if dim is None:                                # index into the flattened tensor
        flat = data.reshape(-1)
        index = flat.argmax() if largest else flat.argmin()
        result = x.xp.asarray(index).astype("int64")
        return _no_grad(x, result.reshape((1,) * x.ndim) if keepdim else result)
    dim = normalize_dim(op, dim, x.ndim)
    pick = data.argmax if largest else data.argmin
    return _no_grad(x, pick(axis=dim, keepdims=keepdim).astype("int64"))


def argmax(x, dim=None, keepdim=False, *, axis=None):
    """Index of the largest value (first one among ties), int64, no gradient."""
    return _arg_extreme("argmax", x, dim_arg(dim, axis), keepdim, largest=True)


def argmin(x, dim=None, keepdim=False, *, axis=None):
    return _arg_extreme("argmin", x, dim_arg(dim, axis), keepdim, largest=False)


def any(x, dim=None, keepdim=False, *, axis=None):
    """True where any element over ``dim`` is nonzero (bool, no gradient)."""
    dims = normalize_dims("any", dim_arg(dim, axis), x.ndim)
    return _no_grad(x, x.data.any(axis=dims, keepdims=keepdim))


def all(x, dim=None, keepdim=False, *, axis=None):
    dims = normalize_dims("all", dim_arg(dim, axis), x.ndim)
    return _no_grad(x, x.data.all(axis=dims, keepdims=keepdim))


def sum(x, dim=None, keepdim=False, *, axis=None, dtype=None):
    if dtype is not None:
        x = x.to(dtype=dtype)
    return Sum.apply(x, dim=dim_arg(dim, axis), keepdim=keepdim)


def mean(x, dim=None, keepdim=False, *, axis=None):
    return Mean.apply(x, dim=dim_arg(dim, axis), keepdim=keepdim)
