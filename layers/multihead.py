"""Multi-head attention, as ``torch.nn.MultiheadAttention`` (same parameters, init, masks).

    q, k, v = split_heads(x W_in^T + b_in)            each (N, nh, L, hd), hd = E / nh
    o_h     = attention(q_h, k_h, v_h)                 (N, nh, T, hd), one kernel for all heads
    out     = merge_heads(o) W_out^T + b_out           (N, T, E)

Parameters (PyTorch's names and shapes): ``in_proj_weight`` (3E, E) holding W_q, W_k, W_v
stacked, ``in_proj_bias`` (3E,), ``out_proj.weight`` (E, E), ``out_proj.bias`` (E,).

Masks here follow PyTorch's *MultiheadAttention*, not its SDPA function:
  * ``key_padding_mask`` (N, S): bool True = that key is padding, ignored; float = added;
  * ``attn_mask`` (T, S) or (N*nh, T, S): bool True = that pair is NOT allowed; float = added;
  * ``is_causal=True``: query i sees keys j <= i (applied even without attn_mask).
They are turned into one SDPA-style mask (True = takes part) for layers.attention.

The per-head weights of the last forward stay on the module, detached, for plotting:
``mha.last_attn_weights`` (N, nh, T, S).

``HeadsProjection`` (projection + split into heads) and ``MergeHeadsProjection`` (merge +
output projection) are Functions with hand-written backwards, so the reshapes cost no
extra graph nodes and the projections run as single (N*L, E) GEMMs.
"""
import minigrad
from minigrad import backend
from minigrad.function import Function
from minigrad.nn import Module, Parameter, init
from minigrad.tensor import Tensor

from .attention import attention, most_negative
from .linear import Linear
from .positional import ATTENTION_POSITIONS, apply_rotary, with_alibi

__all__ = ["MultiheadAttention", "HeadsProjection", "MergeHeadsProjection", "mha_mask"]


def _heads_order(batch_first):
    # (N, L, c, nh, hd) or (L, N, c, nh, hd) -> (c, N, nh, L, hd)
    return (2, 0, 3, 1, 4) if batch_first else (2, 1, 3, 0, 4)


def _projection_order(batch_first):
    # the inverse: (c, N, nh, L, hd) -> (N, L, c, nh, hd) or (L, N, c, nh, hd)
    return (1, 3, 0, 2, 4) if batch_first else (3, 1, 0, 2, 4)


