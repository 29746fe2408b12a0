"""Three ways to solve the linear recurrence h_t = a_t * h_{t-1} + b_t, on raw arrays.

    a, b: (N, T, D)   h0: (N, D)   ->   h: (N, T, D)

Every one of them returns the same h (to float rounding); they differ in how the work is laid
out, which is what the benchmark (benchmarks/linear_recurrence.py) measures.

* ``solve_loop``: T steps, each one vectorised over (N, D).  O(T D) work, T Python steps.

* ``solve_scan``: a parallel prefix scan.  The pairs (a_t, b_t) compose associatively,

      (a1, b1) o (a2, b2) = (a1 a2, a2 b1 + b2)     "apply step 1, then step 2"

  so all T prefixes can be computed in log2(T) vectorised passes.  We use Hillis-Steele
  (1986): pass k combines every position t with position t - 2^k.  Its work is O(T log T)
  against Blelloch's (1990) O(T), but each pass is two whole-array lines on shifted slices,
  where Blelloch needs an up-sweep and a down-sweep over strided subsets.  The work-efficient
  scan this module does offer is ``solve_chunked``, which is what GPU libraries do in
  practice (reduce within blocks, scan the block totals, fix up).

* ``solve_chunked``: split T into chunks of C steps.
    1. inside every chunk at once, from a zero state: the local solution h_local and the
       cumulative decay A_t = a_1 a_2 ... a_t (products over the chunk only);
    2. across chunks, a short recurrence over the chunk states (T / C steps):
       h_start_{c+1} = A_last_c * h_start_c + h_local_last_c;
    3. the closed form inside each chunk: h_t = h_local_t + A_t * h_start.
  C + T/C Python steps instead of T; with C ~ sqrt(T) that is 512 steps at T = 65,536.

Numerics.  Nothing here takes a logarithm, so a_t may have any sign.  Long products of a_t
(the scan's combined a, the chunk's A_t) only ever *multiply* a state: when they underflow to
0 in float32 the true contribution was below float32's resolution anyway.  What is unsafe is
dividing by such a product, as the closed form h_t = P_t * sum_s b_s / P_s over the whole
sequence does (P_s = 0 after a few hundred steps of a = 0.5); in log space that is exp(-L_s)
overflowing.  Keeping products chunk-local and multiplicative avoids both.
"""
from minigrad import backend

__all__ = ["MODES", "check_mode", "solve", "solve_loop", "solve_scan", "solve_chunked"]

MODES = ("loop", "scan", "chunked")


def check_mode(op, mode):
    if mode not in MODES:
        raise ValueError(f"{op}: mode must be one of {MODES}, got {mode!r}")
    return mode


def solve(a, b, h0=None, mode="scan", chunk_size=64, reverse=False):
    """h_t = a_t * h_{t-1} + b_t for t = 0..T-1 (h_{-1} = h0, zeros when None).

    reverse=True runs the recurrence from t = T-1 down to 0 instead:
    h_t = a_t * h_{t+1} + b_t with h_T = h0 (the shape of every backward pass here).
    """
    if reverse:
        h = solve(a[:, ::-1], b[:, ::-1], h0, mode, chunk_size)
        return h[:, ::-1]
    if mode == "loop":
        return solve_loop(a, b, h0)
    if mode == "scan":
        return solve_scan(a, b, h0)
    if mode == "chunked":
        return solve_chunked(a, b, h0, chunk_size)
    raise ValueError(f"solve: mode must be one of {MODES}, got {mode!r}")


def solve_loop(a, b, h0=None):
    """The recurrence as written: one step per t."""
    xp = backend.array_module(b)
    N, T, D = b.shape
    h = xp.empty(b.shape, dtype=b.dtype)
    h_prev = xp.zeros((N, D), dtype=b.dtype) if h0 is None else h0
    for t in range(T):
        h[:, t] = a[:, t] * h_prev + b[:, t]          # h_t = a_t h_{t-1} + b_t
        h_prev = h[:, t]
    return h


def solve_scan(a, b, h0=None):
    """Hillis-Steele inclusive scan over the pairs (a_t, b_t): log2(T) passes.

    After the pass with offset k, (A_t, B_t) composes the steps t-2k+1 .. t (or 0 .. t):
    B_t is h_t computed from a zero state 2k steps back, A_t the product of those a's.
    """
    xp = backend.array_module(b)
    T = b.shape[1]
    A = xp.array(a, dtype=b.dtype)                    # copies: the passes overwrite them
    B = xp.array(b, dtype=b.dtype)
    if h0 is not None:
        B[:, 0] = a[:, 0] * h0 + b[:, 0]              # fold h0 into the first step
    k = 1
    while k < T:
        # (A, B)_{t-k} o (A, B)_t = (A_{t-k} A_t, A_t B_{t-k} + B_t); the right-hand sides
        # are computed whole before the assignment, so reading B[:, :-k] is safe
        B[:, k:] = A[:, k:] * B[:, :-k] + B[:, k:]
        A[:, k:] = A[:, k:] * A[:, :-k]
        k *= 2
    return B


def solve_chunked(a, b, h0=None, chunk_size=64):
    """Chunks of C steps: local solutions in all chunks at once, then chunk to chunk."""
    xp = backend.array_module(b)
    N, T, D = b.shape
    C = max(1, min(int(chunk_size), T))
    nc = -(-T // C)                                   # number of chunks, the last padded
    pad = nc * C - T
    if pad:                                           # a = 1, b = 0 past the end: no effect
        a = xp.concatenate([a, xp.ones((N, pad, D), dtype=b.dtype)], axis=1)
        b = xp.concatenate([b, xp.zeros((N, pad, D), dtype=b.dtype)], axis=1)
    a = a.reshape(N, nc, C, D)
    b = b.reshape(N, nc, C, D)

    # 1. inside each chunk, from zero: h_local_j = a_j h_local_{j-1} + b_j, A_j = A_{j-1} a_j
    h_local = xp.empty(b.shape, dtype=b.dtype)        # (N, nc, C, D)
    decay = xp.empty(b.shape, dtype=b.dtype)          # A: cumulative products within a chunk
    h_local[:, :, 0] = b[:, :, 0]
    decay[:, :, 0] = a[:, :, 0]
    for j in range(1, C):
        h_local[:, :, j] = a[:, :, j] * h_local[:, :, j - 1] + b[:, :, j]
        decay[:, :, j] = a[:, :, j] * decay[:, :, j - 1]

    # 2. across chunks: the state entering chunk c
    h_start = xp.empty((N, nc, D), dtype=b.dtype)
    h_start[:, 0] = 0 if h0 is None else h0
    for c in range(1, nc):
        h_start[:, c] = decay[:, c - 1, -1] * h_start[:, c - 1] + h_local[:, c - 1, -1]

    # 3. closed form inside each chunk: h_t = h_local_t + A_t h_start
    h = h_local + decay * h_start[:, :, None, :]      # (N, nc, C, D)
    return h.reshape(N, nc * C, D)[:, :T]
