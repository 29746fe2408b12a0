"""Selective copying: remember the few data tokens scattered among noise, then write them in order.

Gu & Dao, "Mamba: Linear-Time Sequence Modeling with Selective State Spaces", 2023, section 3.1
and appendix E.1 (Table 1: length 4,096, a vocabulary of 16, 16 tokens to memorise), in the form
of its data generator (``torch_copying_data`` with ``variable=True``):

    ids    : 0 = noise, 1 .. V-2 = data tokens, V-1 = the "now copy" marker
    input  : M data tokens at random (sorted) positions of the first L steps, noise elsewhere,
             then M markers                                      length T = L + M
    target : the M data tokens, in their order, at the M marker steps

Unlike lesson 7's copy task the data tokens are at random places: a model whose state changes
the same way at every step (a time-invariant recurrence, a fixed convolution) cannot know which
steps to keep. It must *select* by content: keep a data token, skip the noise.
Chance on a recalled token is 1 / (V - 2).
"""

import numpy as np

NOISE = 0


def marker_id(vocab_size):
    """The id of the copy marker: the last one of the vocabulary."""
    return vocab_size - 1


def selective_copy(n, length, n_tokens, vocab_size, rng):
    """Draw ``n`` selective-copying sequences.

    Inputs: n (N); length L (the noisy stretch that holds the data, >= n_tokens); n_tokens (M);
    vocab_size V (>= 3: noise, at least one data token, the marker); rng (numpy Generator).
    Returns: inputs (N, L + M) int64; targets (N, M) int64, the data tokens (1 .. V-2) in order.
    """
    if vocab_size < 3:
        raise ValueError(f"selective_copy: vocab_size must be >= 3 (noise, data, marker), "
                         f"got {vocab_size}")
    if n < 1 or n_tokens < 1 or length < n_tokens:
        raise ValueError(f"selective_copy: need n >= 1, n_tokens >= 1 and length >= n_tokens, "
                         f"got n={n}, n_tokens={n_tokens}, length={length}")
    tokens = rng.integers(1, vocab_size - 1, size=(n, n_tokens))            # (N, M) in 1..V-2
    # M distinct positions per row, in order: the argsort of uniform keys is a random permutation
    positions = np.sort(np.argsort(rng.random((n, length)), axis=1)[:, :n_tokens], axis=1)
    inputs = np.full((n, length + n_tokens), NOISE, dtype=np.int64)
    np.put_along_axis(inputs, positions, tokens, axis=1)
    inputs[:, length:] = marker_id(vocab_size)
    return inputs, tokens.astype(np.int64)
