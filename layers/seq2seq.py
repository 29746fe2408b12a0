"""An encoder-decoder Transformer with token embeddings, as in "Attention Is All You Need".

    memory = encoder(PE(src_embed(src) * sqrt(E)))
    logits = generator(decoder(PE(tgt_embed(tgt) * sqrt(E)), memory))      (N, T, V_tgt)

``layers.Transformer`` is PyTorch's ``nn.Transformer`` (no embeddings); this model puts the
embeddings, the sinusoidal positional encoding and the output projection around it.  Tokens
are (N, S) / (N, T) integer tensors (batch first).  ``encode`` and ``decode`` are exposed
separately so that greedy / beam decoding can run the encoder once.
"""
import math

from minigrad.nn import Module, init

from .embedding import Embedding
from .linear import Linear
from .positional import PositionalEncoding
from .transformer import Transformer

__all__ = ["Seq2SeqTransformer"]


class Seq2SeqTransformer(Module):
    """Token ids in, next-token logits out.

    Submodules: src_embed, tgt_embed (Embedding V x E), positional_encoding,
    transformer (a ``layers.Transformer``, batch_first), generator (Linear E -> V_tgt).
    forward(src (N, S), tgt (N, T), src_key_padding_mask (N, S) bool True = padding,
    tgt_key_padding_mask (N, T)) -> logits (N, T, V_tgt); the decoder self-attention is
    causal (position t sees tgt[:, :t+1]).
    """

    def __init__(self, src_vocab_size, tgt_vocab_size, d_model=512, nhead=8,
                 num_encoder_layers=3, num_decoder_layers=3, dim_feedforward=2048,
                 dropout=0.1, activation="relu", max_len=5000, norm_first=False,
                 padding_idx=None, device=None, dtype=None):
        super().__init__()
        factory = dict(device=device, dtype=dtype)
        self.d_model = d_model
        self.src_embed = Embedding(src_vocab_size, d_model, padding_idx=padding_idx, **factory)
        self.tgt_embed = Embedding(tgt_vocab_size, d_model, padding_idx=padding_idx, **factory)
        self.positional_encoding = PositionalEncoding(d_model, dropout, max_len,
                                                      batch_first=True, **factory)
        self.transformer = Transformer(d_model, nhead, num_encoder_layers, num_decoder_layers,
                                       dim_feedforward, dropout, activation, batch_first=True,
                                       norm_first=norm_first, **factory)
        self.generator = Linear(d_model, tgt_vocab_size, **factory)
        # Embeddings from N(0, 1/E), as in the paper's reference code: forward multiplies them
        # by sqrt(E), which brings them to unit scale, the scale of the positional encoding.
        # From N(0, 1) they would come out sqrt(E) times larger and drown the positions.
        for embed in (self.src_embed, self.tgt_embed):
            init.normal_(embed.weight, 0.0, d_model ** -0.5)
            if padding_idx is not None:
                embed.weight.data[padding_idx] = 0

    def _embed(self, embed, tokens, offset=0):
        # the paper scales embeddings by sqrt(E) so they are not drowned by the encoding
        return self.positional_encoding(embed(tokens) * math.sqrt(self.d_model), offset)

    def encode(self, src, src_key_padding_mask=None):
        """src (N, S) ints -> memory (N, S, E)."""
        return self.transformer.encoder(self._embed(self.src_embed, src),
                                        src_key_padding_mask=src_key_padding_mask)

    def decode(self, tgt, memory, memory_key_padding_mask=None, tgt_key_padding_mask=None,
               cache=None):
        """tgt (N, T) ints and memory (N, S, E) -> decoder states (N, T, E), causal.

        cache: a layers.kv_cache.DecoderCache; tgt then holds only the new positions
        (starting at cache.length), and their keys/values are added to it.
        """
        offset = 0 if cache is None else cache.length
        return self.transformer.decoder(self._embed(self.tgt_embed, tgt, offset), memory,
                                        tgt_key_padding_mask=tgt_key_padding_mask,
                                        memory_key_padding_mask=memory_key_padding_mask,
                                        tgt_is_causal=True, cache=cache)

    def forward(self, src, tgt, src_key_padding_mask=None, tgt_key_padding_mask=None):
        memory = self.encode(src, src_key_padding_mask)
        states = self.decode(tgt, memory, src_key_padding_mask, tgt_key_padding_mask)
        return self.generator(states)                       # (N, T, V_tgt)
