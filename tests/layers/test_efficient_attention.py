"""Tests of layers/efficient_attention.py: blocked attention with an online softmax.

Expected values come from a plain NumPy attention written here (the (T, S) softmax in one
piece, float64), from central differences (gradcheck), from PyTorch's
scaled_dot_product_attention where installed, and from layers.scaled_dot_product_attention.
"""
import tracemalloc

import numpy as np
import pytest

import minigrad as mg
from layers.efficient_attention import (memory_efficient_attention, sliding_window_mask,
                                        key_range, tile_blocked)

HW = pytest.mark.homework("hw3.efficient_attention")


# ----------------------------------------------------------------------------- reference
def band(T, S, is_causal, window):
    """(T, S) bool, True where query i may see key j (the rules in the module docstring)."""
    i, j = np.arange(T)[:, None], np.arange(S)[None, :]
    allowed = np.ones((T, S), dtype=bool)
    if is_causal:
        allowed &= j <= i
    if window is not None:
        allowed &= (i - j < window) if is_causal else (np.abs(i - j) < window)
    return allowed


def reference(q, k, v, mask=None, is_causal=False, window=None, scale=None):
    """softmax(q k^T * scale + mask) v in one piece; fully masked rows give 0 (as torch)."""
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ k.swapaxes(-1, -2) * scale                          # (N, nh, T, S)
    allowed = np.broadcast_to(band(q.shape[-2], k.shape[-2], is_causal, window), scores.shape)
    if mask is not None and mask.dtype == bool:
        allowed = allowed & mask
    elif mask is not None:
        scores = scores + mask
    scores = np.where(allowed, scores, -np.inf)
    empty = ~np.isfinite(scores).any(axis=-1, keepdims=True)
    scores = np.where(empty, 0.0, scores)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = np.where(empty, 0.0, weights / weights.sum(axis=-1, keepdims=True))
    return weights @ v


def leaves(rng, shapes, dtype=np.float64, device=None):
    return [mg.tensor(rng.standard_normal(s).astype(dtype), device=device, requires_grad=True)
            for s in shapes]


def host(t):
    return t.detach().numpy()


CONFIGS = [  # (T, S, is_causal, window, block_size): block sizes that do and do not divide T
    (6, 6, False, None, 2), (7, 7, False, None, 3), (7, 5, False, None, 4),
    (7, 7, True, None, 3), (8, 8, True, None, 8), (5, 9, True, None, 2),
    (7, 7, True, 3, 2), (9, 9, False, 2, 4), (6, 8, False, 3, 5),
]


# ----------------------------------------------------------------------------- gradients
@HW
@pytest.mark.parametrize("T,S,is_causal,window,block", CONFIGS)
def test_gradcheck_no_mask(rng, T, S, is_causal, window, block):
    q, k, v = leaves(rng, [(1, 2, T, 3), (1, 2, S, 3), (1, 2, S, 3)])
    mg.gradcheck(lambda q, k, v: memory_efficient_attention(
        q, k, v, is_causal=is_causal, window=window, block_size=block), [q, k, v])


@HW
@pytest.mark.parametrize("is_causal,block", [(False, 3), (True, 2), (True, 8)])
def test_gradcheck_bool_mask(rng, is_causal, block):
    """Random key padding per batch element (N, 1, 1, S) and a (T, S) pattern."""
    q, k, v = leaves(rng, [(2, 1, 7, 3)] * 3)
    padding = np.ones((2, 1, 1, 7), dtype=bool)
    padding[1, ..., 5:] = False
    pattern = rng.random((7, 7)) < 0.7
    pattern[np.arange(7), np.arange(7)] = True                    # no row fully masked here
    for mask in (padding, pattern):
        mg.gradcheck(lambda q, k, v: memory_efficient_attention(
            q, k, v, attn_mask=mg.tensor(mask), is_causal=is_causal, block_size=block),
            [q, k, v])


@HW
@pytest.mark.parametrize("is_causal,window", [(False, None), (True, None), (True, 4)])
def test_gradcheck_additive_mask(rng, is_causal, window):
    q, k, v = leaves(rng, [(1, 2, 7, 3)] * 3)
    bias = rng.standard_normal((2, 7, 7))                           # (nh, T, S), broadcast over N
    mg.gradcheck(lambda q, k, v: memory_efficient_attention(
        q, k, v, attn_mask=mg.tensor(bias), is_causal=is_causal, window=window, block_size=3),
        [q, k, v])


