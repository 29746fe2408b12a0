"""Scaled dot-product attention: explicit kernels, one Function, and the functions on top.

    weights = softmax(q k^T * scale + mask)          (..., T, S)
    out     = dropout(weights) v                     (..., T, hd)

Shapes: q (..., T, hd), k (..., S, hd), v (..., S, hdv); "..." is usually (N, nh).

Masks, in ``scaled_dot_product_attention`` / ``attention`` (PyTorch SDPA's semantics):
  * a boolean ``attn_mask``: True = this (query, key) pair TAKES PART, False = masked out;
  * a float ``attn_mask``: added to the scores (0 = keep, a very negative value = masked);
  * ``is_causal=True``: query i sees keys j <= i (top-left aligned, as PyTorch, also for T != S);
  * ``window=w``: query i sees keys j with i - w < j <= i when causal, |i - j| < w otherwise
    (sliding-window / local attention; layers/efficient_attention.py uses the same rule).
All masks broadcast to (..., T, S) and combine (a pair takes part only if every mask lets it).
Masked scores are *set* to the dtype's most negative finite value ``xp.finfo(dtype).min``,
never -inf, so nothing becomes NaN.  A query whose keys are ALL masked attends to nothing:
its weights and its output row are 0 and no gradient flows through it.  That is what torch's
``F.scaled_dot_product_attention`` (2.x) returns for a row masked by a bool mask or by -inf,
and what layers/efficient_attention.py returns; the same holds with S = 0 (no keys at all:
output zeros (..., T, hdv)) and T = 0 (an empty output).  One difference from torch: a float
mask entry at or below half the most negative value counts as masked here, so a row written
with finfo.min is empty too, where torch would average v over it.
Only bool and floating masks are accepted (integer 0/1 masks are refused: their sense is
ambiguous, and adding 1 to a score would give the "masked" key MORE weight).
(MultiheadAttention and the Transformer layers take PyTorch *MHA* masks, where a boolean True
means "masked out"; they convert before calling in here. See layers/multihead.py.)

The kernels ``attention_forward`` / ``attention_backward`` work on raw arrays (CS231n style:
forward returns ``(out, weights, cache)``, backward takes the cache); ``AttentionFunction``
wraps them as one graph node; ``attention_composed`` writes the same equations with minigrad
ops, so its autograd gradients check the hand-written backward.
"""
import math
from typing import NamedTuple, Optional

from minigrad import backend
from minigrad.function import Function
from minigrad import unbroadcast
from minigrad.random import generator
from minigrad.tensor import Tensor
from minigrad import where
import minigrad.nn.functional as F

__all__ = ["scaled_dot_product_attention", "attention", "attention_composed",
           "attention_forward", "attention_backward", "AttentionFunction", "attention_mask",
           "most_negative"]


def most_negative(xp, dtype):
    """The most negative finite value of a float dtype, as a Python float (exact in it)."""
    return xp.finfo(dtype).min.item()


# ---------------------------------------------------------------- masks
def _check_mask_dtype(op, attn_mask):
    """Only bool (True = takes part) and floating (added) masks, as PyTorch's sdpa."""
    if attn_mask.dtype != backend.bool_ and not backend.is_floating(attn_mask.dtype):
        raise TypeError(f"{op}: attn_mask must be bool (True = this query/key pair TAKES "
                        f"PART, as PyTorch's scaled_dot_product_attention) or floating "
                        f"(added to the scores: 0 = keep, -inf = masked), got dtype "
                        f"{attn_mask.dtype}; for a 0/1 mask with 1 = take part pass "
                        "mask.bool() (MultiheadAttention's bool masks mean the opposite: "
                        "True = masked out)")


