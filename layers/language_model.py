"""A decoder-only (GPT-style) Transformer language model.

    x_0    = dropout(embed(tokens) * sqrt(E) + P)                (N, T, E)
    x_l    = block_l(x_{l-1}), causal self-attention + FFN        (N, T, E), l = 1..L
    logits = lm_head(norm(x_L))                                   (N, T, V)

Each block is a ``TransformerEncoderLayer`` run with ``is_causal=True``: position t attends
to positions <= t only, so logits[:, t] is a distribution over token t+1 given tokens[:, :t+1]
and one forward pass trains all T next-token predictions at once (teacher forcing).

Positions P: "sinusoidal" (the fixed table of "Attention Is All You Need") or "learned" (a
(max_len, E) table, as GPT-2), added to the embeddings; or, inside every attention instead,
"rope" (queries and keys rotated by their positions) or "alibi" (a per-head linear penalty on
distance, no P); or "none" (NoPE: no positional information, the causal mask alone).
The embedding starts at N(0, 1/E) and is scaled by sqrt(E) (as the paper), so token and position vectors start at the same unit scale.  With
``tie_weights=True`` (the default, as the paper's section 3.4) the output projection reuses
the embedding matrix: logits = h W_embed^T.

Pre-norm blocks (``norm_first=True``, the default here, as GPT-2) train without a careful
warm-up; ``norm`` is the final LayerNorm that pre-norm stacks need before the head.

Incremental decoding: ``forward(new_tokens, cache=model.new_cache(max_len))`` adds the new
positions' keys and values to the cache and returns their logits only (see kv_cache.py).
"""
import math

from minigrad.nn import Module, ModuleList, init

from .dropout import Dropout
from .embedding import Embedding
from .kv_cache import DecoderCache
from .linear import Linear
from .norm import LayerNorm
from .positional import LearnedPositionalEmbedding, PositionalEncoding
from .transformer import TransformerEncoderLayer

__all__ = ["TransformerLM"]

POSITIONAL = ("sinusoidal", "learned", "rope", "alibi", "none")


class TransformerLM(Module):
    """Tokens (N, T) ints -> next-token logits (N, T, V).

    Submodules (state-dict prefixes): token_embed (Embedding V x E), positional
    (PositionalEncoding or LearnedPositionalEmbedding; None for rope, alibi, none), dropout,
    layers.0 .. layers.{L-1} (TransformerEncoderLayer, batch_first), norm (LayerNorm E), lm_head (Linear E -> V, no
    bias; its weight *is* token_embed.weight when tied).
    """

    def __init__(self, vocab_size, d_model, nhead, num_layers, dim_feedforward, dropout=0.1,
                 max_len=512, norm_first=True, positional="sinusoidal", activation="relu",
                 tie_weights=True, device=None, dtype=None):
        super().__init__()
        if positional not in POSITIONAL:
            raise ValueError(f"TransformerLM: positional must be one of {POSITIONAL}, got "
                             f"{positional!r}")
        factory = dict(device=device, dtype=dtype)
        self.vocab_size, self.d_model, self.max_len = vocab_size, d_model, max_len
        self.token_embed = Embedding(vocab_size, d_model, **factory)
        init.normal_(self.token_embed.weight, 0.0, d_model ** -0.5)   # * sqrt(E) -> unit scale
        if positional == "sinusoidal":
            # dropout 0 inside: this model applies one dropout after the sum for both kinds
            self.positional = PositionalEncoding(d_model, 0.0, max_len, batch_first=True,
                                                 **factory)
        elif positional == "learned":
            self.positional = LearnedPositionalEmbedding(max_len, d_model, batch_first=True,
                                                         **factory)
        else:                                  # rope, alibi: in the attention; none: nowhere
            self.positional = None
        in_attention = positional if positional in ("rope", "alibi") else None
        self.dropout = Dropout(dropout)
        self.layers = ModuleList([
            TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                    batch_first=True, norm_first=norm_first,
                                    positional=in_attention, **factory)
            for _ in range(num_layers)])
        self.norm = LayerNorm(d_model, **factory)
        self.lm_head = Linear(d_model, vocab_size, bias=False, **factory)
        if tie_weights:
            self.lm_head.weight = self.token_embed.weight
        self.positional_kind, self.tie_weights = positional, tie_weights

    def new_cache(self, max_len=None):
        """An empty KV cache for this model: one KVCache per layer, max_len positions."""
        return DecoderCache(len(self.layers), self.max_len if max_len is None else max_len)

    def forward(self, tokens, cache=None, key_padding_mask=None):
        """tokens (N, T) ints -> logits (N, T, V); logits[:, t] scores token t+1.

        cache: a DecoderCache (``new_cache``); tokens are then the new positions only,
        placed after the cache.length positions already in it.
        key_padding_mask: (N, T) bool, True = padding key (with a cache: (N, length+T)).
        """
        if tokens.ndim != 2 or tokens.dtype.kind not in "iu":
            raise ValueError(f"TransformerLM: expected integer tokens (N, T), got shape "
                             f"{tokens.shape} and dtype {tokens.dtype}")
        if cache is not None and len(cache) != len(self.layers):
            raise ValueError(f"TransformerLM: a cache of {len(cache)} layers for a model of "
                             f"{len(self.layers)}; make it with model.new_cache()")
        offset = 0 if cache is None else cache.length
        x = self.token_embed(tokens) * math.sqrt(self.d_model)         # (N, T, E)
        if self.positional is not None:
            x = self.positional(x, offset)
        x = self.dropout(x)
        for i, layer in enumerate(self.layers):
            x = layer(x, src_key_padding_mask=key_padding_mask, is_causal=True,
                      cache=None if cache is None else cache[i])
        return self.lm_head(self.norm(x))                                # (N, T, V)

    def attention_weights(self):
        """The per-head self-attention weights of the last forward, one (N, nh, T, S)
        Tensor per layer (detached; S = T without a cache, the cached length with one)."""
        return [layer.self_attn.last_attn_weights for layer in self.layers]

    def extra_repr(self):
        return (f"vocab_size={self.vocab_size}, d_model={self.d_model}, "
                f"positional={self.positional_kind!r}, tie_weights={self.tie_weights}")
