"""Lesson 8's model: a GRU encoder-decoder with dot-product attention (Luong et al. 2015,
"global" attention), built from minigrad layers.

    model = DateTranslator(V_src, V_tgt, E=24, H=64, A=64, pad=PAD, bos=BOS)
    logits, weights = model(src, tgt_in)            # teacher forcing: all T steps at once
    ids, weights = model.translate(src_ids, steps)  # greedy decoding, in eval mode

- encoder: character embedding, then a bidirectional GRU: states h_s (N, S, 2H);
- decoder: a GRU over the target prefix, starting from tanh(W_b [h_fwd_S; h_bwd_1]); its state
  d_t asks a query q_t = W_q d_t; keys k_s = W_k h_s; values the h_s themselves;
- context c_t = attention(q_t, K, V) (scaled dot product, padding masked out), then
  d~_t = tanh(W_c [d_t; c_t]) and logits W_o d~_t.

numpy is used for the host-side ids of greedy decoding only.
"""

import numpy as np

import minigrad
from minigrad.nn import Module
from layers import GRU, Embedding, Linear, attention


class Encoder(Module):
    """src (N, S) ints -> states (N, S, 2H), initial decoder input (N, 2H)."""

    def __init__(self, V, E, H, pad):
        super().__init__()
        self.embed = Embedding(V, E, padding_idx=pad)
        self.rnn = GRU(E, H, batch_first=True, bidirectional=True)

    def forward(self, src):
        states, h_n = self.rnn(self.embed(src))            # (N, S, 2H), (2, N, H)
        return states, minigrad.cat([h_n[0], h_n[1]], dim=-1)   # last fwd, first bwd: (N, 2H)


class AttentionDecoder(Module):
    """One GRU over the target prefix plus dot-product attention over the encoder states."""

    def __init__(self, V, E, H_enc2, H, A):
        super().__init__()
        self.embed = Embedding(V, E)
        self.bridge = Linear(H_enc2, H)
        self.rnn = GRU(E, H, batch_first=True)
        self.query, self.key = Linear(H, A, bias=False), Linear(H_enc2, A, bias=False)
        self.combine = Linear(H + H_enc2, H)
        self.out = Linear(H, V)

    def start(self, summary):
        """(N, 2H_enc) -> the decoder's first state (1, N, H)."""
        return self.bridge(summary).tanh().unsqueeze(0)

    def forward(self, tgt_in, state, states, keys, allowed):
        """tgt_in (N, T) ints, state (1, N, H), states (N, S, 2H_enc), keys (N, S, A),
        allowed (N, 1, S) bool -> logits (N, T, V), weights (N, T, S), new state."""
        d, state = self.rnn(self.embed(tgt_in), state)     # (N, T, H)
        context, weights = attention(self.query(d), keys, states, attn_mask=allowed)  # (N, T, 2H_enc)
        mixed = self.combine(minigrad.cat([d, context], dim=-1)).tanh()             # (N, T, H)
        return self.out(mixed), weights, state


class DateTranslator(Module):
    """Encoder and attention decoder; ``pad`` is the source padding id, ``bos`` the target's
    start symbol. The decoder is 2H wide, as the bidirectional encoder's states."""

    def __init__(self, V_src, V_tgt, E, H, A, pad, bos):
        super().__init__()
        self.pad, self.bos = pad, bos
        self.encoder = Encoder(V_src, E, H, pad)
        self.decoder = AttentionDecoder(V_tgt, E, 2 * H, 2 * H, A)

    def encode(self, src):
        states, summary = self.encoder(src)
        allowed = minigrad.tensor(src.numpy() != self.pad).unsqueeze(1)   # (N, 1, S): keys that take part
        return states, self.decoder.key(states), allowed, self.decoder.start(summary)

    def forward(self, src, tgt_in):
        states, keys, allowed, state = self.encode(src)
        return self.decoder(tgt_in, state, states, keys, allowed)[:2]

    def greedy(self, src, steps):
        """Greedy decoding: (N, 1 + steps) ids starting with <bos>, weights (N, steps, S)."""
        states, keys, allowed, state = self.encode(src)
        ids = np.full((src.shape[0], 1), self.bos, dtype=np.int64)
        all_weights = []
        for _ in range(steps):
            logits, weights, state = self.decoder(minigrad.tensor(ids[:, -1:]), state, states,
                                                  keys, allowed)
            ids = np.concatenate([ids, logits.numpy()[:, -1].argmax(-1)[:, None]], axis=1)
            all_weights.append(weights.numpy()[:, 0])
        return ids, np.stack(all_weights, axis=1)

    def translate(self, src_ids, steps):
        """``greedy`` on host ids (N, S), in eval mode and without a graph; back to train mode."""
        self.eval()
        with minigrad.no_grad():
            ids, weights = self.greedy(minigrad.tensor(src_ids), steps)
        self.train()
        return ids, weights
