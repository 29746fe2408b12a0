"""Memory-efficient attention: softmax(Q K^T * scale + mask) V without the T x S weights.

Plain attention builds the (T, S) weight matrix: 1 GiB of float32 at T = S = 16,384, per head.
Here keys and values are read in blocks and the softmax is computed *online*
(Rabe & Staats 2021, "Self-attention does not need O(n^2) memory"; Dao et al. 2022-23,
FlashAttention 1 and 2), and queries are blocked too, so the scratch is a few
(block x block) score tiles per thread plus O(T * hd) for the output and the gradients; the
weights are never stored.

The online softmax, for one query row with scores s_1..s_S split into blocks.  Keep a running
max m, a running sum l = sum_j exp(s_j - m) and a running accumulator acc = sum_j exp(s_j - m) v_j.
A new block with scores s_b (and values V_b) gives

    m_new = max(m, max(s_b))
    alpha = exp(m - m_new)                        # rescales what was summed against the old max
    l_new = alpha * l + sum(exp(s_b - m_new))
    acc_new = alpha * acc + exp(s_b - m_new) @ V_b

which is exact: every term ends up as exp(s_j - m_final), the same as one softmax over all keys.
At the end out = acc / l and the log-sum-exp lse = m + log(l) is all backward needs to
rebuild each weight tile as P = exp(S - lse).

Backward (FlashAttention-2): with D = rowsum(dO * O) (N, nh, T), for every tile
P = exp(S - lse), dV += P^T dO, dP = dO V^T, dS = P * (dP - D), dQ += dS K * scale,
dK += dS^T Q * scale.  dS is the softmax Jacobian of plain attention's backward
(layers/attention.py: ds = p * (dp - sum_j dp_j p_j)), with its row sum computed ahead,
once, by the rowsum trick:

    D_i = sum_j P_ij dP_ij = sum_j P_ij (dO_i . v_j) = dO_i . (sum_j P_ij v_j) = dO_i . O_i

a (T, hd) product instead of a pass over all (T, S) tiles, so each tile is visited once.
It walks key blocks in the outer loop (``key_block_backward``), so each key block's dK and
dV are summed in one place and written once.

On the CPU the blocks are shared by threads, one per core up to 8 (``workers``,
layers/cpu_threads.py): query blocks in the forward, key blocks in the backward, each thread
with its own scratch tiles and its own share of dQ, added up at the end.  NumPy's elementwise
kernels (the exp above all) run on one core, so one thread would leave the others idle
between products.

Block skipping: with ``is_causal`` tiles wholly above the diagonal are never computed (half
the work); with ``window`` tiles wholly outside the band are skipped, so the cost is
O(T * window).  Masks use the dtype's most negative finite value, never -inf.

Fully masked rows (every key masked out by ``attn_mask``, causal or window): the output row
is 0 and no gradient flows from it, as torch 2.x's ``F.scaled_dot_product_attention`` returns
for a bool or -inf mask ("attend to nothing"); layers/attention.py does the same.  S = 0 (no
keys) gives zeros, T = 0 an empty output, also as torch.  A float mask entry at or below half
the most negative value counts as masked (torch would average v over a row of finfo.min).
"""
import math
from typing import NamedTuple

from minigrad import Tensor, Function, backend
from .cpu_threads import run_blocks

__all__ = ["memory_efficient_attention", "efficient_attention_forward",
           "efficient_attention_backward", "key_block_backward", "MemoryEfficientAttention",
           "sliding_window_mask"]

# 512: with two workers at T = 16,384 it beat 256 by ~3% and 1024 by ~15% (a 1 MiB score
# tile: big enough products, few Python steps).  Re-tune on your machine with
# `python benchmarks/attention.py --tune T`.
DEFAULT_BLOCK_SIZE = 512


class EfficientAttentionCache(NamedTuple):
    q: object            # (N, nh, T, hd)
    k: object            # (N, nh, S, hd)
    v: object            # (N, nh, S, hd)
    mask: object         # None, or bool/additive, 4 dims broadcastable to (N, nh, T, S)
    out: object          # (N, nh, T, hd)
    lse: object          # (N, nh, T) log-sum-exp of each score row (+inf for empty rows)
    scale: float
    is_causal: bool
    window: object       # None or int
    block_size: int