@HW
@pytest.mark.parametrize("is_causal", [False, True])
def test_fully_masked_row_is_zero_with_finite_gradients(rng, is_causal):
    """Query 2 sees no key: its output is 0 (as torch) and gradients stay finite; the
    gradient check proves they are right (the output does not depend on anything there)."""
    q, k, v = leaves(rng, [(1, 1, 6, 3), (1, 1, 6, 3), (1, 1, 6, 3)])
    mask = np.ones((6, 6), dtype=bool)
    mask[2] = False
    out = memory_efficient_attention(q, k, v, attn_mask=mg.tensor(mask), is_causal=is_causal,
                                     block_size=4)
    assert np.all(host(out)[0, 0, 2] == 0)
    out.backward(mg.tensor(rng.standard_normal(out.shape)))
    for t in (q, k, v):
        assert np.all(np.isfinite(host(t.grad)))
    assert np.all(host(q.grad)[0, 0, 2] == 0)
    q.grad = k.grad = v.grad = None
    mg.gradcheck(lambda q, k, v: memory_efficient_attention(
        q, k, v, attn_mask=mg.tensor(mask), is_causal=is_causal, block_size=4), [q, k, v])


def test_fully_masked_row_with_minus_inf_and_finfo_min_additive(rng):
    """Additive masks written with -inf (PyTorch's habit) or finfo.min behave as bool ones."""
    q, k, v = leaves(rng, [(1, 1, 5, 4)] * 3, dtype=np.float32)
    for value in (-np.inf, np.finfo(np.float32).min):
        bias = np.zeros((5, 5), dtype=np.float32)
        bias[1] = value
        bias[3, :2] = value
        out = memory_efficient_attention(q, k, v, attn_mask=mg.tensor(bias), block_size=2)
        expected = reference(*(host(t) for t in (q, k, v)), mask=bias != value)
        np.testing.assert_allclose(host(out), expected, atol=1e-5)
        assert np.all(host(out)[0, 0, 1] == 0)


# ----------------------------------------------------------------------------- values
@pytest.mark.parametrize("T,S,is_causal,window,block", CONFIGS + [(37, 37, True, None, 8),
                                                                  (37, 37, True, 9, 8),
                                                                  (30, 41, False, 7, 16)])
def test_matches_plain_reference(rng, T, S, is_causal, window, block):
    q, k, v = (rng.standard_normal(s) for s in [(2, 3, T, 5), (2, 3, S, 5), (2, 3, S, 5)])
    out = memory_efficient_attention(mg.tensor(q), mg.tensor(k), mg.tensor(v),
                                     is_causal=is_causal, window=window, block_size=block)
    np.testing.assert_allclose(host(out), reference(q, k, v, None, is_causal, window),
                               rtol=1e-10, atol=1e-12)


def test_float32_stays_float32_and_scale_is_used(rng):
    q, k, v = leaves(rng, [(1, 2, 9, 4)] * 3, dtype=np.float32)
    out = memory_efficient_attention(q, k, v, scale=0.3, block_size=4)
    assert out.dtype == np.float32
    expected = reference(*(host(t).astype(np.float64) for t in (q, k, v)), scale=0.3)
    np.testing.assert_allclose(host(out), expected, rtol=1e-5, atol=1e-6)
    out.backward(mg.ones(out.shape))
    assert q.grad.dtype == k.grad.dtype == v.grad.dtype == np.float32


