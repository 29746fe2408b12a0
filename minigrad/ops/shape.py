"""Shape ops: views and rearrangements of the same numbers, joins and splits, moves between devices.

Their backwards move the gradient back to the input's layout: the inverse reshape or
permutation, the matching slice of a joined gradient, the sum over copies of an expanded one.
squeeze, unsqueeze, flatten and view are all ``Reshape`` with a computed shape.
"""
from ..function import Function
from .. import backend
from ._util import normalize_dim, unbroadcast

__all__ = ["reshape", "view", "permute", "transpose", "swapaxes", "swapdims", "to", "clone",
           "expand", "expand_as", "squeeze", "unsqueeze", "flatten", "cat", "concatenate",
           "stack", "split", "chunk", "pad", "contiguous", "repeat"]


def _shape_args(shape):
    """``f(2, 3)`` and ``f((2, 3))`` both mean the shape (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


# ---------------------------------------------------------------- same numbers, new shape
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
        if (len(dims) != x.ndim or not all(-x.ndim <= d < x.ndim for d in dims)
                or sorted(d % x.ndim for d in dims) != list(range(x.ndim))):
            raise ValueError(f"permute: dims {dims} are not a permutation of the "
                             f"{x.ndim} dims of a tensor of shape {tuple(x.shape)}")
        ctx.dims = tuple(d % x.ndim for d in dims)
        return x.transpose(ctx.dims)

    @staticmethod
    def backward(ctx, grad):        # undo the permutation with its inverse
        inverse = [0] * len(ctx.dims)
        for position, d in enumerate(ctx.dims):
            inverse[d] = position
        return grad.transpose(inverse)


def reshape(x, *shape):
    return Reshape.apply(x, shape=_shape_args(shape))


view = reshape


def permute(x, *dims):
    return Permute.apply(x, dims=_shape_args(dims)) if x.ndim else x


def transpose(x, dim0, dim1):
    """Swap two dims (``x.transpose(-2, -1)`` for the last two)."""
    if x.ndim == 0:
        normalize_dim("transpose", dim0, 0), normalize_dim("transpose", dim1, 0)
        return x
    dims = list(range(x.ndim))
    dim0, dim1 = normalize_dim("transpose", dim0, x.ndim), normalize_dim("transpose", dim1, x.ndim)
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return Permute.apply(x, dims=tuple(dims))


swapaxes = swapdims = transpose


def squeeze(x, dim=None):
    """Drop dims of size 1: all of them (dim=None), or those named that have size 1."""
    if dim is None:
        dims = [i for i, n in enumerate(x.shape) if n == 1]
    else:
        named = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = [normalize_dim("squeeze", d, x.ndim) for d in named]
        dims = [d for d in dims if x.ndim and x.shape[d] == 1]   # size != 1: kept, as PyTorch
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in dims))


def unsqueeze(x, dim):
    """A new dim of size 1 at ``dim`` (in [-ndim-1, ndim])."""
    dim = normalize_dim("unsqueeze", dim, x.ndim, extra=1)
    shape = list(x.shape)
    shape.insert(dim, 1)
    return reshape(x, tuple(shape))


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one: (N, T, D).flatten(0, 1) -> (N*T, D)."""
    if x.ndim == 0:
        return reshape(x, (1,))
    start = normalize_dim("flatten", start_dim, x.ndim)
    end = normalize_dim("flatten", end_dim, x.ndim)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                         f"for a tensor of shape {x.shape}")
    merged = 1
    for n in x.shape[start:end + 1]:
        merged *= n
    return reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1:])


# ---------------------------------------------------------------- copies: expand, repeat
class Expand(Function):
    @staticmethod
    def forward(ctx, x, shape=()):
        ctx.shape = x.shape
        return ctx.xp.broadcast_to(x, shape)    # a read-only view: no copy

    @staticmethod
    def backward(ctx, grad):        # every copy of an element sends its gradient back: sum
        return unbroadcast(grad, ctx.shape)


