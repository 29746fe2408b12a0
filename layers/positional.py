"""Position information for attention, which by itself ignores order.

* ``sinusoidal_table(T, E)`` and ``PositionalEncoding``: the fixed encoding of "Attention Is
  All You Need" (section 3.5),
      PE[pos, 2i]     = sin(pos / 10000^(2i / E))
      PE[pos, 2i + 1] = cos(pos / 10000^(2i / E)),
  added to the (scaled) token embeddings, then dropout.
* ``LearnedPositionalEmbedding``: a learned (max_len, E) table, as GPT-2.
* ``apply_rotary`` / ``RotaryEmbedding``: rotary position embedding (RoPE, Su et al. 2021).
  Each pair (x[2i], x[2i+1]) of a query or key is rotated by the angle pos * theta_i,
  theta_i = base^(-2i / hd).  A rotation keeps lengths and R(a)^T R(b) = R(b - a), so
  q_m . k_n after RoPE depends on m - n only: attention sees relative positions.
* ``alibi_slopes`` / ``alibi_bias``: ALiBi (Press et al. 2021, "Train Short, Test Long"). No
  position vector at all: each head h adds -m_h |i - j| to the score of query i and key j,
  a linear penalty on distance with a per-head slope m_h = 2^(-8 (h+1) / nh) (a geometric
  sequence, so heads look at different ranges).  It extrapolates to lengths beyond training
  because the bias for a longer distance is just the same line continued.
* NoPE (Kazemnejad et al. 2023): no positional information at all; a causal mask alone
  lets a decoder infer positions (``positional="none"`` in TransformerLM).
"""
import math

import minigrad
from minigrad import backend
from minigrad.function import Function
from minigrad.nn import Module, Parameter, init
from minigrad.tensor import Tensor

from .dropout import Dropout

__all__ = ["sinusoidal_table", "PositionalEncoding", "LearnedPositionalEmbedding",
           "rotary_angles", "apply_rotary", "RotaryEmbedding", "alibi_slopes", "alibi_bias",
           "with_alibi", "ATTENTION_POSITIONS"]

# what MultiheadAttention applies itself; None and "none" (NoPE) add nothing
ATTENTION_POSITIONS = (None, "none", "rope", "alibi")


