"""Gradient reach through the *inputs*, the same measurement for all four models.

    reach = input_reach("transformer", T=1000, seed=0)   # ||dL/dx_0|| / ||dL/dx_{T-1}||

A loss on the output at the last position, L = <y_{T-1}, u> with a random u; its gradient
with respect to every input x_s; the reach is the gradient's norm at the first input over
its norm at the last one. 1 means the first position gets as much say in the loss as the
last; 1e-30 means none. Lessons 4 and 5 measure dL/dh_t along a recurrent chain; this
measures what a Transformer has too (it has no chain of h), so the four models can stand in
one row.

Models at initialisation (PyTorch's init for the layers), float64, input size D, width H:
- ``rnn``, ``gru``: the layers as they come.
- ``lstm``: PyTorch's init (forget-gate bias drawn like every bias, f ~ 0.5 at the start);
  ``lstm_forget_bias_1``: the same with forget bias 1 (f ~ 0.73), the common practice;
  ``lstm_chrono``: lesson 7's chrono initialisation for sequences of length T.
- ``transformer``: sinusoidal positions added to the input, one causal pre-norm encoder
  layer (2 heads, feed-forward 2H), as in lesson 7: output t sees inputs 0..t only.
"""

import numpy as np

import minigrad
from layers import (GRU, LSTM, RNN, PositionalEncoding, TransformerEncoderLayer,
                    generate_square_subsequent_mask)
from lessons._long_range import chrono_init_

KINDS = ("rnn", "lstm", "lstm_forget_bias_1", "lstm_chrono", "gru", "transformer")
LABELS = {"rnn": "RNN (tanh)", "lstm": "LSTM, PyTorch's init",
          "lstm_forget_bias_1": "LSTM, forget bias 1", "lstm_chrono": "LSTM, chrono init",
          "gru": "GRU, PyTorch's init", "transformer": "Transformer (1 causal layer)"}


def _model(kind, D, H, max_len):
    if kind == "rnn":
        return RNN(D, H, dtype="float64")
    if kind == "lstm":
        return LSTM(D, H, dtype="float64")
    if kind == "lstm_forget_bias_1":
        return LSTM(D, H, dtype="float64", forget_bias=1.0)
    if kind == "lstm_chrono":
        layer = LSTM(D, H, dtype="float64")
        chrono_init_(layer, "lstm", max_len, np.random.default_rng(0))
        return layer
    if kind == "gru":
        return GRU(D, H, dtype="float64")
    if kind == "transformer":
        position = PositionalEncoding(H, dropout=0.0, max_len=max_len, dtype="float64")
        layer = TransformerEncoderLayer(H, nhead=2, dim_feedforward=2 * H, dropout=0.0,
                                        norm_first=True, dtype="float64")
        return position, layer
    raise ValueError(f"input_reach: kind must be one of {KINDS}, got {kind!r}")


def input_reach(kind, T, seed=0, N=4, H=32):
    """||dL/dx_0|| / ||dL/dx_{T-1}|| for a loss on the last output; norms over batch and
    features. Inputs: kind (one of KINDS), T (length), seed, N (batch), H (width; the input
    has D = H features so the Transformer needs no embedding)."""
    minigrad.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = _model(kind, H, H, T)
    x = minigrad.tensor(rng.standard_normal((T, N, H)), dtype="float64", requires_grad=True)
    u = minigrad.tensor(rng.standard_normal((N, H)), dtype="float64")
    if kind == "transformer":
        position, layer = model
        causal = generate_square_subsequent_mask(T, dtype="float64")      # (T, T)
        y = layer(position(x), src_mask=causal, is_causal=True)           # (T, N, H)
    else:
        y = model(x)[0]                                                   # (T, N, H)
    (y[-1] * u).sum().backward()
    norms = np.linalg.norm(x.grad.numpy().reshape(T, -1), axis=1)       # (T,) per position
    return float(norms[0] / norms[-1])


def reach_table(lengths, seed=0):
    """{kind: {T: reach}} for every kind and length."""
    return {kind: {T: input_reach(kind, T, seed) for T in lengths} for kind in KINDS}