def expand(x, *sizes):
    """``x`` broadcast to ``sizes`` (-1 keeps a dim); only dims of size 1 can grow."""
    sizes = _shape_args(sizes)
    if len(sizes) < x.ndim:
        raise ValueError(f"expand: {len(sizes)} sizes {sizes} for a tensor of shape {x.shape}; "
                         f"expected at least {x.ndim}")
    lead = len(sizes) - x.ndim
    shape = []
    for i, n in enumerate(sizes):
        old = x.shape[i - lead] if i >= lead else None
        if n == -1:
            if old is None:
                raise ValueError(f"expand: -1 at new leading dim {i} of sizes {sizes}")
            n = old
        if old is not None and old != 1 and old != n:
            raise ValueError(f"expand: dim {i - lead} of a tensor of shape {x.shape} has size "
                             f"{old} and cannot expand to {n} (sizes {sizes}); only size-1 "
                             "dims can expand")
        shape.append(n)
    if tuple(shape) == x.shape:
        return x
    return Expand.apply(x, shape=tuple(shape))


def expand_as(x, other):
    return expand(x, other.shape)


class Repeat(Function):
    @staticmethod
    def forward(ctx, x, repeats=()):
        ctx.shape, ctx.repeats = x.shape, repeats
        return ctx.xp.tile(x, repeats)

    @staticmethod
    def backward(ctx, grad):
        # output dim i is repeats[i] copies of input dim i: view it as (r_i, n_i) and sum r_i
        lead = len(ctx.repeats) - len(ctx.shape)
        sizes = (1,) * lead + tuple(ctx.shape)
        split = []
        for r, n in zip(ctx.repeats, sizes):
            split += [r, n]
        grad = grad.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return grad.reshape(ctx.shape)


def repeat(x, *repeats):
    """PyTorch's ``repeat``: tile ``x`` ``repeats[i]`` times along dim i (len >= ndim)."""
    repeats = _shape_args(repeats)
    if len(repeats) < x.ndim:
        raise ValueError(f"repeat: {len(repeats)} repeats {repeats} for a tensor of shape "
                         f"{x.shape}; expected at least {x.ndim}")
    return Repeat.apply(x, repeats=repeats)


def contiguous(x):
    """The same tensor: arrays here need no contiguity for any op (PyTorch's name, kept)."""
    return x


# ---------------------------------------------------------------- joins and splits
def _check_join(op, tensors, dim, same_shape):
    """Same device, same dtype; equal sizes except along dim (or everywhere for stack)."""
    from ..tensor import Tensor
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: item {i} is a {type(t).__name__}, expected a Tensor")
    first = tensors[0]
    for i, t in enumerate(tensors[1:], start=1):
        if t.device != first.device:
            raise RuntimeError(f"{op}: tensor 0 is on {first.device} but tensor {i} is on "
                               f"{t.device}; move them to one device with .to(device)")
        if t.dtype != first.dtype:
            raise TypeError(f"{op}: tensor 0 has dtype {first.dtype} but tensor {i} has "
                            f"{t.dtype}; convert with .to(dtype=...) first")
        if t.ndim != first.ndim:
            raise ValueError(f"{op}: tensor 0 has shape {first.shape} but tensor {i} has "
                             f"shape {t.shape}; expected the same number of dims")
    if first.ndim == 0 and not same_shape:
        raise ValueError(f"{op}: 0-d tensors cannot be joined along a dim; use stack")
    dim = normalize_dim(op, dim, first.ndim, extra=1 if same_shape else 0)
    for i, t in enumerate(tensors[1:], start=1):
        differ = [d for d in range(first.ndim) if t.shape[d] != first.shape[d]
                  and (same_shape or d != dim)]
        if differ:
            rule = "all equal" if same_shape else f"equal except in dim {dim}"
            raise ValueError(f"{op}: tensor 0 has shape {first.shape} but tensor {i} has shape "
                             f"{t.shape} (they differ in dim {differ[0]}; joining along dim "
                             f"{dim}, expected sizes {rule})")
    return tensors, dim