def test_outputs_and_gradients_match_torch(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    q, k, v = (rng.standard_normal((2, 2, 23, 8)) for _ in range(3))
    grad = rng.standard_normal((2, 2, 23, 8))
    mask = rng.random((2, 1, 23, 23)) < 0.8
    mask[..., np.arange(23), np.arange(23)] = True
    for attn_mask, is_causal in [(None, True), (mask, False), (np.where(mask, 0.5, -2.0), True)]:
        ours = [mg.tensor(a, requires_grad=True) for a in (q, k, v)]
        out = memory_efficient_attention(*ours, attn_mask=None if attn_mask is None else
                                         mg.tensor(attn_mask), is_causal=is_causal, block_size=5)
        out.backward(mg.tensor(grad))
        theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
        tmask = None if attn_mask is None else torch.tensor(attn_mask)
        if tmask is not None and is_causal:          # torch takes one or the other: combine
            tmask = tmask + torch.zeros(23, 23).masked_fill(~torch.ones(23, 23).tril().bool(),
                                                             float("-inf"))
        expected = F.scaled_dot_product_attention(*theirs, attn_mask=tmask,
                                                  is_causal=is_causal and tmask is None)
        expected.backward(torch.tensor(grad))
        np.testing.assert_allclose(host(out), expected.detach().numpy(), rtol=1e-9, atol=1e-10)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(host(a.grad), b.grad.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("attn_mask,is_causal,window", [
    (None, True, None), (None, False, 5), (None, True, 6), ("bool", False, None),
    ("additive", True, None)])
def test_matches_layers_scaled_dot_product_attention(rng, attn_mask, is_causal, window):
    attention = pytest.importorskip("layers.attention")
    q, k, v = (rng.standard_normal((2, 2, 19, 4)) for _ in range(3))
    grad = rng.standard_normal((2, 2, 19, 4))
    if attn_mask == "bool":
        attn_mask = rng.random((19, 19)) < 0.7
        attn_mask[np.arange(19), np.arange(19)] = True       # plain attention differs on empty rows
    elif attn_mask == "additive":
        attn_mask = rng.standard_normal((2, 1, 19, 19))
    results = []
    for fn in (memory_efficient_attention, attention.scaled_dot_product_attention):
        inputs = [mg.tensor(a, requires_grad=True) for a in (q, k, v)]
        mask = None if attn_mask is None else mg.tensor(attn_mask)
        kwargs = dict(block_size=4) if fn is memory_efficient_attention else {}
        out = fn(*inputs, attn_mask=mask, is_causal=is_causal, window=window, **kwargs)
        out.backward(mg.tensor(grad))
        results.append([host(out)] + [host(t.grad) for t in inputs])
    for ours, plain in zip(*results):
        np.testing.assert_allclose(ours, plain, rtol=1e-9, atol=1e-11)


def test_runs_on_device(device, rng):
    """Every kernel line goes through xp: the guard backend raises on a stray numpy call."""
    q, k, v = (rng.standard_normal((1, 2, 9, 4)) for _ in range(3))
    mask = rng.random((1, 1, 9, 9)) < 0.8
    mask[..., np.arange(9), np.arange(9)] = True
    inputs = [mg.tensor(a, device=device, requires_grad=True) for a in (q, k, v)]
    out = memory_efficient_attention(*inputs, attn_mask=mg.tensor(mask, device=device),
                                     is_causal=True, window=4, block_size=4)
    assert out.device == device
    np.testing.assert_allclose(host(out), reference(q, k, v, mask, True, 4), atol=1e-12)
    out.backward(mg.ones(out.shape, dtype=mg.float64, device=device))
    assert all(np.all(np.isfinite(host(t.grad))) for t in inputs)
    with mg.no_grad():                                   # a host NumPy mask moves to q's device
        again = memory_efficient_attention(*inputs, attn_mask=mask, is_causal=True, window=4,
                                           block_size=4)
    np.testing.assert_array_equal(host(again), host(out))
    assert sliding_window_mask(5, 2, device=device).device == device


# ----------------------------------------------------------------------------- block plan
@pytest.mark.parametrize("is_causal", [False, True])
@pytest.mark.parametrize("window", [None, 1, 3, 8])
def test_block_plan_skips_only_fully_masked_tiles(is_causal, window):
    """key_range + tile_blocked must cover every allowed pair and mark every forbidden one."""
    T, S, b = 13, 11, 4
    allowed = band(T, S, is_causal, window)
    for i0 in range(0, T, b):
        i1 = min(T, i0 + b)
        lo, hi = key_range(i0, i1, S, is_causal, window)
        assert not allowed[i0:i1, :lo].any() and not allowed[i0:i1, hi:].any()
        for j0 in range(lo - lo % b, hi, b):
            j1 = min(hi, j0 + b)
            blocked = tile_blocked(np, i0, i1, j0, j1, is_causal, window)
            expected = ~allowed[i0:i1, j0:j1]
            if blocked is None:
                assert not expected.any()
            else:
                np.testing.assert_array_equal(blocked, expected)


def test_sliding_window_mask_by_hand():
    causal = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]], dtype=bool)
    both = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]], dtype=bool)
    np.testing.assert_array_equal(sliding_window_mask(4, 2).numpy(), causal)
    np.testing.assert_array_equal(sliding_window_mask(4, 2, causal=False).numpy(), both)


def test_sliding_window_mask_matches_window_argument(rng):
    q, k, v = (mg.tensor(rng.standard_normal((1, 1, 10, 3))) for _ in range(3))
    a = memory_efficient_attention(q, k, v, is_causal=True, window=3, block_size=4)
    b = memory_efficient_attention(q, k, v, attn_mask=sliding_window_mask(10, 3), block_size=4)
    np.testing.assert_allclose(host(a), host(b), atol=1e-14)


