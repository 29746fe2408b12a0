"""Tests of layers/tbptt.py: chunking, detaching, the TBPTT loop and its flat memory.

Expected values: the chunks put back together are the input (and are views, not copies); with
the state carried, the chunked forward equals one forward over the whole sequence (the state's
value crosses chunks); with a learning rate of 0 the TBPTT losses equal the per-chunk losses of
that whole forward; the gradient stops exactly at the chunk boundary; and peak traced memory
does not grow with the stream's length, where full BPTT's grows as T (the bound is derived in
test_tbptt_memory_does_not_grow_with_length).
"""
import tracemalloc

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from layers.recurrent import GRU, LSTM
from layers.tbptt import chunks, detach_state, tbptt_windows, train_tbptt


def test_chunks_are_views_that_tile_the_input():
    x = np.arange(2 * 23 * 3).reshape(2, 23, 3)                 # (N, T, D), batch_first
    pieces = list(chunks(x, 5, dim=1))
    assert [p.shape[1] for p in pieces] == [5, 5, 5, 5, 3]       # the last one shorter
    np.testing.assert_array_equal(np.concatenate(pieces, axis=1), x)
    assert all(np.shares_memory(p, x) for p in pieces)           # basic slicing: no copies
    time_major = list(chunks(x.swapaxes(0, 1), 10))              # (T, N, D), dim=0
    assert [p.shape[0] for p in time_major] == [10, 10, 3]


def test_chunks_of_a_tensor_and_errors():
    x = mg.arange(12).reshape(3, 4)
    assert [p.numpy().tolist() for p in chunks(x, 2, dim=-1)] == \
        [[[0, 1], [4, 5], [8, 9]], [[2, 3], [6, 7], [10, 11]]]
    with pytest.raises(ValueError, match="k .* must be a positive int, got 0"):
        list(chunks(x, 0))
    with pytest.raises(ValueError, match="dim=2 is out of range"):
        list(chunks(x, 2, dim=2))
    with pytest.raises(ValueError, match="differ in length along dim 0"):
        tbptt_windows(x, x[:2], 2)


def test_detach_state_keeps_values_and_structure_drops_graph():
    h = mg.randn(2, 3, requires_grad=True) * 2
    c = mg.randn(2, 3, requires_grad=True) + 1
    state = detach_state((h, [c, None]))
    assert isinstance(state, tuple) and isinstance(state[1], list) and state[1][1] is None
    for before, after in ((h, state[0]), (c, state[1][0])):
        np.testing.assert_array_equal(after.numpy(), before.detach().numpy())
        assert not after.requires_grad and after.grad_fn is None
    assert detach_state(None) is None
    with pytest.raises(TypeError, match="got dict"):
        detach_state({"h": h})