class Cat(Function):
    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ctx.dim = dim
        ctx.sizes = [a.shape[dim] for a in arrays]
        return ctx.xp.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):        # each input gets its own slice of the gradient back
        grads, start = [], 0
        for n in ctx.sizes:
            index = (slice(None),) * ctx.dim + (slice(start, start + n),)
            grads.append(grad[index])
            start += n
        return tuple(grads)


def cat(tensors, dim=0):
    """Join tensors along an existing dim: (2, D) and (3, D) -> (5, D)."""
    tensors, dim = _check_join("cat", tensors, dim, same_shape=False)
    return Cat.apply(*tensors, dim=dim)


concatenate = cat


class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ctx.dim = dim
        return ctx.xp.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):        # input i was slice i along the new dim
        return tuple(grad[(slice(None),) * ctx.dim + (i,)] for i in range(grad.shape[ctx.dim]))


def stack(tensors, dim=0):
    """Join equal-shape tensors along a new dim: T tensors (N, H) -> (T, N, H) for dim=0."""
    tensors, dim = _check_join("stack", tensors, dim, same_shape=True)
    return Stack.apply(*tensors, dim=dim)


class Split(Function):
    """One node with many outputs: backward joins all their gradients in one concatenate.

    (One getitem per piece would be k nodes, each backward allocating a zero array of the
    whole input and the engine adding k of them: O(k * size) instead of O(size).)
    """

    @staticmethod
    def forward(ctx, x, sizes=(), dim=0):
        ctx.dim = dim
        pieces, start = [], 0
        for n in sizes:
            pieces.append(x[(slice(None),) * dim + (slice(start, start + n),)])
            start += n
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grads):      # pieces that got no gradient arrive as zeros
        return ctx.xp.concatenate(grads, axis=ctx.dim)


def split(x, split_size_or_sections, dim=0):
    """Pieces of ``x`` along ``dim``: of size ``split_size_or_sections`` (the last may be
    smaller), or of the listed sizes, which must add up to the dim's size.  A tuple."""
    dim = normalize_dim("split", dim, x.ndim)
    total = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, total - start) for start in range(0, total, size)] or [0]
    else:
        sizes = [int(n) for n in split_size_or_sections]
        if sum(sizes) != total or any(n < 0 for n in sizes):
            raise ValueError(f"split: sections {sizes} add up to {sum(sizes)} but dim {dim} of "
                             f"a tensor of shape {x.shape} has size {total}")
    return Split.apply(x, sizes=tuple(sizes), dim=dim)     # forward returns a tuple: so does apply


def chunk(x, chunks, dim=0):
    """``chunks`` pieces of size ceil(n / chunks) along ``dim`` (fewer if n is small), as PyTorch."""
    if not isinstance(chunks, int) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    dim = normalize_dim("chunk", dim, x.ndim)
    size = max(-(-x.shape[dim] // chunks), 1)
    return split(x, size, dim)


# ---------------------------------------------------------------- pad, tril, triu
class Pad(Function):
    @staticmethod
    def forward(ctx, x, widths=(), value=0.0):
        ctx.widths = widths
        return ctx.xp.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):        # padding is constant: only the original region gets gradient
        index = tuple(slice(before, n - after) for (before, after), n in zip(ctx.widths, grad.shape))
        return grad[index]


def pad(x, pad, value=0.0):
    """Constant padding, in ``F.pad``'s order: last dim first, (left, right, top, bottom, ...)."""
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected an even number of at most {2 * x.ndim} sizes for a "
                         f"tensor of shape {x.shape}, got {pad}")
    if any(not isinstance(p, int) or p < 0 for p in pad):
        raise ValueError(f"pad: sizes must be non-negative ints, got {pad}")
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):          # pair k pads dim -(k+1)
        widths[x.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    return Pad.apply(x, widths=tuple(widths), value=value)


# ---------------------------------------------------------------- devices and copies
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
