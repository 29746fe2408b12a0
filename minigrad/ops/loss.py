"""Losses: cross_entropy (fused log-softmax + NLL), nll_loss, mse_loss, BCE with logits.

PyTorch's exact semantics, including the corners: ``ignore_index`` targets add nothing and
are left out of the mean's denominator; with ``weight`` the mean divides by the summed
weights of the counted targets; label smoothing mixes in the uniform distribution.

Class-index losses take logits (N, C) or (N, C, d1, ...) with integer targets (N) or
(N, d1, ...), or an unbatched (C,) with a 0-d target.  Inside, the class dim is moved
last and everything else flattened into M rows: logits (M, C), targets (M,).
"""
from ..function import Function
from ..tensor import Tensor
from .. import backend
from .nn import _log_softmax

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy_with_logits"]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _class_rows(xp, x):
    """(N, C, d1, ...) -> (M, C) with the class dim last; (C,) -> (1, C)."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    return xp.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _class_unrows(xp, rows, shape):
    """The inverse of ``_class_rows``: (M, C) back to ``shape``."""
    if len(shape) == 1:
        return rows.reshape(shape)
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)     # (N, d1, ..., C)
    return xp.ascontiguousarray(xp.moveaxis(rows.reshape(moved), -1, 1))


def _target_weights(xp, target, weight, ignore_index, dtype):
    """Flat targets safe to index with, and each row's weight w[t] (0 where ignored)."""
    target = target.reshape(-1)                                # (M,)
    ignored = target == ignore_index
    safe = xp.where(ignored, 0, target)                        # any valid class for ignored
    kept = (~ignored).astype(dtype)
    row_weight = kept if weight is None else weight.astype(dtype)[safe] * kept
    return safe, kept, row_weight


def _reduce(loss_rows, row_weight, reduction, target_shape):
    """Per-row losses (M,) reduced PyTorch's way; mean divides by sum of w[t]."""
    if reduction == "none":
        return loss_rows.reshape(target_shape)
    total = loss_rows.sum()
    return total if reduction == "sum" else total / row_weight.sum()


def _row_scale(xp, grad, reduction, row_weight):
    """dL/d(loss of each row), shape (M, 1), from the upstream gradient of the reduction.

    When every target is ignored the mean is 0/0 = NaN (as in PyTorch), but every row's
    loss is the constant 0, so its gradient is 0: divide by 1 instead of 0 there.
    """
    if reduction == "none":
        return grad.reshape(-1, 1)
    if reduction == "sum":
        return grad.reshape(1, 1)
    total = row_weight.sum()
    return grad.reshape(1, 1) / xp.where(total == 0, xp.ones_like(total), total)


def _check_targets(op, input, target, ignore_index):
    if not isinstance(target, Tensor) or target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must be an integer tensor of class indices, got "
                        f"{getattr(target, 'dtype', type(target).__name__)}")
    num_classes = input.shape[1] if input.ndim > 1 else input.shape[0]
    expected = (input.shape[0],) + input.shape[2:] if input.ndim > 1 else ()
    if target.shape != expected:
        raise ValueError(f"{op}: input of shape {input.shape} (class dim {1 if input.ndim > 1 else 0}) "
                         f"needs a target of shape {expected}, got {target.shape}")
    t = target.data
    if t.size:
        bad = ((t < 0) | (t >= num_classes)) & (t != ignore_index)
        if bool(bad.any()):
            raise IndexError(f"{op}: target values must be class indices in "
                             f"[0, {num_classes - 1}] or ignore_index={ignore_index}, got "
                             f"values in [{int(t.min())}, {int(t.max())}]")