def attention_mask(xp, T, S, attn_mask=None, is_causal=False, window=None, dtype=None):
    """Fold all masks into ``(allowed, bias)`` for the kernels.

    allowed: bool array broadcastable to (..., T, S), True = the pair takes part, or None.
    bias: float array (dtype) added to the scores, or None (a float mask's finite part).
    A float mask entry at or below half the dtype's most negative value (or -inf) counts as
    masked out, so masks written with -inf (PyTorch's habit) work here too.
    """
    allowed, bias = None, None
    if attn_mask is not None:
        _check_mask_dtype("attention", attn_mask)
        if attn_mask.dtype == backend.bool_:
            allowed = attn_mask
        else:
            mask_dtype = attn_mask.dtype
            allowed = attn_mask > 0.5 * most_negative(xp, mask_dtype)
            bias = xp.where(allowed, attn_mask, xp.zeros((), dtype=mask_dtype))
            if dtype is not None and bias.dtype != dtype:
                bias = bias.astype(dtype)
    if is_causal or window is not None:
        offset = xp.arange(T)[:, None] - xp.arange(S)[None, :]     # (T, S): i - j
        if is_causal:
            local = offset >= 0                                     # j <= i
            if window is not None:
                local &= offset < window                            # i - w < j
        else:
            local = xp.abs(offset) < window                         # |i - j| < w
        allowed = local if allowed is None else allowed & local
    return allowed, bias


# ---------------------------------------------------------------- kernels
class AttentionCache(NamedTuple):
    q_scaled: object          # (..., T, hd), q * scale
    k: object                 # (..., S, hd)
    v: object                 # (..., S, hdv)
    out: object               # (..., T, hdv)
    weights: object           # (..., T, S), softmax before dropout
    allowed: Optional[object]  # bool (..., T, S) broadcastable, or None
    keep: Optional[object]    # dropout mask already scaled by 1/(1-p), or None
    scale: float


def attention_forward(q, k, v, allowed=None, bias=None, scale=None, dropout_p=0.0):
    """out = (softmax(q k^T scale + bias, masked) * keep) v.

    Inputs: q (..., T, hd), k (..., S, hd), v (..., S, hdv); allowed (bool) and bias (float)
    broadcastable to (..., T, S); dropout_p: probability of dropping a weight (keep is the
    inverted-dropout mask, kept entries scaled by 1/(1-p), drawn as F.dropout draws it).
    Returns: out (..., T, hdv), weights (..., T, S) (the softmax before dropout), cache.
    """
    xp = backend.array_module(q)
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    # scale q (T x hd numbers) rather than the scores (T x S): the same product, fewer passes
    q_scaled = q * scale                                 # (..., T, hd), a new array
    scores = q_scaled @ k.swapaxes(-1, -2)               # (..., T, hd) @ (..., hd, S)
    if bias is not None:
        scores = scores + bias                           # may broadcast to a bigger batch
    if allowed is not None:
        # set, not add: a masked score is a constant, so it passes no gradient back
        lowest = xp.full((), most_negative(xp, scores.dtype), dtype=scores.dtype)
        scores = xp.where(allowed, scores, lowest)
    # softmax along S, in place: subtracting the row max keeps every exp() <= 1
    if scores.shape[-1]:                                 # (S = 0: no keys, weights (T, 0))
        scores -= scores.max(axis=-1, keepdims=True)
        xp.exp(scores, out=scores)
        scores *= 1.0 / scores.sum(axis=-1, keepdims=True)   # one division per row
    if allowed is not None:
        # a row with every key masked attends to nothing: weights 0, output 0 (torch's sdpa)
        scores *= allowed.any(axis=-1, keepdims=True)
    weights = scores                                     # (..., T, S), rows sum to 1
    keep = None
    if dropout_p > 0.0:
        keep_p = 1.0 - dropout_p
        draws = generator(backend.device_of(q)).random_sample(weights.shape)
        keep = (draws < keep_p).astype(weights.dtype) * (1.0 / keep_p if keep_p > 0 else 0.0)
    out = (weights if keep is None else weights * keep) @ v   # (..., T, S) @ (..., S, hdv)
    return out, weights, AttentionCache(q_scaled, k, v, out, weights, allowed, keep, scale)