def sinusoidal_table(T, E, dtype=None, device=None, base=10000.0):
    """The (T, E) table PE[pos, 2i] = sin(pos / base^(2i/E)), PE[pos, 2i+1] = cos(same).

    Returned as a Tensor (no gradient), e.g. to plot it: ``sinusoidal_table(100, 64).numpy()``.
    """
    xp = backend.get_backend(device).xp
    dtype = backend.float32 if dtype is None else backend.dtype_of(dtype)
    position = xp.arange(T, dtype=backend.float64)[:, None]                 # (T, 1)
    # 1 / base^(2i/E) = exp(-2i ln(base) / E), for i = 0 .. ceil(E/2) - 1
    inv_freq = xp.exp(xp.arange(0, E, 2, dtype=backend.float64) * (-math.log(base) / E))
    angles = position * inv_freq                                            # (T, ceil(E/2))
    table = xp.zeros((T, E), dtype=backend.float64)
    table[:, 0::2] = xp.sin(angles)
    table[:, 1::2] = xp.cos(angles[:, :E // 2])                             # odd E: one less
    return Tensor(table.astype(dtype), device=device)


def _check_positions(op, x, T, offset, max_len):
    if offset < 0 or offset + T > max_len:
        raise ValueError(f"{op}: positions {offset}..{offset + T - 1} of an input of shape "
                         f"{x.shape} exceed max_len {max_len}; build it with a larger max_len")


class PositionalEncoding(Module):
    """x + PE[offset : offset + T], then dropout.  x (N, T, E) if batch_first else (T, N, E).

    ``offset`` is the position of the first step (for decoding with a KV cache).  The table
    is a non-persistent buffer ``pe`` (max_len, E): it is recomputed, not saved.
    """

    def __init__(self, d_model, dropout=0.1, max_len=5000, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.dropout = Dropout(dropout)
        self.register_buffer("pe", sinusoidal_table(max_len, d_model, dtype, device),
                             persistent=False)

    def forward(self, x, offset=0):
        T = x.shape[1] if self.batch_first else x.shape[0]
        _check_positions("PositionalEncoding", x, T, offset, self.max_len)
        pe = self.pe[offset:offset + T]                                     # (T, E)
        if not self.batch_first:
            pe = pe.reshape(T, 1, self.d_model)                             # (T, 1, E)
        return self.dropout(x + pe.to(dtype=x.dtype))

    def extra_repr(self):
        return f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"


class LearnedPositionalEmbedding(Module):
    """x + weight[offset : offset + T], a learned table ``weight`` (max_len, E), N(0, 0.02) init."""

    def __init__(self, max_len, embedding_dim, batch_first=True, device=None, dtype=None):
        super().__init__()
        self.max_len, self.embedding_dim, self.batch_first = max_len, embedding_dim, batch_first
        self.weight = Parameter(minigrad.empty(max_len, embedding_dim, dtype=dtype,
                                               device=device))
        init.normal_(self.weight, 0.0, 0.02)

    def forward(self, x, offset=0):
        T = x.shape[1] if self.batch_first else x.shape[0]
        _check_positions("LearnedPositionalEmbedding", x, T, offset, self.max_len)
        table = self.weight[offset:offset + T]                              # (T, E)
        if not self.batch_first:
            table = table.reshape(T, 1, self.embedding_dim)
        return x + table


# ---------------------------------------------------------------- rotary
def rotary_angles(positions, head_dim, base=10000.0, dtype=None, device=None):
    """cos and sin of pos * theta_i, theta_i = base^(-2i/hd): arrays (*positions.shape, hd/2)."""
    if head_dim % 2:
        raise ValueError(f"rotary: the head size must be even to pair its features, got "
                         f"{head_dim}")
    if isinstance(positions, Tensor):
        positions = positions.data
    if device is None and backend.is_array(positions):
        device = backend.device_of(positions)
    # onto ``device`` when given: host positions with a device x (apply_rotary) must not
    # leave cos/sin as NumPy arrays to be mixed with x's arrays
    positions = backend.as_array(positions, dtype=backend.float64, device=device)
    xp = backend.array_module(positions)
    inv_freq = xp.exp(xp.arange(0, head_dim, 2, dtype=backend.float64)
                      * (-math.log(base) / head_dim))                        # (hd/2,)
    angles = positions[..., None] * inv_freq                                # (..., hd/2)
    dtype = backend.float32 if dtype is None else dtype
    return xp.cos(angles).astype(dtype), xp.sin(angles).astype(dtype)


def _rotate(x, cos, sin):
    """Rotate each feature pair (x[2i], x[2i+1]) by the angle whose cos/sin are given."""
    xp = backend.array_module(x)
    even, odd = x[..., 0::2], x[..., 1::2]                                  # (..., hd/2)
    out = xp.empty(x.shape, dtype=x.dtype)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out


class Rotary(Function):
    """y = R(pos * theta) x, pairwise.  A rotation's inverse is its transpose, R(-angle)."""

    @staticmethod
    def forward(ctx, x, cos, sin):          # x (N, nh, T, hd); cos, sin broadcast to (.., T, hd/2)
        ctx.save_for_backward(cos, sin)
        return _rotate(x, cos, sin)

    @staticmethod
    def backward(ctx, grad):
        cos, sin = ctx.saved
        return _rotate(grad, cos, -sin), None, None


def apply_rotary(x, positions, base=10000.0):
    """RoPE on x (N, nh, T, hd) (any (..., T, hd)); positions (T,) or (N, T) ints.

    Returns x with each pair (2i, 2i+1) of its last dim rotated by positions * base^(-2i/hd).
    """
    if x.ndim < 2:
        raise ValueError(f"apply_rotary: expected x (..., T, hd), got shape {x.shape}")
    T, hd = x.shape[-2], x.shape[-1]
    cos, sin = rotary_angles(positions, hd, base, dtype=x.dtype, device=x.device)
    if cos.shape[-2] != T:
        raise ValueError(f"apply_rotary: {cos.shape[-2]} positions for an input of shape "
                         f"{x.shape} (T = {T})")
    if cos.ndim == 3 and x.ndim == 4:                  # (N, T, hd/2) -> (N, 1, T, hd/2)
        cos, sin = cos[:, None], sin[:, None]
    return Rotary.apply(x, cos, sin)


class RotaryEmbedding(Module):
    """RoPE as a module: ``rope(q, offset)`` rotates q (N, nh, T, hd) for positions offset.."""

    def __init__(self, head_dim, base=10000.0):
        super().__init__()
        self.head_dim, self.base = head_dim, base

    def forward(self, x, offset=0):
        xp = x.xp
        return apply_rotary(x, xp.arange(offset, offset + x.shape[-2]), self.base)

    def extra_repr(self):
        return f"head_dim={self.head_dim}, base={self.base}"


# ---------------------------------------------------------------- ALiBi
def alibi_slopes(num_heads):
    """m_h = 2^(-8 (h + 1) / nh) for h = 0..nh-1 (Press et al.: 1/2, 1/4, .. 1/256 for 8 heads).

    For nh not a power of two the paper takes the slopes of the next lower power of two and
    fills in with every other slope of the next higher one; so do we.
    """
    def power_of_two(n):
        return [2.0 ** (-8.0 * (h + 1) / n) for h in range(n)]
    if num_heads & (num_heads - 1) == 0:
        return power_of_two(num_heads)
    lower = 2 ** int(math.floor(math.log2(num_heads)))
    return power_of_two(lower) + power_of_two(2 * lower)[0::2][:num_heads - lower]


def alibi_bias(num_heads, T, S=None, offset=None, dtype=None, device=None, slopes=None):
    """The (nh, T, S) additive ALiBi bias: -m_h |i - j|, with query i at position offset + t.

    offset defaults to S - T: the T queries are the last T of the S positions (self-attention,
    and decoding with a KV cache).  A Tensor, no gradient.
    """
    S = T if S is None else S
    offset = S - T if offset is None else offset
    xp = backend.get_backend(device).xp
    dtype = backend.float32 if dtype is None else backend.dtype_of(dtype)
    slopes = alibi_slopes(num_heads) if slopes is None else slopes
    distance = xp.abs(xp.arange(T)[:, None] + offset - xp.arange(S)[None, :])     # (T, S)
    m = xp.asarray(slopes, dtype=backend.float64)[:, None, None]                  # (nh, 1, 1)
    return Tensor((-m * distance).astype(dtype), device=device)


def with_alibi(mask, num_heads, T, S, offset, dtype, device):
    """An attention mask array (None, bool True = takes part, or float added) with the ALiBi
    bias added: a float array broadcastable to (N, nh, T, S)."""
    from .attention import most_negative
    bias = alibi_bias(num_heads, T, S, offset, dtype, device).data                # (nh, T, S)
    if mask is None:
        return bias
    xp = backend.array_module(bias)
    if mask.dtype == backend.bool_:
        return xp.where(mask, bias, xp.asarray(most_negative(xp, bias.dtype), dtype=bias.dtype))
    return mask + bias