# ----------------------------------------------------------------------------- block plan
def key_range(i0, i1, S, is_causal, window):
    """Keys [lo, hi) that queries [i0, i1) may see: causal j <= i, window |i - j| < window
    (i - window < j <= i when causal).  Keys outside are never touched."""
    lo, hi = 0, S
    if is_causal:
        hi = min(S, i1)                       # the last query i1 - 1 sees keys <= i1 - 1
    if window is not None:
        lo = max(0, i0 - window + 1)          # the first query i0 sees keys > i0 - window
        if not is_causal:
            hi = min(S, i1 - 1 + window)      # the last query sees keys < i1 - 1 + window
    return lo, hi


def query_range(j0, j1, T, is_causal, window):
    """Queries [lo, hi) that may see keys [j0, j1) (the mirror of key_range, for backward,
    which walks key blocks); lo == hi when none may."""
    lo, hi = 0, T
    if is_causal:
        lo = min(T, j0)                       # query i sees key j only when i >= j
    if window is not None:
        hi = min(T, j1 - 1 + window)          # the last key j1 - 1 is seen by i < j1 - 1 + window
        if not is_causal:
            lo = max(0, j0 - window + 1)      # and, both ways, by i > j0 - window
    return lo, max(lo, hi)


def tile_blocked(xp, i0, i1, j0, j1, is_causal, window):
    """(i1-i0, j1-j0) bool, True where causality or the window forbids query i key j;
    None when the whole tile is allowed (no masking work at all)."""
    if is_causal and j1 - 1 <= i0 and (window is None or (i1 - 1) - j0 < window):
        return None
    if not is_causal and (window is None or max(i1 - 1 - j0, j1 - 1 - i0) < window):
        return None
    i, j = xp.arange(i0, i1)[:, None], xp.arange(j0, j1)[None, :]   # broadcast, no (bq, bk) ints
    blocked = (j > i) if is_causal else xp.zeros((i1 - i0, j1 - j0), dtype=bool)
    if window is not None:
        blocked |= j <= i - window                         # i - j >= window: too far behind
        if not is_causal:
            blocked |= j >= i + window                     # j - i >= window: too far ahead
    return blocked


def apply_masks(xp, scores, mask, blocked, i0, i1, j0, j1, fill):
    """Mask one score tile (N, nh, bq, bk) in place: bool mask False -> fill, additive mask
    added, causal/window ``blocked`` -> fill."""
    if mask is not None:
        rows = slice(None) if mask.shape[-2] == 1 else slice(i0, i1)   # size-1 dims broadcast
        cols = slice(None) if mask.shape[-1] == 1 else slice(j0, j1)
        tile = mask[..., rows, cols]
        if tile.dtype == bool:
            xp.copyto(scores, fill, where=~tile)
        else:
            scores += tile
    if blocked is not None:
        xp.copyto(scores, fill, where=blocked)


def scratch(buffer, shape):
    """A C-contiguous view of the first prod(shape) elements of a flat buffer (edge tiles)."""
    return buffer[:math.prod(shape)].reshape(shape)