def attention_backward(grad_out, grad_weights, cache):
    """Gradients of attention_forward.

    Inputs: grad_out (..., T, hdv); grad_weights (..., T, S) or None; the cache.
    Returns: grad_q (..., T, hd), grad_k (..., S, hd), grad_v (..., S, hdv), and
    grad_scores (..., T, S), the gradient of the masked scores (= of an additive mask).
    """
    ### BEGIN SOLUTION hw3.attention
    ### TODO: with P = weights, A = P * keep (or P without dropout), out = A v and
    ###       scores s = (scale q) k^T (+ bias, masked; the cache holds q_scaled = scale q):
    ###       compute grad_v = A^T grad_out, grad_P = (grad_out v^T) * keep + grad_weights,
    ###       the softmax backward grad_s = P * (grad_P - rowsum(grad_P * P)) zeroed where not
    ###       allowed, then grad_q = scale grad_s k and grad_k = grad_s^T q_scaled.
    ###       Unbroadcast grad_q, grad_k, grad_v to the input shapes; return grad_s too.
    q_scaled, k, v, out, weights, allowed, keep, scale = cache
    p = weights                                                     # P (..., T, S)
    attended = p if keep is None else p * keep                      # A = dropout(P)
    grad_v = attended.swapaxes(-1, -2) @ grad_out                   # (..., S, T) @ (..., T, hdv)
    dp = grad_out @ v.swapaxes(-1, -2)                              # (..., T, hdv) @ (..., hdv, S)
    if keep is not None:
        dp = dp * keep                                              # through the dropout
    if grad_weights is not None:
        dp = dp + grad_weights                                      # P is also an output
    # softmax backward, row by row: dP_j/ds_k = P_j (delta_jk - P_k), so
    # ds = P * (dP - sum over the row of dP * P)
    ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))            # (..., T, S)
    if allowed is not None:
        ds = ds * allowed                     # a masked score is a constant: no gradient
    grad_s = ds
    # s = (scale q) k^T: dL/dq = scale ds k, dL/dk = ds^T (scale q)
    grad_q = scale * (ds @ k)                                       # (..., T, S) @ (..., S, hd)
    grad_k = ds.swapaxes(-1, -2) @ q_scaled                         # (..., S, T) @ (..., T, hd)
    ### END SOLUTION
    return (unbroadcast(grad_q, q_scaled.shape), unbroadcast(grad_k, k.shape),
            unbroadcast(grad_v, v.shape), grad_s)


class AttentionFunction(Function):
    """One graph node for attention: inputs q, k, v and an optional float mask.

    Outputs ``(out, weights)``, or ``out`` alone with ``need_weights=False`` (then no
    (..., T, S) zero gradient is made for the unused weights).  Settings: is_causal,
    window, scale, dropout_p (dropout on the weights, applied when > 0), and
    weights_sink: a list the raw weights array is appended to (how MultiheadAttention keeps
    ``last_attn_weights`` without asking for their gradient).
    """

    @staticmethod
    def forward(ctx, q, k, v, attn_mask=None, is_causal=False, window=None, scale=None,
                dropout_p=0.0, need_weights=True, weights_sink=None):
        xp = ctx.xp
        T, S = q.shape[-2], k.shape[-2]
        allowed, bias = attention_mask(xp, T, S, attn_mask, is_causal, window, q.dtype)
        out, weights, cache = attention_forward(q, k, v, allowed, bias, scale, dropout_p)
        ctx.save_for_backward(*cache)             # released by the engine after backward
        ctx.mask_shape = None if attn_mask is None else tuple(attn_mask.shape)
        if weights_sink is not None:
            weights_sink.append(weights)           # the raw array, for plotting (no graph)
        return (out, weights) if need_weights else out

    @staticmethod
    def backward(ctx, grad_out, grad_weights=None):
        cache = AttentionCache(*ctx.saved)
        grad_q, grad_k, grad_v, grad_s = attention_backward(grad_out, grad_weights, cache)
        if len(ctx.needs_input_grad) == 3:                 # applied without a mask argument
            return grad_q, grad_k, grad_v
        grad_mask = None
        if ctx.needs_input_grad[3]:
            grad_mask = unbroadcast(grad_s, ctx.mask_shape)  # d(scores + mask)/dmask = 1
        return grad_q, grad_k, grad_v, grad_mask