class CrossEntropy(Function):
    """loss_i = (1 - eps) w[t_i] (-log p_i[t_i]) + (eps / C) sum_c w_c (-log p_i[c]),
    p_i = softmax(x_i), eps = label_smoothing; rows with t_i = ignore_index give 0.

    dloss_i/dx_i = (1 - eps) w[t_i] (p_i - onehot(t_i)) + (eps / C) (sum(w) p_i - w):
    the softmax and the log cancel into "softmax minus one-hot", no division anywhere.
    """

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index=-100, reduction="mean",
                label_smoothing=0.0):
        xp = ctx.xp
        logits = _class_rows(xp, x)                            # (M, C)
        num_classes = logits.shape[1]
        safe, kept, row_weight = _target_weights(xp, target, weight, ignore_index, x.dtype)
        logp = _log_softmax(xp, logits, 1)                     # (M, C)
        rows = xp.arange(logits.shape[0])
        loss = -row_weight * logp[rows, safe]                  # (M,) the NLL part
        class_weight = None if weight is None else weight.astype(x.dtype)
        if label_smoothing > 0:
            weighted = logp if class_weight is None else logp * class_weight
            smooth = -weighted.sum(axis=1) * kept              # (M,), 0 where ignored
            loss = (1 - label_smoothing) * loss + (label_smoothing / num_classes) * smooth
        ctx.settings = (reduction, label_smoothing, x.shape)
        ctx.save_for_backward(logp, safe, kept, row_weight, class_weight)
        return xp.asarray(_reduce(loss, row_weight, reduction, target.shape))

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        reduction, eps, shape = ctx.settings
        logp, safe, kept, row_weight, class_weight = ctx.saved
        num_rows, num_classes = logp.shape
        p = xp.exp(logp)                                       # (M, C) softmax
        rows = xp.arange(num_rows)
        d = (1 - eps) * row_weight[:, None] * p
        d[rows, safe] -= (1 - eps) * row_weight                # ... * (p - onehot)
        if eps > 0:
            weight_sum = num_classes if class_weight is None else class_weight.sum()
            uniform = 1 if class_weight is None else class_weight[None, :]
            d += (eps / num_classes) * kept[:, None] * (weight_sum * p - uniform)
        d = d * _row_scale(xp, grad, reduction, row_weight)
        return _class_unrows(xp, d.astype(logp.dtype), shape), None, None


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy of logits ``input`` (N, C, ...) against class indices ``target`` (N, ...).

    weight: (C,) per-class rescaling, or None.  Targets equal to ``ignore_index`` add
    nothing.  label_smoothing in [0, 1]: the target distribution is
    (1 - eps) onehot + eps / C.  Returns a scalar, or per-element losses for 'none'.
    """
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    if target.dtype.kind == "f":
        raise TypeError("cross_entropy: class-probability targets are not supported; "
                        "give integer class indices (use .long())")
    _check_targets("cross_entropy", input, target, ignore_index)
    return CrossEntropy.apply(input, target, _raw(weight), ignore_index=ignore_index,
                              reduction=reduction, label_smoothing=label_smoothing)


class NLLLoss(Function):
    """loss_i = -w[t_i] input_i[t_i] for log-probabilities ``input``; 0 where ignored."""

    @staticmethod
    def forward(ctx, logp, target, weight, ignore_index=-100, reduction="mean"):
        xp = ctx.xp
        rows_logp = _class_rows(xp, logp)                      # (M, C)
        safe, _, row_weight = _target_weights(xp, target, weight, ignore_index, logp.dtype)
        rows = xp.arange(rows_logp.shape[0])
        ctx.settings = (reduction, logp.shape, rows_logp.shape)
        ctx.save_for_backward(safe, row_weight)
        return xp.asarray(_reduce(-row_weight * rows_logp[rows, safe], row_weight,
                                  reduction, target.shape))

    @staticmethod
    def backward(ctx, grad):                                   # only the picked entries move
        xp = ctx.xp
        reduction, shape, rows_shape = ctx.settings
        safe, row_weight = ctx.saved
        d = xp.zeros(rows_shape, dtype=row_weight.dtype)
        scale = _row_scale(xp, grad, reduction, row_weight).reshape(-1)
        d[xp.arange(rows_shape[0]), safe] = -row_weight * scale
        return _class_unrows(xp, d, shape), None, None


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities ``input`` (N, C, ...) at ``target``."""
    _check_reduction("nll_loss", reduction)
    _check_targets("nll_loss", input, target, ignore_index)
    return NLLLoss.apply(input, target, _raw(weight), ignore_index=ignore_index,
                         reduction=reduction)