# ----------------------------------------------------------------------------- kernels
def efficient_attention_forward(q, k, v, mask=None, is_causal=False, window=None, scale=None,
                                block_size=DEFAULT_BLOCK_SIZE, workers=None):
    """Blocked attention forward with an online softmax.

    Inputs: q (N, nh, T, hd), k and v (N, nh, S, hd), mask None or 4-dim bool (True = take part)
    or additive float, broadcastable to (N, nh, T, S).  workers: threads sharing the query
    blocks (None: every core, up to 8, on NumPy arrays; see layers/cpu_threads.py).
    Returns out (N, nh, T, hd), cache.
    """
    xp = backend.array_module(q)
    N, nh, T, hd = q.shape
    S = k.shape[2]
    scale = 1.0 / math.sqrt(hd) if scale is None else float(scale)
    fill = xp.finfo(q.dtype).min.item()         # masked score: most negative finite value
    out = xp.empty_like(q)
    lse = xp.empty((N, nh, T), dtype=q.dtype)
    b = block_size

    def attend(query_starts):               # one worker: its query blocks, all their key tiles
        tile_buf = xp.empty(N * nh * min(b, T) * min(b, S), dtype=q.dtype)  # one score tile
        pv_buf = xp.empty(N * nh * min(b, T) * hd, dtype=q.dtype)          # P V of one tile
        for i0 in query_starts:
            i1 = min(T, i0 + b)
            q_blk = q[..., i0:i1, :] * scale                     # (N, nh, bq, hd), scale folded in
            m = xp.full((N, nh, i1 - i0), fill, dtype=q.dtype)   # running max
            l = xp.zeros((N, nh, i1 - i0), dtype=q.dtype)       # running sum of exp(s - m)
            acc = xp.zeros((N, nh, i1 - i0, hd), dtype=q.dtype)  # running sum of exp(s - m) v
            lo, hi = key_range(i0, i1, S, is_causal, window)
            for j0 in range(lo - lo % b, hi, b):                 # tiles aligned to multiples of b
                j1 = min(hi, j0 + b)
                s = scratch(tile_buf, (N, nh, i1 - i0, j1 - j0))
                xp.matmul(q_blk, k[..., j0:j1, :].swapaxes(-1, -2), out=s)   # (N, nh, bq, bk)
                apply_masks(xp, s, mask, tile_blocked(xp, i0, i1, j0, j1, is_causal, window),
                            i0, i1, j0, j1, fill)
                m_new = xp.maximum(m, s.max(axis=-1))            # stays >= fill, never -inf
                alpha = xp.exp(m - m_new)                        # (N, nh, bq)
                s -= m_new[..., None]
                p = xp.exp(s, out=s)                             # (N, nh, bq, bk), in place
                l *= alpha
                l += p.sum(axis=-1)
                acc *= alpha[..., None]
                acc += xp.matmul(p, v[..., j0:j1, :], out=scratch(pv_buf, acc.shape))
                m = m_new
            # A row is empty when every score was masked (the fill, -inf, or an additive mask at
            # or below half the fill, the rule of layers/attention.py): its max stayed that low.
            empty = m <= 0.5 * fill
            xp.divide(acc, xp.where(empty, 1, l)[..., None], out=out[..., i0:i1, :])
            out[..., i0:i1, :] *= ~empty[..., None]              # empty rows: output 0
            # lse = +inf on empty rows makes every P = exp(S - lse) = 0 there in backward.
            lse[..., i0:i1] = xp.where(empty, xp.inf, m + xp.log(xp.where(empty, 1, l)))

    run_blocks(attend, list(range(0, T, b)), workers, xp)
    cache = EfficientAttentionCache(q, k, v, mask, out, lse, scale, is_causal, window, b)
    return out, cache


def efficient_attention_backward(grad_out, cache, workers=None):
    """Blocked attention backward, recomputing each score tile from q, k and lse.

    Inputs: grad_out (N, nh, T, hd), the cache of the forward; workers as in the forward
    (they share the key blocks).
    Returns grad_q (N, nh, T, hd), grad_k (N, nh, S, hd), grad_v (N, nh, S, hd).
    """
    q, k, v, mask, out, lse, scale, is_causal, window, b = cache
    xp = backend.array_module(q)
    S = k.shape[2]
    D = (grad_out * out).sum(axis=-1)       # (N, nh, T): sum_j P_ij dP_ij = dO_i . O_i, per row
    grad_k = xp.empty_like(k)
    grad_v = xp.empty_like(v)

    def through_keys(key_starts):           # one worker: its key blocks; its share of dQ
        grad_q = xp.zeros_like(q)
        for j0 in key_starts:
            key_block_backward(grad_out, cache, D, j0, min(S, j0 + b), grad_q, grad_k, grad_v)
        return grad_q

    shares = run_blocks(through_keys, list(range(0, S, b)), workers, xp)
    grad_q = shares[0]
    for share in shares[1:]:                # in worker order: the same sum on every run
        grad_q += share
    return grad_q, grad_k, grad_v


