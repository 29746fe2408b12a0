"""Multi-query associative recall (MQAR): look up every key's value, many times per sequence.

Arora, Eyuboglu et al., "Zoology: Measuring and Improving Recall in Efficient Language Models",
2023 (section 3; their generator ``multiquery_ar``):

    keys come from the first half of the vocabulary [1, V/2), values from the second [V/2, V)
    input : k_1 v_1 k_2 v_2 ... k_D v_D | the query stretch
    the query stretch (length T - 2D) holds each key once more, at even offsets 2g whose gaps g
    are drawn with p(g) ~ g^(a - 1) (a = 0.01: short gaps are likelier); its other steps are
    random tokens (``random_non_queries``)
    target: at the step of a key's second appearance, its value; no target anywhere else

A model answers a query by finding the earlier copy of the key and reading the token after it.
Attention does this with one lookup at any distance; a model with a fixed state must have stored
all D pairs by the time the queries start, so its state must grow with D.
Chance on a query is 1 / (V/2) (a guess among the values).
"""

import numpy as np

IGNORE = -100          # the target of steps that are not queries (PyTorch's ignore_index)


def associative_recall(n, length, n_pairs, vocab_size, rng, power_a=0.01, random_non_queries=True):
    """Draw ``n`` MQAR sequences.

    Inputs: n (N); length T (even, >= 4 D); n_pairs D; vocab_size V (> T as in Zoology is not
    required here, but V/2 - 1 >= D so keys can be distinct); rng; power_a (the gap law);
    random_non_queries (fill the non-query steps with random tokens, else 0).
    Returns: inputs (N, T) int64; targets (N, T) int64: the value at each query step, IGNORE
    elsewhere.
    """
    key_vocab = vocab_size // 2
    if n < 1 or n_pairs < 1 or length % 2 or length < 4 * n_pairs:
        raise ValueError(f"associative_recall: need n >= 1, n_pairs >= 1 and an even length >= "
                         f"4 * n_pairs, got n={n}, n_pairs={n_pairs}, length={length}")
    if key_vocab - 1 < n_pairs or vocab_size - key_vocab < n_pairs:
        raise ValueError(f"associative_recall: vocab_size {vocab_size} is too small for "
                         f"{n_pairs} distinct keys in [1, V/2) and values in [V/2, V)")
    context = 2 * n_pairs
    # distinct keys and distinct values per row (argsort of uniform keys = a random permutation)
    keys = 1 + np.argsort(rng.random((n, key_vocab - 1)), axis=1)[:, :n_pairs]         # (N, D)
    values = key_vocab + np.argsort(rng.random((n, vocab_size - key_vocab)), axis=1)[:, :n_pairs]
    space = (length - context) // 2                     # query slots: offsets 0, 2, .., 2(space-1)
    p = power_a * np.arange(1, space + 1) ** (power_a - 1)
    p = p / p.sum()
    gaps = np.stack([rng.choice(space, size=n_pairs, replace=False, p=p) for _ in range(n)])
    inputs = np.zeros((n, length), dtype=np.int64)
    inputs[:, 0:context:2], inputs[:, 1:context:2] = keys, values
    query_steps = context + 2 * gaps                    # (N, D) where each key appears again
    np.put_along_axis(inputs, query_steps, keys, axis=1)
    targets = np.full((n, length), IGNORE, dtype=np.int64)
    np.put_along_axis(targets, query_steps, values, axis=1)
    if random_non_queries:
        filler = rng.integers(0, vocab_size, size=(n, length))
        free = np.ones((n, length), dtype=bool)
        free[:, :context] = False
        np.put_along_axis(free, query_steps, False, axis=1)
        inputs[free] = filler[free]
    return inputs, targets