# ---------------------------------------------------------------- the functions
def _check(op, query, key, value, attn_mask, dropout_p, window):
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ValueError(f"{op}: query, key and value need shapes (..., L, hd), got "
                         f"{query.shape}, {key.shape}, {value.shape}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(f"{op}: query (..., T, hd) {query.shape}, key (..., S, hd) {key.shape} "
                         f"and value (..., S, hdv) {value.shape} do not fit: query and key "
                         "must share hd, key and value must share S")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    if window is not None and (not isinstance(window, int) or window < 1):
        raise ValueError(f"{op}: window must be a positive int, got {window!r}")
    if attn_mask is not None:
        _check_mask_dtype(op, attn_mask)
        if attn_mask.ndim > 0 and attn_mask.shape[-1] not in (1, key.shape[-2]) or (
                attn_mask.ndim > 1 and attn_mask.shape[-2] not in (1, query.shape[-2])):
            raise ValueError(f"{op}: attn_mask of shape {attn_mask.shape} does not broadcast "
                             f"to (..., T, S) = (..., {query.shape[-2]}, {key.shape[-2]})")


def _as_mask(attn_mask, like):
    if attn_mask is None or isinstance(attn_mask, Tensor):
        return attn_mask
    return Tensor(attn_mask, device=like.device)


def attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
              window=None, need_weights=True, weights_sink=None):
    """Scaled dot-product attention returning ``(output, weights)``.

    query (..., T, hd), key (..., S, hd), value (..., S, hdv) -> output (..., T, hdv) and
    weights (..., T, S) (the softmax, before dropout).  Mask rules: see the module docstring
    (boolean True = takes part; float = added; is_causal; window).  ``dropout_p`` is applied
    whenever it is > 0 (as PyTorch's function: pass 0.0 in eval mode).
    """
    attn_mask = _as_mask(attn_mask, query)
    _check("attention", query, key, value, attn_mask, dropout_p, window)
    result = AttentionFunction.apply(query, key, value, attn_mask, is_causal=is_causal,
                                     window=window, scale=scale, dropout_p=dropout_p,
                                     need_weights=need_weights, weights_sink=weights_sink)
    return result if need_weights else (result, None)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, window=None):
    """PyTorch's ``F.scaled_dot_product_attention``: returns the output (..., T, hdv) only.

    Use :func:`attention` for the weights too.  Boolean ``attn_mask``: True = takes part;
    a float one is added to the scores; integer masks are refused.  A query whose keys are
    all masked gets an output row of 0 and no gradient, as torch's sdpa (bool or -inf mask);
    S = 0 gives zeros (..., T, hdv) and T = 0 an empty (..., 0, hdv) output, also as torch.
    """
    return attention(query, key, value, attn_mask, dropout_p, is_causal, scale, window,
                     need_weights=False)[0]


def attention_composed(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                       scale=None, window=None):
    """The same as :func:`attention`, written with minigrad ops (autograd does the backward).

    Exists to check the hand-written backward and as readable reference code.
    """
    attn_mask = _as_mask(attn_mask, query)
    _check("attention_composed", query, key, value, attn_mask, dropout_p, window)
    xp = query.xp
    T, S = query.shape[-2], key.shape[-2]
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    scores = (query @ key.transpose(-2, -1)) * scale                # (..., T, S)
    mask_data = None if attn_mask is None else attn_mask.data
    allowed, _ = attention_mask(xp, T, S, mask_data, is_causal, window, query.dtype)
    if attn_mask is not None and attn_mask.dtype != backend.bool_:
        # keep the mask in the graph (a learned bias gets its gradient); masked entries are
        # replaced below, so their -inf or finfo.min values never reach the softmax
        finite = Tensor(allowed, device=query.device)
        scores = scores + where(finite, attn_mask, 0.0).to(dtype=query.dtype)
    if allowed is not None:
        allowed = Tensor(allowed, device=query.device)
        scores = where(allowed, scores, most_negative(xp, query.dtype))
    weights = F.softmax(scores, dim=-1)
    if allowed is not None:                             # fully masked rows: weights 0
        weights = weights * Tensor(allowed.data.any(axis=-1, keepdims=True),
                                   device=query.device)
    attended = F.dropout(weights, dropout_p) if dropout_p > 0 else weights
    return attended @ value, weights