def key_block_backward(grad_out, cache, D, j0, j1, grad_q, grad_k, grad_v):
    """The gradients through keys [j0, j1): fills grad_k and grad_v there, adds to grad_q.

    Inputs: grad_out (N, nh, T, hd) = dO, the forward's cache, D = rowsum(dO * O) (N, nh, T).
    Every query tile that may see these keys is visited once; the (T, S) weights never exist.
    """
    ### BEGIN SOLUTION hw3.efficient_attention
    ### TODO: for each query tile [i0, i1) that may see keys [j0, j1) (query_range, tiles
    ###       aligned to multiples of the block size), rebuild P = exp(Q K^T * scale + mask - lse)
    ###       (apply_masks, tile_blocked) and accumulate: dV += P^T dO; dS = P * (dO V^T - D);
    ###       dK += dS^T Q * scale; grad_q[i0:i1] += dS K * scale.  Then write dK, dV to
    ###       grad_k[..., j0:j1, :] and grad_v[..., j0:j1, :].
    q, k, v, mask, out, lse, scale, is_causal, window, b = cache
    xp = backend.array_module(q)
    N, nh, T, hd = q.shape
    fill = xp.finfo(q.dtype).min.item()
    k_blk, v_blk = k[..., j0:j1, :], v[..., j0:j1, :]       # (N, nh, bk, hd)
    dk = xp.zeros_like(k_blk)                                # sum over query tiles of dS^T Q
    dv = xp.zeros_like(v_blk)                                # sum over query tiles of P^T dO
    p_buf = xp.empty(N * nh * min(b, T) * (j1 - j0), dtype=q.dtype)   # P of one tile
    ds_buf = xp.empty_like(p_buf)                                      # dP, then dS
    lo, hi = query_range(j0, j1, T, is_causal, window)
    for i0 in range(lo - lo % b, hi, b):
        i1 = min(hi, i0 + b)
        tile = (N, nh, i1 - i0, j1 - j0)
        q_blk = q[..., i0:i1, :] * scale                     # (N, nh, bq, hd)
        do_blk = grad_out[..., i0:i1, :]                     # (N, nh, bq, hd)
        p = xp.matmul(q_blk, k_blk.swapaxes(-1, -2), out=scratch(p_buf, tile))   # scores
        apply_masks(xp, p, mask, tile_blocked(xp, i0, i1, j0, j1, is_causal, window),
                    i0, i1, j0, j1, fill)
        p -= lse[..., i0:i1, None]
        xp.exp(p, out=p)                                     # P = softmax weights of the tile
        dv += p.swapaxes(-1, -2) @ do_blk                    # P^T dO
        ds = xp.matmul(do_blk, v_blk.swapaxes(-1, -2), out=scratch(ds_buf, tile))   # dP
        ds -= D[..., i0:i1, None]
        ds *= p                                              # dS = P * (dP - D)
        grad_q[..., i0:i1, :] += (ds @ k_blk) * scale
        dk += ds.swapaxes(-1, -2) @ q_blk                    # q_blk already carries the scale
    grad_k[..., j0:j1, :] = dk
    grad_v[..., j0:j1, :] = dv
    ### END SOLUTION


class MemoryEfficientAttention(Function):
    """Blocked attention as one graph node: saves out and lse, not the weights."""

    @staticmethod
    def forward(ctx, q, k, v, mask, is_causal=False, window=None, scale=None,
                block_size=DEFAULT_BLOCK_SIZE, workers=None):
        out, cache = efficient_attention_forward(q, k, v, mask, is_causal, window, scale,
                                                 block_size, workers)
        ctx.save_for_backward(cache)
        ctx.workers = workers
        return out

    @staticmethod
    def backward(ctx, grad_out):
        (cache,) = ctx.saved
        grad_q, grad_k, grad_v = efficient_attention_backward(grad_out, cache, ctx.workers)
        return grad_q, grad_k, grad_v, None                 # no gradient for the mask


