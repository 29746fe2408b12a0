"""Elementwise ops: arithmetic with broadcasting, and the pointwise functions.

Each backward returns dL/d(input) for each input, summed back to the input's shape
where broadcasting stretched it (``unbroadcast``).  A Python number as an operand gets
no gradient (``None``).
"""
from ..function import Function
from ..tensor import Tensor
from .. import backend
from ._util import shape_of, broadcast_shapes, unbroadcast

__all__ = ["add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "tanh",
           "sigmoid", "relu", "gelu", "abs", "clip", "clamp", "where", "masked_fill",
           "maximum", "minimum", "lt", "le", "gt", "ge", "eq", "ne", "as_tensor_like"]


def as_tensor_like(value, like):
    """A Python number stays a number; anything else becomes a Tensor beside ``like``."""
    if isinstance(value, Tensor) or isinstance(value, (int, float, bool)):
        return value
    if backend.is_array(value) and not like.requires_grad:
        return Tensor(value, device=like.device)
    dtype = like.dtype if backend.is_floating(like.dtype) else None
    return Tensor(value, dtype=dtype, device=like.device)


# ---------------------------------------------------------------- arithmetic
class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (shape_of(a), shape_of(b))
        broadcast_shapes("add", *ctx.shapes)
        return a + b

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        return unbroadcast(grad, shape_a), unbroadcast(grad, shape_b)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (shape_of(a), shape_of(b))
        broadcast_shapes("sub", *ctx.shapes)
        return a - b

    @staticmethod
    def backward(ctx, grad):
        shape_a, shape_b = ctx.shapes
        return unbroadcast(grad, shape_a), unbroadcast(-grad, shape_b)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        broadcast_shapes("mul", shape_of(a), shape_of(b))
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):        # d(ab)/da = b, d(ab)/db = a
        a, b = ctx.saved
        grad_a = unbroadcast(grad * b, shape_of(a)) if ctx.needs_input_grad[0] else None
        grad_b = unbroadcast(grad * a, shape_of(b)) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        broadcast_shapes("div", shape_of(a), shape_of(b))
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
        a, b = ctx.saved
        grad_a = unbroadcast(grad / b, shape_of(a)) if ctx.needs_input_grad[0] else None
        grad_b = (unbroadcast(-grad * a / (b * b), shape_of(b))
                  if ctx.needs_input_grad[1] else None)
        return grad_a, grad_b


class Pow(Function):
    @staticmethod
    def forward(ctx, base, exponent):
        broadcast_shapes("pow", shape_of(base), shape_of(exponent))
        out = base ** exponent
        ctx.save_for_backward(base, exponent, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        # d(b^e)/db = e b^(e-1);  d(b^e)/de = b^e log(b)
        base, exponent, out = ctx.saved
        grad_base = grad_exp = None
        if ctx.needs_input_grad[0]:
            grad_base = unbroadcast(grad * exponent * base ** (exponent - 1), shape_of(base))
        if ctx.needs_input_grad[1]:
            log_base = ctx.xp.log(ctx.xp.where(base > 0, base, 1))   # 0 where base <= 0
            grad_exp = unbroadcast(grad * out * log_base, shape_of(exponent))
        return grad_base, grad_exp


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


def _binary(fn, a, b):
    like = a if isinstance(a, Tensor) else b
    return fn.apply(as_tensor_like(a, like), as_tensor_like(b, like))


def add(a, b):
    return _binary(Add, a, b)


def sub(a, b):
    return _binary(Sub, a, b)


def mul(a, b):
    return _binary(Mul, a, b)


def div(a, b):
    return _binary(Div, a, b)


def pow(base, exponent):
    return _binary(Pow, base, exponent)


def neg(x):
    return Neg.apply(x)


# ---------------------------------------------------------------- pointwise functions
class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.exp(x)
        ctx.save_for_backward(y)     # d exp(x)/dx = exp(x): keep y
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * y


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log(x)

    @staticmethod
    def backward(ctx, grad):        # d log(x)/dx = 1/x
        (x,) = ctx.saved
        return grad / x


class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):        # d sqrt(x)/dx = 1 / (2 sqrt(x))
        (y,) = ctx.saved
        return grad / (2 * y)


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.tanh(x)
        ctx.save_for_backward(y)     # d tanh(x)/dx = 1 - tanh(x)^2: keep y, not x
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        return grad * (1 - y * y)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        y = 0.5 * (1 + ctx.xp.tanh(0.5 * x))   # = 1 / (1 + exp(-x)), no overflow
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):        # d sigmoid(x)/dx = y (1 - y)
        (y,) = ctx.saved
        return grad * y * (1 - y)


class ReLU(Function):
    @staticmethod
    def forward(ctx, x):
        mask = x > 0
        ctx.save_for_backward(mask)
        return ctx.xp.maximum(x, 0)    # not x * mask: that gives -0.0 for negative x

    @staticmethod
    def backward(ctx, grad):        # slope 1 where x > 0, else 0 (0 at x = 0, as PyTorch)
        (mask,) = ctx.saved
        return grad * mask


