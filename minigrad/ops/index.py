"""Indexing: ``x[idx]`` with ints, slices, None, Ellipsis, integer and boolean arrays.

Backward scatters the upstream gradient into zeros of the input's shape.  Integer arrays
may pick the same element twice; each pick must add its gradient, so the scatter adds
(``xp.add.at``), it does not assign.
"""
from ..function import Function
from .. import backend

__all__ = ["getitem"]


def _is_advanced(index):
    items = index if isinstance(index, tuple) else (index,)
    return any(backend.is_array(i) or isinstance(i, (list,)) for i in items)


def _raw_index(index):
    from ..tensor import Tensor
    if isinstance(index, tuple):
        return tuple(_raw_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    return index


class GetItem(Function):
    @staticmethod
    def forward(ctx, x, index=None):
        ctx.shape, ctx.dtype, ctx.index = x.shape, x.dtype, index
        try:
            return x[index]
        except IndexError as err:
            raise IndexError(f"getitem: index {index!r} does not fit a tensor of shape "
                             f"{tuple(x.shape)}: {err}") from None

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        grad_x = xp.zeros(ctx.shape, dtype=grad.dtype)
        if _is_advanced(ctx.index):
            backend.scatter_add(grad_x, ctx.index, grad)   # repeated picks add up
        else:
            grad_x[ctx.index] = grad                       # a view: each element once
        return grad_x


def getitem(x, index):
    index = _raw_index(index)
    if isinstance(index, list):
        index = x.xp.asarray(index)
    return GetItem.apply(x, index=index)
