"""Induction heads: after a special token, say the token that followed it the first time.

Olsson et al., "In-context Learning and Induction Heads", 2022; as a synthetic task in Fu, Dao et
al., "Hungry Hungry Hippos" (H3), 2023, and in Gu & Dao's Mamba paper, 2023 (section 4.1.2,
Table 2: a vocabulary of 16, trained at length 256, tested at 64 .. 2^20):

    input : random tokens from 0 .. V-2; once, at a random step, the special token V-1 followed
            by the answer token; the last step is the special token again
    target: the answer token, predicted at the last step only

Nothing about the distance matters: a model that has learned "find the previous special token,
copy what came next" solves it at any length. It tests whether that lookup survives sequences
longer than those seen in training. Chance is 1 / (V - 1).
"""

import numpy as np


def special_id(vocab_size):
    """The id of the special (trigger) token: the last one of the vocabulary."""
    return vocab_size - 1


def induction_heads(n, length, vocab_size, rng):
    """Draw ``n`` induction-head sequences.

    Inputs: n (N); length T (>= 3); vocab_size V (>= 3); rng (numpy Generator).
    Returns: inputs (N, T) int64 with the special token at a random step s in [0, T-3] and at
    T-1; answers (N,) int64 = inputs[:, s + 1], drawn from 0 .. V-2.
    """
    if n < 1 or length < 3 or vocab_size < 3:
        raise ValueError(f"induction_heads: need n >= 1, length >= 3 and vocab_size >= 3, got "
                         f"n={n}, length={length}, vocab_size={vocab_size}")
    special = special_id(vocab_size)
    inputs = rng.integers(0, special, size=(n, length)).astype(np.int64)    # (N, T), no special
    rows = np.arange(n)
    start = rng.integers(0, length - 2, size=n)                              # (N,) in [0, T-3]
    inputs[rows, start] = special
    answers = inputs[rows, start + 1].copy()                                  # (N,)
    inputs[:, -1] = special
    return inputs, answers
