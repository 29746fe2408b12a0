"""Indexing: ``x[idx]`` (ints, slices, None, Ellipsis, integer and boolean arrays or Tensors),
``index_select`` and ``gather``.

Backward scatters the upstream gradient into zeros of the input's shape.  Integer arrays
may pick the same element twice (an embedding lookup of a repeated token); each pick must
add its gradient, so the scatter adds (``xp.add.at``), it does not assign.

Indices are checked here, not left to the backend: CuPy does not raise on an out-of-range
integer array index (it wraps around), which would turn a bug into wrong numbers.
"""
from ..function import Function
from .. import backend
from ._util import normalize_dim

__all__ = ["getitem", "index_select", "gather"]


def _as_index_array(op, item, like):
    """A Tensor, list or array used as an index -> an integer or bool array on like's device."""
    from ..tensor import Tensor
    if isinstance(item, Tensor):
        item = item.data
    if backend.is_array(item):
        item = backend.to_device(item, like.device)
    else:
        item = backend.as_array(item, device=like.device)
    if item.dtype.kind not in "iub":
        raise IndexError(f"{op}: index arrays must hold integers or bools, got dtype {item.dtype}")
    return item


def _item(item, like):
    """One index item: ints (NumPy ints too), slices, None and ... as they are; else an array."""
    if isinstance(item, (int, slice, type(None), type(Ellipsis))):
        return item
    if not backend.is_array(item) and hasattr(item, "__index__") and not hasattr(item, "data"):
        return int(item)                         # numpy.int64(3) -> 3
    return _as_index_array("getitem", item, like)


def _describe(item):
    if isinstance(item, slice):
        return ":".join("" if v is None else str(v) for v in (item.start, item.stop, item.step))
    if item is Ellipsis:
        return "..."
    if backend.is_array(item):
        return f"{item.dtype} array of shape {tuple(item.shape)}"
    return repr(item)


def _check_int_array(op, item, size, dim, shape, describe):
    """Every value of an integer index must lie in [-size, size)."""
    if item.size == 0:
        return
    low, high = int(item.min()), int(item.max())
    if low < -size or high >= size:
        bad = high if high >= size else low
        raise IndexError(f"{op}: index {bad} is out of range for dim {dim} of size {size} "
                         f"(index {describe}, tensor of shape {tuple(shape)})")


def _normalize(x, index):
    """``index`` as a tuple with backend arrays, checked against ``x.shape``."""
    items = index if isinstance(index, tuple) else (index,)
    items = tuple(_item(i, x) for i in items)
    text = "[" + ", ".join(_describe(i) for i in items) + "]"

    def width(item):                 # how many dims of x an index item consumes
        if item is None or item is Ellipsis:
            return 0
        if backend.is_array(item) and item.dtype.kind == "b":
            return item.ndim
        return 1
    used = sum(width(i) for i in items)
    if used > x.ndim or sum(i is Ellipsis for i in items) > 1:
        raise IndexError(f"getitem: index {text} has too many indices for a tensor of shape "
                         f"{x.shape} ({used} dims indexed, {x.ndim} available)")
    dim = 0
    for item in items:
        if item is Ellipsis:
            dim += x.ndim - used
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not -x.shape[dim] <= item < x.shape[dim]:
                raise IndexError(f"getitem: index {item} is out of range for dim {dim} of size "
                                 f"{x.shape[dim]} (index {text}, tensor of shape {x.shape})")
            dim += 1
        elif backend.is_array(item) and item.dtype.kind == "b":
            covered = x.shape[dim:dim + item.ndim]
            if tuple(item.shape) != covered:
                raise IndexError(f"getitem: boolean mask of shape {tuple(item.shape)} does not "
                                 f"match dims {dim}..{dim + item.ndim - 1} of shape {covered} "
                                 f"(index {text}, tensor of shape {x.shape})")
            dim += item.ndim
        elif backend.is_array(item):
            _check_int_array("getitem", item, x.shape[dim], dim, x.shape, text)
            dim += 1
        else:                        # a slice
            dim += 1
    return items if isinstance(index, tuple) or len(items) != 1 else items[0]


def _has_int_array(index):
    items = index if isinstance(index, tuple) else (index,)
    return any(backend.is_array(i) and i.dtype.kind != "b" for i in items)


