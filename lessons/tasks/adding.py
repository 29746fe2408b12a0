"""The adding problem: remember two marked numbers across a long sequence and add them.

Hochreiter & Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8), 1997 (experiment 4),
in the form used by Le, Jaitly & Hinton, "A Simple Way to Initialize Recurrent Networks of
Rectified Linear Units", 2015, and Arjovsky, Shah & Bengio, "Unitary Evolution Recurrent Neural
Networks", ICML 2016:

    x[n, t, 0] ~ U[0, 1]                 the values
    x[n, t, 1] in {0, 1}                 the markers: exactly two 1s per row, one at a position
                                         in the first half [0, T//2), one in the second [T//2, T)
    y[n] = sum_t x[n, t, 0] * x[n, t, 1] the sum of the two marked values

A model that ignores the input and always answers 1 (= E[y]) has mean squared error
Var(u1 + u2) = 2 * (1/12) = 1/6 ~ 0.167: a model must beat that to have learnt anything.
The farther apart the markers (larger T), the longer the model must hold the first value.
"""

import numpy as np

BASELINE_MSE = 1.0 / 6.0   # MSE of always predicting 1: Var(U1 + U2) = 2 * Var(U[0, 1]) = 2/12


def adding_problem(n, T, rng, dtype=np.float32):
    """Draw ``n`` adding-problem sequences of length ``T``.

    Inputs: n (N), T (sequence length, >= 2), rng (numpy Generator), dtype.
    Returns: x (N, T, 2) with channel 0 the values and channel 1 the markers; y (N,) the sums.
    """
    if T < 2:
        raise ValueError(f"adding_problem: T must be >= 2 (one marker per half), got T={T}")
    if n < 1:
        raise ValueError(f"adding_problem: n must be >= 1, got n={n}")
    values = rng.uniform(0.0, 1.0, size=(n, T))                     # (N, T)
    half = T // 2
    first = rng.integers(0, half, size=n)                            # (N,) position in [0, T//2)
    second = rng.integers(half, T, size=n)                           # (N,) position in [T//2, T)
    markers = np.zeros((n, T))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1).astype(dtype)          # (N, T, 2)
    # The target from the cast values, so that y equals the marked sum in the dtype the model sees.
    y = (x[rows, first, 0].astype(np.float64) + x[rows, second, 0]).astype(dtype)   # (N,)
    return x, y
