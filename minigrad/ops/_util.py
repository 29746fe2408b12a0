"""Small helpers the op files share: operands, broadcasting shapes and undoing broadcasting."""
from .. import backend
from ..tensor import Tensor

__all__ = ["shape_of", "as_tensor_like", "broadcast_shapes", "broadcasting", "unbroadcast",
           "check_broadcast", "normalize_dims", "normalize_dim", "dim_arg"]


def shape_of(x):
    """The shape of an array, or None for a Python number (which broadcasts to anything)."""
    shape = getattr(x, "shape", None)
    return None if shape is None else tuple(shape)


def as_tensor_like(value, like):
    """A Python number stays a number; anything else becomes a Tensor beside ``like``."""
    if isinstance(value, Tensor) or isinstance(value, (int, float, bool)):
        return value
    if backend.is_array(value) and not like.requires_grad:
        return Tensor(value, device=like.device)
    dtype = like.dtype if backend.is_floating(like.dtype) else None
    return Tensor(value, dtype=dtype, device=like.device)


def broadcast_shapes(op, *shapes):
    """NumPy's broadcasting rule, with an error that names the op and both shapes."""
    shapes = [s for s in shapes if s is not None]
    if len(shapes) < 2 or all(s == shapes[0] for s in shapes):   # the common case: fast
        return shapes[0] if shapes else ()
    ndim = max((len(s) for s in shapes), default=0)
    result = []
    for axis in range(-ndim, 0):
        sizes = {s[axis] for s in shapes if len(s) >= -axis} - {1}
        if len(sizes) > 1:
            raise ValueError(f"{op}: shapes {' and '.join(map(str, shapes))} cannot be "
                             f"broadcast together (sizes {sorted(sizes)} at dim {axis}); "
                             "expected equal sizes or 1 in each dim, counted from the right")
        result.append(sizes.pop() if sizes else 1)
    return tuple(result)


check_broadcast = broadcast_shapes


def broadcasting(op, kernel, *operands):
    """``kernel(*operands)`` broadcast by the backend; if it cannot, the error names the op
    and every shape (checking in Python before every call would cost each op ~1 us)."""
    try:
        return kernel(*operands)
    except ValueError:
        broadcast_shapes(op, *(shape_of(x) for x in operands))   # raises the clear error
        raise                                                      # some other ValueError


def unbroadcast(grad, shape):
    """Sum ``grad`` over the dims that broadcasting added or stretched, back to ``shape``.

    If y = x + b broadcast b from shape (1, H) to (N, H), every row of y used b, so
    dL/db = sum over N of dL/dy, kept as (1, H).
    """
    if shape is None:
        return None
    if tuple(grad.shape) == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


def normalize_dims(op, dim, ndim):
    """``dim`` (int, tuple or None = all) as a sorted tuple of non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} "
                             f"dims; expected a dim in [{-ndim}, {ndim - 1}]")
        out.append(d % max(ndim, 1))
    if ndim == 0:              # PyTorch lets a 0-d tensor reduce over dim 0 or -1: a no-op
        return ()
    return tuple(sorted(set(out)))


def normalize_dim(op, dim, ndim, extra=0):
    """One ``dim`` (negative counts from the end) as a non-negative int.

    ``extra=1`` allows the position just past the last dim, as ``unsqueeze`` and ``stack``
    need (a new dim can go at the end).
    """
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    size = ndim + extra
    if not -max(size, 1) <= dim < max(size, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dims; "
                         f"expected a dim in [{-max(size, 1)}, {max(size, 1) - 1}]")
    return dim % max(size, 1)


def dim_arg(dim, axis):
    """PyTorch's ``dim``, or NumPy's ``axis`` as an alias for it (not both)."""
    if axis is not None:
        if dim is not None:
            raise TypeError("give dim or its alias axis, not both")
        return axis
    return dim
