"""Elementwise ops: arithmetic with broadcasting, and the pointwise functions.

Each backward returns dL/d(input) for each input, summed back to the input's shape
where broadcasting stretched it (``unbroadcast``).  A Python number as an operand gets
no gradient (``None``).
"""
import operator

from ..function import Function
from ..tensor import Tensor
from ._util import shape_of, broadcasting, unbroadcast, as_tensor_like
from .select import maximum, minimum
from .special import erf_values

__all__ = ["add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "tanh",
           "sigmoid", "relu", "gelu", "abs", "clip", "clamp", "as_tensor_like"]


# ---------------------------------------------------------------- arithmetic
# The forwards let the backend broadcast (``broadcasting`` re-raises its error naming the op
# and both shapes): checking shapes in Python first would cost every call.  ``ctx.
# needs_input_grad`` is known before forward runs, so each saves only what its backward
# will use: ``x * 2.0`` keeps just the number, ``x * w`` with a constant w keeps only w.
class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(shape_of(a), shape_of(b))   # to sum the grad back to each shape
        return broadcasting("add", operator.add, a, b)

    @staticmethod
    def backward(ctx, grad):        # d(a+b)/da = d(a+b)/db = 1
        shape_a, shape_b = ctx.saved
        return unbroadcast(grad, shape_a), unbroadcast(grad, shape_b)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(shape_of(a), shape_of(b))
        return broadcasting("sub", operator.sub, a, b)

    @staticmethod
    def backward(ctx, grad):        # d(a-b)/da = 1, d(a-b)/db = -1
        shape_a, shape_b = ctx.saved
        grad_b = unbroadcast(-grad, shape_b) if ctx.needs_input_grad[1] else None
        return unbroadcast(grad, shape_a), grad_b


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        needs_a, needs_b = ctx.needs_input_grad
        ctx.save_for_backward(b if needs_a else None, a if needs_b else None,
                              shape_of(a), shape_of(b))
        return broadcasting("mul", operator.mul, a, b)

    @staticmethod
    def backward(ctx, grad):        # grad: shape of a*b (broadcast)
        b, a, shape_a, shape_b = ctx.saved
        ### BEGIN SOLUTION hw1.mul_div
        ### TODO: y = a * b.  Return (grad_a, grad_b), each of its input's shape (None where
        ###       ctx.needs_input_grad says no): dy/da = b, dy/db = a, each times grad and
        ###       summed back over broadcast dims with unbroadcast(g, shape).
        needs_a, needs_b = ctx.needs_input_grad
        grad_a = unbroadcast(grad * b, shape_a) if needs_a else None
        grad_b = unbroadcast(grad * a, shape_b) if needs_b else None
        return grad_a, grad_b
        ### END SOLUTION


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        # d(a/b)/da = 1/b needs b; d(a/b)/db = -a/b^2 needs a and b
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b,
                              shape_of(a), shape_of(b))
        return broadcasting("div", operator.truediv, a, b)

    @staticmethod
    def backward(ctx, grad):        # grad: shape of a/b (broadcast)
        a, b, shape_a, shape_b = ctx.saved
        ### BEGIN SOLUTION hw1.mul_div
        ### TODO: y = a / b.  Return (grad_a, grad_b), each of its input's shape (None where
        ###       not needed): dy/da = 1/b, dy/db = -a/b^2, each times grad, then unbroadcast.
        needs_a, needs_b = ctx.needs_input_grad
        grad_a = unbroadcast(grad / b, shape_a) if needs_a else None
        grad_b = unbroadcast(-grad * a / (b * b), shape_b) if needs_b else None
        return grad_a, grad_b
        ### END SOLUTION