# Abramowitz & Stegun 7.1.26: erf(x) = 1 - (a1 t + ... + a5 t^5) exp(-x^2), t = 1/(1 + p|x|),
# absolute error below 1.5e-7.  NumPy has no erf; the backward differentiates this same
# formula, so gradients are exact for the function computed.
_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def _erf_and_slope(xp, x):
    """erf(x) and its derivative, both of the A&S 7.1.26 formula."""
    ax = xp.abs(x)
    t = 1 / (1 + _ERF_P * ax)
    poly, dpoly = 0 * t, 0 * t          # P(t) = sum a_k t^k, P'(t) by Horner
    for a in reversed(_ERF_A):
        dpoly = dpoly * t + poly
        poly = poly * t + a
    poly, dpoly = poly * t, dpoly * t + poly   # the sum starts at t^1
    gauss = xp.exp(-ax * ax)
    erf_abs = 1 - poly * gauss
    # d/d|x| [1 - P(t) e^{-x^2}] = (p t^2 P'(t) + 2|x| P(t)) e^{-x^2}
    slope = (_ERF_P * t * t * dpoly + 2 * ax * poly) * gauss
    return xp.sign(x) * erf_abs, slope


class GELU(Function):
    """gelu(x) = x Phi(x), Phi the standard normal CDF (PyTorch's default, "none"),
    or the tanh approximation 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""

    @staticmethod
    def forward(ctx, x, approximate="none"):
        xp = ctx.xp
        ctx.approximate = approximate
        ctx.save_for_backward(x)
        if approximate == "tanh":
            inner = 0.7978845608028654 * (x + 0.044715 * x ** 3)
            return 0.5 * x * (1 + xp.tanh(inner))
        if approximate != "none":
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        erf, _ = _erf_and_slope(xp, x * 0.7071067811865476)
        return 0.5 * x * (1 + erf)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        (x,) = ctx.saved
        if ctx.approximate == "tanh":
            inner = 0.7978845608028654 * (x + 0.044715 * x ** 3)
            th = xp.tanh(inner)
            d_inner = 0.7978845608028654 * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + th) + 0.5 * x * (1 - th * th) * d_inner)
        erf, slope = _erf_and_slope(xp, x * 0.7071067811865476)
        # d/dx [0.5 x (1 + erf(x/sqrt2))] = 0.5 (1 + erf) + 0.5 x erf'(x/sqrt2) / sqrt2
        return grad * (0.5 * (1 + erf) + 0.5 * x * slope * 0.7071067811865476)


class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.abs(x)

    @staticmethod
    def backward(ctx, grad):        # sign(x); 0 at x = 0, as PyTorch
        (x,) = ctx.saved
        return grad * ctx.xp.sign(x)


class Clip(Function):
    @staticmethod
    def forward(ctx, x, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        inside = ctx.xp.ones(x.shape, dtype=bool)
        if min is not None:
            inside &= x >= min
        if max is not None:
            inside &= x <= max
        ctx.save_for_backward(inside)
        return ctx.xp.clip(x, min, max)

    @staticmethod
    def backward(ctx, grad):        # slope 1 inside [min, max], 0 where clipped
        (inside,) = ctx.saved
        return grad * inside


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def tanh(x):
    return Tanh.apply(x)


def sigmoid(x):
    return Sigmoid.apply(x)


def relu(x):
    return ReLU.apply(x)


def gelu(x, approximate="none"):
    return GELU.apply(x, approximate=approximate)


def abs(x):
    return Abs.apply(x)


def clip(x, min=None, max=None):
    """``x`` limited to [min, max]; bounds may be numbers or tensors (broadcast to x)."""
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x if min is None else maximum(x, min)
        return out if max is None else minimum(out, max)
    return Clip.apply(x, min=min, max=max)


clamp = clip


# ---------------------------------------------------------------- selection
class Where(Function):
    @staticmethod
    def forward(ctx, condition, a, b):
        broadcast_shapes("where", shape_of(condition), shape_of(a), shape_of(b))
        condition = condition.astype(bool)
        ctx.save_for_backward(condition)
        ctx.shapes = (shape_of(a), shape_of(b))
        return ctx.xp.where(condition, a, b)

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


class Maximum(Function):
    """Elementwise max (``largest``) or min of a and b, broadcast together."""

    @staticmethod
    def forward(ctx, a, b, largest=True):
        broadcast_shapes("maximum" if largest else "minimum", shape_of(a), shape_of(b))
        ctx.largest = largest
        ctx.save_for_backward(a, b)
        return ctx.xp.maximum(a, b) if largest else ctx.xp.minimum(a, b)

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
        broadcast_shapes(name, shape_of(a), shape_of(b))
        return Tensor._from_op(op(a, b), None, 0)
    compare.__name__ = name
    return compare


lt = _compare("lt", lambda a, b: a < b)
le = _compare("le", lambda a, b: a <= b)
gt = _compare("gt", lambda a, b: a > b)
ge = _compare("ge", lambda a, b: a >= b)
eq = _compare("eq", lambda a, b: a == b)
ne = _compare("ne", lambda a, b: a != b)
