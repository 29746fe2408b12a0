"""Selection ops: where, masked_fill, tril/triu, elementwise maximum/minimum, comparisons.

Each picks, element by element, one of its inputs; the gradient goes back to whichever
input was picked (``where``'s condition and the comparisons get none).
"""
from ..function import Function
from ..tensor import Tensor
from .. import backend
from ._util import shape_of, broadcast_shapes, broadcasting, unbroadcast, as_tensor_like

__all__ = ["where", "masked_fill", "tril", "triu", "maximum", "minimum", "lt", "le", "gt", "ge", "eq", "ne"]


class Where(Function):
    @staticmethod
    def forward(ctx, condition, a, b):
        condition = condition.astype(bool)
        ctx.save_for_backward(condition)
        ctx.shapes = (shape_of(a), shape_of(b))
        return broadcasting("where", ctx.xp.where, condition, a, b)

    @staticmethod
    def backward(ctx, grad):        # each branch gets the gradient where it was chosen
        (condition,) = ctx.saved
        zero = ctx.xp.zeros((), dtype=grad.dtype)
        grad_a = unbroadcast(ctx.xp.where(condition, grad, zero), ctx.shapes[0])
        grad_b = unbroadcast(ctx.xp.where(condition, zero, grad), ctx.shapes[1])
        return None, grad_a, grad_b


def where(condition, a, b):
    """``a`` where ``condition`` is true, else ``b`` (broadcast together)."""
    like = next(x for x in (a, b, condition) if isinstance(x, Tensor)) \
        if any(isinstance(x, Tensor) for x in (a, b, condition)) else Tensor(a)
    return Where.apply(as_tensor_like(condition, like), as_tensor_like(a, like),
                       as_tensor_like(b, like))


def masked_fill(x, mask, value):
    """``x`` with ``value`` wherever ``mask`` (broadcast to x) is true."""
    mask = as_tensor_like(mask, x)
    if isinstance(mask, Tensor) and mask.dtype != backend.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got dtype {mask.dtype}")
    broadcast_shapes("masked_fill", x.shape, getattr(mask, "shape", ()))
    return where(mask, value, x)


class Triangle(Function):
    """Keep the lower (tril) or upper (triu) triangle of the last two dims, zero the rest."""

    @staticmethod
    def forward(ctx, x, diagonal=0, upper=False):
        if x.ndim < 2:
            raise ValueError(f"{'triu' if upper else 'tril'}: expected at least 2 dims, got "
                             f"shape {tuple(x.shape)}")
        ctx.diagonal, ctx.upper = diagonal, upper
        keep = ctx.xp.triu if upper else ctx.xp.tril
        return keep(x, diagonal)

    @staticmethod
    def backward(ctx, grad):        # kept entries pass their gradient, zeroed ones get none
        keep = ctx.xp.triu if ctx.upper else ctx.xp.tril
        return keep(grad, ctx.diagonal)


def tril(x, diagonal=0):
    return Triangle.apply(x, diagonal=diagonal, upper=False)


def triu(x, diagonal=0):
    return Triangle.apply(x, diagonal=diagonal, upper=True)


class Maximum(Function):
    """Elementwise max (``largest``) or min of a and b, broadcast together."""

    @staticmethod
    def forward(ctx, a, b, largest=True):
        ctx.largest = largest
        ctx.save_for_backward(a, b)
        if largest:
            return broadcasting("maximum", ctx.xp.maximum, a, b)
        return broadcasting("minimum", ctx.xp.minimum, a, b)

    @staticmethod
    def backward(ctx, grad):
        # the gradient goes to the winner; at a tie each gets half (as PyTorch)
        a, b = ctx.saved
        xp = ctx.xp
        a_wins = a > b if ctx.largest else a < b
        b_wins = b > a if ctx.largest else b < a
        half = grad * 0.5
        zero = xp.zeros((), dtype=grad.dtype)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = unbroadcast(xp.where(a_wins, grad, xp.where(b_wins, zero, half)), shape_of(a))
        if ctx.needs_input_grad[1]:
            grad_b = unbroadcast(xp.where(b_wins, grad, xp.where(a_wins, zero, half)), shape_of(b))
        return grad_a, grad_b


def maximum(a, b):
    """Elementwise max; the gradient goes to the larger one (half each at a tie)."""
    like = a if isinstance(a, Tensor) else b
    return Maximum.apply(as_tensor_like(a, like), as_tensor_like(b, like), largest=True)


def minimum(a, b):
    like = a if isinstance(a, Tensor) else b
    return Maximum.apply(as_tensor_like(a, like), as_tensor_like(b, like), largest=False)


# ---------------------------------------------------------------- comparisons (no gradient)
def _compare(name, op):
    def compare(a, b):
        """Elementwise comparison: a bool tensor, no gradient."""
        if a is None or b is None:
            return NotImplemented          # x == None is False (identity), as in PyTorch
        like = a if isinstance(a, Tensor) else b
        a, b = as_tensor_like(a, like), as_tensor_like(b, like)
        a = a.data if isinstance(a, Tensor) else a
        b = b.data if isinstance(b, Tensor) else b
        return Tensor._from_op(broadcasting(name, op, a, b), None, 0)
    compare.__name__ = name
    return compare


lt = _compare("lt", lambda a, b: a < b)
le = _compare("le", lambda a, b: a <= b)
gt = _compare("gt", lambda a, b: a > b)
ge = _compare("ge", lambda a, b: a >= b)
eq = _compare("eq", lambda a, b: a == b)
ne = _compare("ne", lambda a, b: a != b)