# ----------------------------------------------------------------------------- public API
def _check(q, k, v, mask, window, block_size, workers):
    op = "memory_efficient_attention"
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise ValueError(f"{op}: expected q (N, nh, T, hd), k and v (N, nh, S, hd), got shapes "
                         f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    if k.shape != v.shape or q.shape[:2] != k.shape[:2] or q.shape[3] != k.shape[3]:
        raise ValueError(f"{op}: shapes q {tuple(q.shape)}, k {tuple(k.shape)}, "
                         f"v {tuple(v.shape)} do not fit; expected q (N, nh, T, hd) and "
                         "k, v both (N, nh, S, hd)")
    if not (q.dtype == k.dtype == v.dtype) or not backend.is_floating(q.dtype):
        raise TypeError(f"{op}: q, k, v must share one floating dtype, got "
                        f"{q.dtype}, {k.dtype}, {v.dtype}")
    if mask is not None:
        if mask.dtype != bool and not backend.is_floating(mask.dtype):
            raise TypeError(f"{op}: attn_mask must be bool (True = the pair TAKES PART, as "
                            f"PyTorch's scaled_dot_product_attention) or floating (added to "
                            f"the scores), got dtype {mask.dtype}; for a 0/1 mask with 1 = "
                            "take part pass mask.bool()")
        target = (q.shape[0], q.shape[1], q.shape[2], k.shape[2])
        shape = tuple(mask.shape)
        if len(shape) > 4 or any(m not in (1, t) for m, t in zip(shape[::-1], target[::-1])):
            raise ValueError(f"{op}: attn_mask of shape {shape} does not broadcast to "
                             f"(N, nh, T, S) = {target}")
    if window is not None and (int(window) != window or window < 1):
        raise ValueError(f"{op}: window must be a positive int, got {window!r}")
    if int(block_size) != block_size or block_size < 1:
        raise ValueError(f"{op}: block_size must be a positive int, got {block_size!r}")
    if workers is not None and (int(workers) != workers or workers < 1):
        raise ValueError(f"{op}: workers must be None (every core, up to 8) or a positive int, "
                         f"got {workers!r}")


def memory_efficient_attention(q, k, v, attn_mask=None, is_causal=False,
                               block_size=DEFAULT_BLOCK_SIZE, scale=None, window=None,
                               workers=None):
    """softmax(q k^T * scale + mask) v in O(T * hd + block^2) memory, differentiable.

    q: (N, nh, T, hd); k, v: (N, nh, S, hd) Tensors.  attn_mask: None, a bool Tensor/array
    (True = take part) or an additive float one, broadcastable to (N, nh, T, S).
    is_causal: query i sees keys j <= i (top-left aligned when S != T).  window: query i sees
    keys with i - window < j <= i (causal) or |i - j| < window.  scale: default 1/sqrt(hd).
    workers: CPU threads sharing the blocks; None uses every core (up to 8: each thread keeps
    its own share of dQ) when the arrays are NumPy's and threadpoolctl is installed
    (layers/cpu_threads.py), else 1.  Any number gives the same values up to float rounding,
    and the same number gives the same bits on every run.
    Returns out (N, nh, T, hd); fully masked rows give 0 and no gradient, as torch's sdpa
    (see the module docstring); S = 0 gives zeros, T = 0 an empty output.
    """
    mask = attn_mask.data if isinstance(attn_mask, Tensor) else attn_mask
    if mask is not None:
        mask = backend.as_array(mask, device=q.device)      # host masks move to q's device
    _check(q, k, v, mask, window, block_size, workers)
    if mask is not None:
        mask = mask.reshape((1,) * (4 - mask.ndim) + tuple(mask.shape))   # 4 dims to slice
        if mask.dtype != bool and mask.dtype != q.dtype:
            mask = mask.astype(q.dtype)                      # additive: work in q's dtype
    return MemoryEfficientAttention.apply(q, k, v, mask, is_causal=bool(is_causal),
                                          window=None if window is None else int(window),
                                          scale=scale, block_size=int(block_size),
                                          workers=None if workers is None else int(workers))


def sliding_window_mask(T, window, causal=True, device=None):
    """(T, T) bool Tensor for plain attention, True = take part: query i sees key j when
    i - window < j <= i (causal) or |i - j| < window.  Same band as ``window=`` above."""
    xp = backend.get_backend(device).xp
    offset = xp.arange(T)[None, :] - xp.arange(T)[:, None]          # j - i, (T, T)
    allowed = (offset <= 0) & (offset > -window) if causal else (xp.abs(offset) < window)
    return Tensor(allowed, device=device)
