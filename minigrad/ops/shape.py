"""Shape ops: views and rearrangements of the same numbers, and moves between devices.

Their backwards move the gradient back to the input's layout: the inverse reshape or
permutation.  (More to come: expand, squeeze, unsqueeze, flatten, cat, stack, split,
chunk, pad, tril, triu, swapaxes.)
"""
from ..function import Function
from .. import backend

__all__ = ["reshape", "view", "permute", "transpose", "to", "clone"]


def _shape_args(shape):
    """``f(2, 3)`` and ``f((2, 3))`` both mean the shape (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape=()):
        ctx.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {tuple(x.shape)} "
                             f"({x.size} elements) to {shape}") from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Permute(Function):
    @staticmethod
    def forward(ctx, x, dims=()):
        if sorted(d % max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
            raise ValueError(f"permute: dims {dims} are not a permutation of the "
                             f"{x.ndim} dims of a tensor of shape {tuple(x.shape)}")
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):        # undo the permutation with its inverse
        inverse = [0] * len(ctx.dims)
        for position, d in enumerate(ctx.dims):
            inverse[d % len(ctx.dims)] = position
        return grad.transpose(inverse)


class To(Function):
    @staticmethod
    def forward(ctx, x, device=None, dtype=None):
        ctx.device, ctx.dtype = backend.device_of(x), x.dtype
        out = backend.to_device(x, device) if device is not None else x
        return out.astype(dtype) if dtype is not None and out.dtype != dtype else out

    @staticmethod
    def backward(ctx, grad):        # the gradient goes back where the input lives
        grad = backend.to_device(grad, ctx.device)
        return grad.astype(ctx.dtype) if grad.dtype != ctx.dtype else grad


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


def reshape(x, *shape):
    return Reshape.apply(x, shape=_shape_args(shape))


view = reshape


def permute(x, *dims):
    return Permute.apply(x, dims=_shape_args(dims))


def transpose(x, dim0, dim1):
    dims = list(range(x.ndim))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return Permute.apply(x, dims=tuple(dims))


def to(x, device=None, dtype=None):
    if dtype is not None:
        dtype = backend.dtype_of(dtype)
    if device is not None:
        device = backend.get_backend(device).name
    if (device is None or device == x.device) and (dtype is None or dtype == x.dtype):
        return x
    return To.apply(x, device=device, dtype=dtype)


def clone(x):
    return Clone.apply(x)
