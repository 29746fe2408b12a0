"""Gradient clipping: rescale by the global norm, or clamp each value.

Both assign a *new* gradient array to each parameter (``p.grad = ...``), never scale
the old one in place: the engine may hand one gradient array to two leaves, and an
in-place scale would clip it twice.
"""
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _with_grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients by min(1, max_norm / (total_norm + 1e-6)).

    total_norm = ||(||g_1||, ..., ||g_k||)||, the p-norm of all gradients taken as one
    vector (max |g| for norm_type=inf).  Returns total_norm *before* clipping, a 0-d Tensor.
    """
    params = _with_grads(parameters)
    norm_type = float(norm_type)
    if not params:
        return Tensor(0.0)
    xp = params[0].xp
    grads = [p.grad.data for p in params]
    if norm_type == float("inf"):
        norms = [xp.abs(g).max() for g in grads]
        total = xp.max(xp.stack(norms))
    else:
        norms = [(xp.abs(g) ** norm_type).sum() ** (1.0 / norm_type) for g in grads]
        total = (xp.stack(norms) ** norm_type).sum() ** (1.0 / norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} is "
                           f"{float(total)}; pass error_if_nonfinite=False to clip anyway")
    # a 0-d array, not a float: no device-to-host sync on the GPU
    coef = xp.minimum(max_norm / (total + 1e-6), 1.0)
    for p, g in zip(params, grads):
        p.grad = Tensor._from_op((g * coef).astype(g.dtype), None, 0)
    return Tensor._from_op(xp.asarray(total), None, 0)


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element into [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    for p in _with_grads(parameters):
        p.grad = Tensor._from_op(p.xp.clip(p.grad.data, -clip_value, clip_value), None, 0)

