"""The copy-memory task: read a few symbols, wait ``lag`` steps, then write them back.

Hochreiter & Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8), 1997; in the form of
Arjovsky, Shah & Bengio, "Unitary Evolution Recurrent Neural Networks", ICML 2016 (section 4.1).
With K = n_symbols (10) and C = n_categories (8), a sequence has length lag + 2K:

    input  : s_1 .. s_K | 0 x (lag - 1) | C+1 | 0 x K       symbols s_i drawn from 1..C,
                                                             0 = blank, C+1 = the delimiter "go"
    target : 0 x (lag + K)                  | s_1 .. s_K    the symbols, in the last K steps

so the delimiter sits at step K + lag - 1 and the model must hold the symbols for lag + K steps.
Ids: 0 blank, 1..C symbols, C+1 delimiter, so the vocabulary has V = C + 2 ids.

Memoryless baseline: predict blank wherever the target is blank (it knows where: the length is
fixed) and the uniform distribution over the C symbols in the last K steps. Its mean cross-entropy
per step is K * log(C) / (lag + 2K); with K = 10, C = 8 that is 10 log 8 / (lag + 20).
"""

import math

import numpy as np

BLANK = 0


def delimiter_id(n_categories=8):
    """The id of the "now copy" delimiter: one past the symbols (9 for 8 categories)."""
    return n_categories + 1


def copy_memory(n, lag, rng, n_symbols=10, n_categories=8):
    """Draw ``n`` copy-memory sequences.

    Inputs: n (N), lag (>= 1, steps from the last symbol to the delimiter), rng (numpy Generator),
    n_symbols (K), n_categories (C).
    Returns: inputs (N, lag + 2K) int64, targets (N, lag + 2K) int64.
    """
    if lag < 1:
        raise ValueError(f"copy_memory: lag must be >= 1 (the delimiter takes a step), got {lag}")
    if n < 1 or n_symbols < 1 or n_categories < 1:
        raise ValueError(f"copy_memory: n, n_symbols and n_categories must be >= 1, "
                         f"got n={n}, n_symbols={n_symbols}, n_categories={n_categories}")
    length = lag + 2 * n_symbols
    symbols = rng.integers(1, n_categories + 1, size=(n, n_symbols))    # (N, K) in 1..C
    inputs = np.full((n, length), BLANK, dtype=np.int64)
    inputs[:, :n_symbols] = symbols
    inputs[:, n_symbols + lag - 1] = delimiter_id(n_categories)          # K blanks follow it
    targets = np.full((n, length), BLANK, dtype=np.int64)
    targets[:, -n_symbols:] = symbols
    return inputs, targets


def copy_memory_baseline(lag, n_symbols=10, n_categories=8):
    """Cross-entropy per step (nats) of the memoryless strategy: K log C / (lag + 2K)."""
    return n_symbols * math.log(n_categories) / (lag + 2 * n_symbols)