class HeadsProjection(Function):
    """x W^T + b split into ``count`` tensors of heads.

    x (N, L, E_in) if batch_first else (L, N, E_in); W (count*E, E_in); b (count*E,) or None.
    Returns ``count`` arrays (N, nh, L, hd), views of one (N*L, count*E) product.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, num_heads=1, count=1, batch_first=False):
        A, B, D = x.shape
        E = weight.shape[0] // count
        y = x.reshape(A * B, D) @ weight.T                 # (A*B, D) @ (D, c*E): one GEMM
        if bias is not None:
            y += bias
        heads = y.reshape(A, B, count, num_heads, E // num_heads)   # E = nh * hd
        heads = heads.transpose(_heads_order(batch_first))          # (c, N, nh, L, hd) view
        ctx.settings = (num_heads, count, batch_first, bias is not None)
        ctx.save_for_backward(x, weight)
        return tuple(heads[i] for i in range(count)) if count > 1 else heads[0]

    @staticmethod
    def backward(ctx, *grads):                             # count grads, each (N, nh, L, hd)
        ### BEGIN SOLUTION hw3.multihead
        ### TODO: undo the head split: gather the count gradients (N, nh, L, hd) into one
        ###       (A*B, count*E) array laid out as the projection output y, then
        ###       grad_x = grad_y W, grad_W = grad_y^T x, grad_b = sum of grad_y over rows.
        x, weight = ctx.saved
        num_heads, count, batch_first, has_bias = ctx.settings
        A, B, D = x.shape
        grad_heads = ctx.xp.stack(grads)                  # (c, N, nh, L, hd)
        grad_y = grad_heads.transpose(_projection_order(batch_first))   # (A, B, c, nh, hd)
        grad_y = grad_y.reshape(A * B, weight.shape[0])   # (A*B, c*E), laid out as y
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = (grad_y @ weight).reshape(A, B, D)   # (A*B, c*E) @ (c*E, D)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_y.T @ x.reshape(A * B, D)  # (c*E, A*B) @ (A*B, D)
        if has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad_y.sum(axis=0)                # (c*E,)
        ### END SOLUTION
        return grad_x, grad_weight, grad_bias


class MergeHeadsProjection(Function):
    """Heads o (N, nh, T, hd) merged to (N, T, E) (or (T, N, E)), then x W^T + b."""

    @staticmethod
    def forward(ctx, heads, weight, bias, batch_first=False):
        N, nh, T, hd = heads.shape
        order = (0, 2, 1, 3) if batch_first else (2, 0, 1, 3)      # -> (N, T, nh, hd) / (T, N, ..)
        merged = heads.transpose(order).reshape(-1, nh * hd)       # (N*T, E): the one copy
        y = merged @ weight.T                                      # (N*T, E) @ (E, E_out)
        if bias is not None:
            y += bias
        ctx.settings = (heads.shape, batch_first, bias is not None)
        ctx.save_for_backward(merged, weight)
        lead = (N, T) if batch_first else (T, N)
        return y.reshape(lead + (weight.shape[0],))

    @staticmethod
    def backward(ctx, grad):                                       # grad (N, T, E_out) or (T, N, ..)
        ### BEGIN SOLUTION hw3.multihead
        ### TODO: grad_W = grad^T merged, grad_b = column sums of grad, and the gradient of
        ###       the heads: grad merged = grad W, reshaped back to (N, nh, T, hd).
        merged, weight = ctx.saved
        (N, nh, T, hd), batch_first, has_bias = ctx.settings
        grad_2d = grad.reshape(-1, weight.shape[0])                # (N*T, E_out)
        grad_heads = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_merged = grad_2d @ weight                         # (N*T, E_out) @ (E_out, E)
            if batch_first:                                        # (N, T, nh, hd) -> (N, nh, T, hd)
                grad_heads = grad_merged.reshape(N, T, nh, hd).transpose(0, 2, 1, 3)
            else:                                                  # (T, N, nh, hd) -> (N, nh, T, hd)
                grad_heads = grad_merged.reshape(T, N, nh, hd).transpose(1, 2, 0, 3)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_2d.T @ merged                       # (E_out, N*T) @ (N*T, E)
        if has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad_2d.sum(axis=0)
        ### END SOLUTION
        return grad_heads, grad_weight, grad_bias


def mha_mask(attn_mask, key_padding_mask, N, num_heads, T, S, dtype):
    """PyTorch MHA masks -> one SDPA-style mask array (bool True = takes part, or float added).

    attn_mask (T, S) or (N*nh, T, S), key_padding_mask (N, S); bool True there = masked out.
    Returns None, a bool array or a float array broadcastable to (N, nh, T, S).
    """
    masks = []
    for name, mask in (("attn_mask", attn_mask), ("key_padding_mask", key_padding_mask)):
        if mask is not None and mask.dtype != backend.bool_ and not backend.is_floating(
                mask.dtype):
            raise TypeError(f"MultiheadAttention: {name} must be bool (True = that position "
                            f"is MASKED OUT, PyTorch MHA's sense) or floating (added to the "
                            f"scores), got dtype {mask.dtype}; for a 0/1 mask with 1 = masked "
                            "pass mask.bool()")
    if attn_mask is not None:
        data = attn_mask.data if isinstance(attn_mask, Tensor) else attn_mask
        if data.ndim == 3:
            if data.shape != (N * num_heads, T, S):
                raise ValueError(f"MultiheadAttention: a 3-D attn_mask must be (N*nh, T, S) "
                                 f"= {(N * num_heads, T, S)}, got {tuple(data.shape)}")
            data = data.reshape(N, num_heads, T, S)
        elif data.shape != (T, S):
            raise ValueError(f"MultiheadAttention: attn_mask must be (T, S) = {(T, S)} or "
                             f"(N*nh, T, S), got {tuple(data.shape)}")
        masks.append(data)
    if key_padding_mask is not None:
        data = key_padding_mask.data if isinstance(key_padding_mask, Tensor) \
            else key_padding_mask
        if tuple(data.shape) != (N, S):
            raise ValueError(f"MultiheadAttention: key_padding_mask must be (N, S) = "
                             f"{(N, S)}, got {tuple(data.shape)}")
        masks.append(data.reshape(N, 1, 1, S))
    if not masks:
        return None
    xp = backend.array_module(masks[0])
    if all(m.dtype == backend.bool_ for m in masks):
        allowed = ~masks[0]
        for m in masks[1:]:
            allowed = allowed & ~m
        return allowed
    # any float mask: add them all; bool True becomes the most negative value (a sum of
    # two such may reach -inf, which layers.attention also reads as masked, never as NaN)
    lowest = most_negative(xp, dtype)
    total = None
    for m in masks:
        if m.dtype == backend.bool_:
            m = xp.where(m, xp.asarray(lowest, dtype=dtype), xp.zeros((), dtype=dtype))
        total = m.astype(dtype) if total is None else total + m.astype(dtype)
    return total


class MultiheadAttention(Module):
    """Multi-head attention with PyTorch's signature, parameters and return values.

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
            average_attn_weights=True, is_causal=False) -> (attn_output, attn_weights or None)
    query (T, N, E) / key, value (S, N, E); (N, T, E) / (N, S, E) with batch_first;
    unbatched (T, E) works too.  attn_weights: (N, T, S) averaged over heads, or
    (N, nh, T, S) with average_attn_weights=False.
    positional (not in PyTorch): None / "none" adds no position; "rope" rotates q and k by
    their positions (layers.positional.apply_rotary); "alibi" adds -m_h |i - j| to the
    scores (alibi_bias).  With a KV cache, positions continue from the cache's length.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, batch_first=False,
                 device=None, dtype=None, positional=None):
        super().__init__()
        if positional not in ATTENTION_POSITIONS:
            raise ValueError(f"MultiheadAttention: positional must be one of "
                             f"{ATTENTION_POSITIONS}, got {positional!r}")
        self.positional = positional          # "rope" / "alibi": applied inside, per head
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} must be divisible "
                             f"by num_heads {num_heads}")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout, self.batch_first = dropout, batch_first
        self.in_proj_weight = Parameter(minigrad.empty(3 * embed_dim, embed_dim, dtype=dtype,
                                                       device=device))
        if bias:
            self.in_proj_bias = Parameter(minigrad.empty(3 * embed_dim, dtype=dtype,
                                                         device=device))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        self.last_attn_weights = None
        self._reset_parameters()

    def _reset_parameters(self):
        # as PyTorch: xavier_uniform_ on the stacked (3E, E) weight, zero biases
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def _project(self, x, rows, count):
        E = self.embed_dim
        weight, bias = self.in_proj_weight, self.in_proj_bias
        if rows != (0, 3):                                 # a slice of the stacked weight
            weight = weight[rows[0] * E:rows[1] * E]
            bias = None if bias is None else bias[rows[0] * E:rows[1] * E]
        return HeadsProjection.apply(x, weight, bias, num_heads=self.num_heads, count=count,
                                     batch_first=self.batch_first)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False, cache=None):
        """``cache``: a layers.kv_cache.KVCache for incremental decoding (self-attention,
        batched): the new keys/values are appended to it and the queries attend over all
        cached positions; a key_padding_mask must then cover all of them (N, S_total)."""
        unbatched = query.ndim == 2
        if unbatched:                                      # (L, E) -> a batch of one
            batch_dim = 0 if self.batch_first else 1
            query, key, value = (t.unsqueeze(batch_dim) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.reshape(1, -1)
        if query.ndim != 3 or query.shape[-1] != self.embed_dim:
            raise ValueError(f"MultiheadAttention: expected query (T, N, E) (or (N, T, E) with "
                             f"batch_first) with E = {self.embed_dim}, got {query.shape}")
        b, l = (0, 1) if self.batch_first else (1, 0)
        layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
        if (key.ndim != 3 or value.ndim != 3 or key.shape[-1] != self.embed_dim
                or value.shape[-1] != self.embed_dim or key.shape[b] != query.shape[b]
                or value.shape[b] != query.shape[b] or key.shape[l] != value.shape[l]):
            raise ValueError(f"MultiheadAttention: query {query.shape}, key {key.shape} and "
                             f"value {value.shape} do not fit: all are {layout} with "
                             f"E = {self.embed_dim} and the same batch size N, and key and "
                             "value have the same length S")
        for name, t in (("query", query), ("key", key), ("value", value)):
            if t.dtype != self.in_proj_weight.dtype:
                raise TypeError(f"MultiheadAttention: expected {name} of dtype "
                                f"{self.in_proj_weight.dtype} (the weights'), got {t.dtype}; "
                                "cast it with .float()/.double() or the layer with "
                                ".to(dtype=...)")
        N, T, S = query.shape[b], query.shape[l], key.shape[l]
        if query is key and key is value:                  # self-attention: one fused GEMM
            q, k, v = self._project(query, (0, 3), 3)
        else:
            q = self._project(query, (0, 1), 1)
            if key is value:
                k, v = self._project(key, (1, 3), 2)
            else:
                k, v = self._project(key, (1, 2), 1), self._project(value, (2, 3), 1)
        offset = 0 if cache is None else cache.length      # position of the first query
        if self.positional == "rope":                      # rotate q, k by their positions
            q = apply_rotary(q, q.xp.arange(offset, offset + T))
            k = apply_rotary(k, k.xp.arange(offset, offset + k.shape[-2]))
        if cache is not None:                              # k, v: all positions so far
            k, v, attn_mask, is_causal = cache.update(k, v, attn_mask, is_causal)
            S = k.shape[-2]
        mask = mha_mask(attn_mask, key_padding_mask, N, self.num_heads, T, S, q.dtype)
        if self.positional == "alibi":                     # + (-m_h |i - j|), (nh, T, S)
            mask = with_alibi(mask, self.num_heads, T, S, offset, q.dtype, q.device)
        if mask is not None:
            mask = Tensor(mask, device=q.device)
        dropout_p = self.dropout if self.training else 0.0
        sink = []
        heads, weights = attention(q, k, v, mask, dropout_p, is_causal,
                                   need_weights=need_weights, weights_sink=sink)
        self.last_attn_weights = Tensor(sink[0], device=q.device)   # (N, nh, T, S), no graph
        out = MergeHeadsProjection.apply(heads, self.out_proj.weight, self.out_proj.bias,
                                         batch_first=self.batch_first)
        if need_weights and average_attn_weights:
            weights = weights.mean(dim=1)                  # (N, T, S)
        if unbatched:
            out = out.squeeze(b)
            weights = None if weights is None else weights.squeeze(0)
        return out, weights

    def extra_repr(self):
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}")