def test_chunked_forward_with_carried_state_equals_full_forward(device, rng):
    lstm = LSTM(3, 5, num_layers=2, device=device, dtype="float64")
    x = mg.tensor(rng.standard_normal((17, 2, 3)), dtype="float64", device=device)
    full, (h_full, c_full) = lstm(x)
    state, outputs = None, []
    for piece in chunks(x, 4):
        out, state = lstm(piece, state)
        outputs.append(out.detach().numpy())
        state = detach_state(state)
    np.testing.assert_allclose(np.concatenate(outputs), full.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(state[0].numpy(), h_full.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(state[1].numpy(), c_full.detach().numpy(), atol=1e-12)


def test_gradient_stops_at_the_chunk_boundary(rng):
    """Loss on the last step only: full BPTT reaches every input step; TBPTT reaches back to
    the start of the last chunk and not one step further (exactly zero before it)."""
    T, k = 30, 8
    lstm = LSTM(2, 4, dtype="float64", forget_bias=1.0)
    x = mg.tensor(rng.standard_normal((T, 1, 2)), dtype="float64", requires_grad=True)
    upstream = mg.tensor(rng.standard_normal((1, 4)), dtype="float64")
    out, _ = lstm(x)
    (out[-1] * upstream).sum().backward()
    full_grad = x.grad.numpy()
    assert np.all(np.abs(full_grad).sum(axis=(1, 2)) > 0)
    x.grad = None
    state = None
    for piece in chunks(x, k):
        out, state = lstm(piece, detach_state(state))
    (out[-1] * upstream).sum().backward()                          # the last chunk's graph only
    grad = x.grad.numpy()
    last_start = (T - 1) // k * k                                   # 24: the last chunk's first step
    assert np.all(grad[:last_start] == 0.0)
    # inside the last chunk the paths from x_s to the loss are the same as in full BPTT (steps
    # s..T-1, same forward values), so the gradients are equal there
    np.testing.assert_allclose(grad[last_start:], full_grad[last_start:], rtol=1e-10, atol=1e-14)
    assert np.all(np.abs(grad[last_start:]).sum(axis=(1, 2)) > 0)


def test_train_tbptt_losses_equal_per_chunk_losses_of_full_forward(rng):
    """With lr = 0 the weights never change, so chunk j's loss is the full forward's loss over
    steps [jk, (j+1)k) (the carried state makes the outputs equal)."""
    T, k = 23, 5
    gru = GRU(3, 4, dtype="float64")
    x = rng.standard_normal((T, 2, 3))
    y = rng.standard_normal((T, 2, 4))
    opt = mg.optim.SGD(gru.parameters(), lr=0.0)
    seen = []
    result = train_tbptt(gru, (x, y), k, F.mse_loss, opt, clip_grad_norm=1.0,
                         callback=lambda i, loss: seen.append(i))
    full, h_n = gru(mg.tensor(x, dtype="float64"))
    full = full.detach().numpy()
    expected = [np.mean((full[s:s + k] - y[s:s + k]) ** 2) for s in range(0, T, k)]
    np.testing.assert_allclose(result.losses, expected, rtol=1e-12)
    assert seen == list(range(5))
    np.testing.assert_allclose(result.state.numpy(), h_n.detach().numpy(), atol=1e-12)
    assert result.state.grad_fn is None


def test_train_tbptt_learns(rng):
    """A trivial target (y_t = 0.5) is learnt from chunk to chunk: the loop does step."""
    lstm = LSTM(2, 3, dtype="float64")
    x = rng.standard_normal((800, 4, 2))
    y = np.full((800, 4, 3), 0.5)
    result = train_tbptt(lstm, (x, y), 20, F.mse_loss, mg.optim.Adam(lstm.parameters(), lr=0.05))
    assert np.mean(result.losses[-3:]) < 0.1 * np.mean(result.losses[:3])


def _peak_traced_bytes(lstm, x, y, k):
    """Peak bytes traced while training over (x, y) in k-step chunks (the data made before)."""
    opt = mg.optim.SGD(lstm.parameters(), lr=1e-3)
    train_tbptt(lstm, (x[:k], y[:k]), k, F.mse_loss, opt)        # warm up: lazy imports, caches
    tracemalloc.start()
    try:
        train_tbptt(lstm, (x, y), k, F.mse_loss, opt)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _peak_full_bptt_bytes(lstm, x, y):
    tracemalloc.start()
    try:
        out, _ = lstm(mg.tensor(x))
        F.mse_loss(out, mg.tensor(y)).backward()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_tbptt_memory_does_not_grow_with_length(rng):
    N, D, H, k = 16, 3, 64, 20
    short, long = 200, 1_000
    lstm = LSTM(D, H)
    x = rng.standard_normal((long, N, D)).astype(np.float32)    # the stream exists beforehand:
    y = rng.standard_normal((long, N, H)).astype(np.float32)    # only training memory is traced
    peak_short = _peak_traced_bytes(lstm, x[:short], y[:short], k)
    peak_long = _peak_traced_bytes(lstm, x, y, k)
    # Full BPTT keeps, per step, at least the gates (N, 4H), h, c and tanh(c) (N, H) each of
    # float32 (what RecurrentSequence saves for the backward): 7 N H * 4 bytes = 28,672 bytes
    # here, so >= 29 MB at 1,000 steps, five times its need at 200 steps.
    full_lower_bound_long = long * 7 * N * H * 4
    assert peak_long < 1.5 * peak_short, (peak_short, peak_long)
    assert peak_long < 0.2 * full_lower_bound_long, (peak_long, full_lower_bound_long)
    # and full BPTT really does pay that: already at 200 steps it is above the bound for
    # 200 steps and well above the TBPTT peak at five times the length
    peak_full_short = _peak_full_bptt_bytes(lstm, x[:short], y[:short])
    assert peak_full_short > short * 7 * N * H * 4
    assert peak_full_short > 3 * peak_long, (peak_full_short, peak_long)