class GetItem(Function):
    @staticmethod
    def forward(ctx, x, index=None):
        ctx.shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        ### BEGIN SOLUTION hw1.getitem
        ### TODO: y = x[ctx.index] with x of shape ctx.shape.  grad (shape of y) -> grad_x of
        ###       shape ctx.shape: zeros, with grad sent back to the picked places.  An index
        ###       with integer arrays may pick an element twice: those gradients must add up
        ###       (backend.scatter_add), a plain assignment would keep only one.
        grad_x = xp.zeros(ctx.shape, dtype=grad.dtype)
        if _has_int_array(ctx.index):
            backend.scatter_add(grad_x, ctx.index, grad)   # repeated picks add up
        else:
            grad_x[ctx.index] = grad                       # each element picked at most once
        return grad_x
        ### END SOLUTION


def getitem(x, index):
    """``x[index]`` with NumPy's (and PyTorch's) indexing rules."""
    return GetItem.apply(x, index=_normalize(x, index))


class IndexSelect(Function):
    @staticmethod
    def forward(ctx, x, index, dim=0):
        ctx.shape, ctx.dim = x.shape, dim
        ctx.save_for_backward(index)
        return ctx.xp.take(x, index, axis=dim)

    @staticmethod
    def backward(ctx, grad, *_):
        (index,) = ctx.saved
        grad_x = ctx.xp.zeros(ctx.shape, dtype=grad.dtype)
        backend.scatter_add(grad_x, (slice(None),) * ctx.dim + (index,), grad)
        return grad_x, None


def index_select(x, dim, index):
    """The entries of ``x`` at positions ``index`` (1-D integers) along ``dim``.

    ``index_select(W, 0, tokens)`` is an embedding lookup: (V, E) -> (len(tokens), E).
    """
    dim = normalize_dim("index_select", dim, x.ndim)
    array = _as_index_array("index_select", index, x)
    if array.ndim > 1 or array.dtype.kind == "b":
        raise IndexError(f"index_select: index must be a 1-D integer tensor, got "
                         f"{_describe(array)}")
    _check_int_array("index_select", array, x.shape[dim], dim, x.shape, _describe(array))
    return IndexSelect.apply(x, _index_tensor(array, x), dim=dim)


def _index_tensor(array, like):
    from ..tensor import Tensor
    return Tensor._from_op(backend.to_device(array, like.device), None, 0)


class Gather(Function):
    @staticmethod
    def forward(ctx, x, index, dim=0):
        xp = ctx.xp
        # out[i][j][k] = x[i][index[i][j][k]][k] (dim=1): index arrays for every dim, the
        # others being aranges broadcast along their own dim
        grids = []
        for d, n in enumerate(index.shape):
            shape = [1] * index.ndim
            shape[d] = n
            grids.append(index if d == dim else xp.arange(n).reshape(shape))
        ctx.shape, ctx.grids = x.shape, tuple(grids)
        return x[ctx.grids]

    @staticmethod
    def backward(ctx, grad, *_):
        grad_x = ctx.xp.zeros(ctx.shape, dtype=grad.dtype)
        backend.scatter_add(grad_x, ctx.grids, grad)        # an element gathered twice adds
        return grad_x, None


def gather(x, dim, index):
    """PyTorch's ``gather``: ``out[i][j] = x[i][index[i][j]]`` for dim=1.

    ``index`` has x's number of dims and sizes <= x's in every dim but ``dim``; the output
    has index's shape.  ``gather(logp, 1, targets[:, None])`` picks each row's target.
    """
    dim = normalize_dim("gather", dim, x.ndim)
    array = _as_index_array("gather", index, x)
    if array.ndim != x.ndim or array.dtype.kind == "b" or any(
            array.shape[d] > x.shape[d] for d in range(x.ndim) if d != dim):
        raise IndexError(f"gather: index of shape {tuple(array.shape)} does not fit a tensor of "
                         f"shape {x.shape} along dim {dim}; expected an integer index with "
                         f"{x.ndim} dims and sizes <= the tensor's in every other dim")
    _check_int_array("gather", array, x.shape[dim], dim, x.shape, _describe(array))
    return Gather.apply(x, _index_tensor(array, x), dim=dim)