class Pow(Function):
    @staticmethod
    def forward(ctx, base, exponent):
        out = broadcasting("pow", operator.pow, base, exponent)
        # d/dbase needs base and exponent; d/dexponent needs out and base
        ctx.save_for_backward(base, exponent, out if ctx.needs_input_grad[1] else None)
        return out

    @staticmethod
    def backward(ctx, grad):        # grad: shape of base ** exponent (broadcast)
        base, exponent, out = ctx.saved
        ### BEGIN SOLUTION hw1.pow
        ### TODO: y = b ** e.  Return (grad_base, grad_exponent), each of its input's shape
        ###       (None where not needed): dy/db = e b^(e-1), dy/de = y log(b), taking
        ###       log(b) as 0 where b <= 0; times grad, then unbroadcast to each shape.
        grad_base = grad_exp = None
        if ctx.needs_input_grad[0]:
            grad_base = unbroadcast(grad * exponent * base ** (exponent - 1), shape_of(base))
        if ctx.needs_input_grad[1]:
            log_base = ctx.xp.log(ctx.xp.where(base > 0, base, 1))   # 0 where base <= 0
            grad_exp = unbroadcast(grad * out * log_base, shape_of(exponent))
        return grad_base, grad_exp
        ### END SOLUTION


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


_OPERAND = (Tensor, int, float)     # taken as they are (bool is an int)


def _binary(fn, a, b):
    if isinstance(a, _OPERAND) and isinstance(b, _OPERAND):     # the common case, fast
        return fn.apply(a, b)
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
        ### BEGIN SOLUTION hw1.exp_log
        ### TODO: y = exp(x).  grad (any shape) -> grad_x, same shape: dy/dx = exp(x) = y;
        ###       use the saved y.
        return grad * y
        ### END SOLUTION


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log(x)

    @staticmethod
    def backward(ctx, grad):        # d log(x)/dx = 1/x
        (x,) = ctx.saved
        ### BEGIN SOLUTION hw1.exp_log
        ### TODO: y = log(x).  grad (any shape) -> grad_x, same shape: dy/dx = 1/x;
        ###       use the saved x.
        return grad / x
        ### END SOLUTION


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
        ### BEGIN SOLUTION hw1.tanh_sigmoid
        ### TODO: y = tanh(x).  grad (any shape) -> grad_x, same shape: dy/dx = 1 - tanh(x)^2;
        ###       use the saved y.
        return grad * (1 - y * y)
        ### END SOLUTION


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        y = 0.5 * (1 + ctx.xp.tanh(0.5 * x))   # = 1 / (1 + exp(-x)), no overflow
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):        # d sigmoid(x)/dx = y (1 - y)
        (y,) = ctx.saved
        ### BEGIN SOLUTION hw1.tanh_sigmoid
        ### TODO: y = sigmoid(x).  grad (any shape) -> grad_x, same shape: dy/dx = y (1 - y);
        ###       use the saved y.
        return grad * y * (1 - y)
        ### END SOLUTION


class ReLU(Function):
    @staticmethod
    def forward(ctx, x):
        mask = x > 0
        ctx.save_for_backward(mask)
        return ctx.xp.maximum(x, 0)    # not x * mask: that gives -0.0 for negative x

    @staticmethod
    def backward(ctx, grad):        # slope 1 where x > 0, else 0 (0 at x = 0, as PyTorch)
        (mask,) = ctx.saved
        ### BEGIN SOLUTION hw1.relu
        ### TODO: y = max(x, 0).  grad (any shape) -> grad_x, same shape: slope 1 where x > 0,
        ###       0 elsewhere (0 at x = 0, as PyTorch); forward saved the boolean mask x > 0.
        return grad * mask
        ### END SOLUTION


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
        return 0.5 * x * (1 + erf_values(xp, x * 0.7071067811865476))   # x Phi(x)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        (x,) = ctx.saved
        if ctx.approximate == "tanh":
            inner = 0.7978845608028654 * (x + 0.044715 * x ** 3)
            th = xp.tanh(inner)
            d_inner = 0.7978845608028654 * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + th) + 0.5 * x * (1 - th * th) * d_inner)
        # d/dx [x Phi(x)] = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
        cdf = 0.5 * (1 + erf_values(xp, x * 0.7071067811865476))
        return grad * (cdf + x * (0.3989422804014327 * xp.exp(-0.5 * x * x)))


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