def test_errors_name_the_op_and_shapes():
    q = mg.zeros((1, 2, 5, 4))
    with pytest.raises(ValueError, match="memory_efficient_attention.*(1, 2, 5, 3)"):
        memory_efficient_attention(q, mg.zeros((1, 2, 5, 3)), mg.zeros((1, 2, 5, 3)))
    with pytest.raises(ValueError, match="attn_mask of shape \\(5, 4\\)"):
        memory_efficient_attention(q, q, q, attn_mask=mg.zeros((5, 4)))
    with pytest.raises(ValueError, match="window must be a positive int"):
        memory_efficient_attention(q, q, q, window=0)
    with pytest.raises(ValueError, match="expected q \\(N, nh, T, hd\\)"):
        memory_efficient_attention(mg.zeros((5, 4)), mg.zeros((5, 4)), mg.zeros((5, 4)))


# ----------------------------------------------------------------------------- memory
def test_peak_memory_far_below_the_weight_matrix(rng):
    """T = 4096, hd = 32, causal: full weights would be T*T*4 = 64 MiB (and backward would
    keep them).  Blocked, the scratch is a few (block x block) tiles plus O(T * hd) for out, lse
    and the three gradients (~2 MiB): NumPy reports its allocations to tracemalloc, so the
    peak over forward + backward must stay under 1/8 of one weight matrix."""
    T, hd = 4096, 32
    q, k, v = leaves(rng, [(1, 1, T, hd)] * 3, dtype=np.float32)
    grad = mg.tensor(rng.standard_normal((1, 1, T, hd)).astype(np.float32))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        out = memory_efficient_attention(q, k, v, is_causal=True)
        out.backward(grad)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert q.grad is not None and np.all(np.isfinite(host(q.grad)))
    assert peak < T * T * 4 / 8, f"peak {peak / 2**20:.1f} MiB"


# ----------------------------------------------------------------------------- threads
@pytest.mark.parametrize("is_causal,window,masked", [(True, None, False), (False, 5, True),
                                                     (True, 6, True)])
def test_any_number_of_workers_gives_the_same_values(rng, is_causal, window, masked):
    """Workers split the query blocks (forward) and key blocks (backward); only the order in
    which dQ's shares are added changes, so values agree to rounding, and a given number
    of workers gives the same bits on every run."""
    q, k, v, grad = (rng.standard_normal((2, 2, 29, 4)) for _ in range(4))
    mask = (rng.random((2, 1, 29, 29)) < 0.8) if masked else None
    runs = {}
    for workers in (1, 2, 3, 3):
        inputs = [mg.tensor(a, requires_grad=True) for a in (q, k, v)]
        out = memory_efficient_attention(*inputs, attn_mask=None if mask is None else
                                         mg.tensor(mask), is_causal=is_causal, window=window,
                                         block_size=4, workers=workers)
        out.backward(mg.tensor(grad))
        result = [host(out)] + [host(t.grad) for t in inputs]
        if workers in runs:
            for a, b in zip(result, runs[workers]):
                np.testing.assert_array_equal(a, b)
        runs[workers] = result
    for workers in (2, 3):
        for a, b in zip(runs[workers], runs[1]):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    expected = reference(q, k, v, mask, is_causal, window)
    np.testing.assert_allclose(runs[3][0], expected, rtol=1e-10, atol=1e-12)


@HW
@pytest.mark.parametrize("is_causal,window", [(True, None), (False, 3)])
def test_gradcheck_with_two_workers(rng, is_causal, window):
    q, k, v = leaves(rng, [(1, 2, 9, 3)] * 3)
    mg.gradcheck(lambda q, k, v: memory_efficient_attention(
        q, k, v, is_causal=is_causal, window=window, block_size=2, workers=2), [q, k, v])


def test_threads_leave_the_blas_thread_count_as_it_was(rng):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [info["num_threads"] for info in threadpoolctl.threadpool_info()]
    q, k, v = leaves(rng, [(1, 1, 16, 4)] * 3, dtype=np.float32)
    memory_efficient_attention(q, k, v, is_causal=True, block_size=4, workers=2).sum().backward()
    assert [info["num_threads"] for info in threadpoolctl.threadpool_info()] == before


def test_workers_must_be_a_positive_int():
    q = mg.zeros((1, 1, 4, 2))
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="workers must be None .* or a positive int"):
            memory_efficient_attention(q, q, q, workers=bad)