class MSELoss(Function):
    """loss = (a - b)^2 elementwise; d/da = 2 (a - b) = -d/db."""

    @staticmethod
    def forward(ctx, a, b, reduction="mean"):
        diff = a - b
        ctx.reduction, ctx.size = reduction, diff.size
        ctx.save_for_backward(diff)
        sq = diff * diff
        return ctx.xp.asarray(sq if reduction == "none" else
                              sq.sum() if reduction == "sum" else sq.mean())

    @staticmethod
    def backward(ctx, grad):
        (diff,) = ctx.saved
        scale = grad / ctx.size if ctx.reduction == "mean" else grad
        grad_a = 2 * diff * scale
        return grad_a, -grad_a


def mse_loss(input, target, reduction="mean"):
    """Mean (or summed, or per-element) squared error; both inputs may require grad."""
    _check_reduction("mse_loss", reduction)
    if input.shape != target.shape:
        raise ValueError(f"mse_loss: input {input.shape} and target {target.shape} must "
                         "have the same shape")
    return MSELoss.apply(input, target, reduction=reduction)


def _softplus(xp, z):
    """log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)): no overflow for large |z|."""
    return xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))


class BCEWithLogits(Function):
    """loss = -w [pw t log s(x) + (1 - t) log(1 - s(x))], s the sigmoid, pw = pos_weight.

    With log s(x) = -softplus(-x) and log(1 - s(x)) = -x - softplus(-x):
        loss = w [(1 - t) x + (1 + (pw - 1) t) softplus(-x)]
        dloss/dx = w [(1 - t) - (1 + (pw - 1) t) s(-x)]     (= w (s(x) - t) when pw = 1)
        dloss/dt = w [-x + (pw - 1) softplus(-x)]
    """

    @staticmethod
    def forward(ctx, x, t, weight, pos_weight, reduction="mean"):
        xp = ctx.xp
        sp = _softplus(xp, -x)
        coef = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        loss = (1 - t) * x + coef * sp
        if weight is not None:
            loss = loss * weight
        ctx.reduction, ctx.size = reduction, loss.size
        ctx.save_for_backward(x, t, weight, pos_weight, sp)
        return xp.asarray(loss if reduction == "none" else
                          loss.sum() if reduction == "sum" else loss.mean())

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        x, t, weight, pos_weight, sp = ctx.saved
        scale = grad / ctx.size if ctx.reduction == "mean" else grad
        if weight is not None:
            scale = scale * weight
        sig_neg = 0.5 * (1 + xp.tanh(-0.5 * x))               # s(-x), stable
        coef = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        grad_x = scale * ((1 - t) - coef * sig_neg) if ctx.needs_input_grad[0] else None
        grad_t = None
        if ctx.needs_input_grad[1]:
            dt = -x if pos_weight is None else -x + (pos_weight - 1) * sp
            grad_t = scale * dt
        return grad_x, grad_t, None, None


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable step; target probabilities in [0, 1]."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    if input.shape != target.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: input {input.shape} and "
                         f"target {target.shape} must have the same shape")
    if not isinstance(target, Tensor) or target.dtype.kind != "f":
        raise TypeError("binary_cross_entropy_with_logits: target must be a float tensor "
                        "of probabilities")
    return BCEWithLogits.apply(input, target, _raw(weight, input.dtype),
                               _raw(pos_weight, input.dtype), reduction=reduction)


def _raw(tensor, dtype=None):
    """A weight Tensor as a constant array (losses do not differentiate weights)."""
    if tensor is None:
        return None
    data = tensor.data if isinstance(tensor, Tensor) else backend.as_array(tensor)
    return data if dtype is None else data.astype(dtype)
