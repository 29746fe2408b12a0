"""KV cache: incremental decoding gives the logits of recomputing the whole prefix."""
import numpy as np
import pytest

import minigrad
from layers import (DecoderCache, KVCache, MultiheadAttention, Seq2SeqTransformer,
                    TransformerLM)
from layers.kv_cache import cached_causal_mask


def test_cached_causal_mask_by_hand():
    # 2 new queries at positions 2, 3 over 4 keys: query 2 may not see key 3 (True = masked)
    expected = np.array([[False, False, False, True],
                         [False, False, False, False]])
    np.testing.assert_array_equal(cached_causal_mask(np, 2, 4), expected)
    # no past: the usual lower-triangular causal mask
    np.testing.assert_array_equal(cached_causal_mask(np, 3, 3), np.triu(np.ones((3, 3)), 1) > 0)


def test_kv_cache_appends_and_checks(device, rng):
    cache = KVCache(max_len=5)
    k1, v1 = rng.standard_normal((2, 3, 2, 4)), rng.standard_normal((2, 3, 2, 4))
    k2, v2 = rng.standard_normal((2, 3, 1, 4)), rng.standard_normal((2, 3, 1, 4))
    cache.update(minigrad.tensor(k1, device=device), minigrad.tensor(v1, device=device))
    keys, values, mask, causal = cache.update(minigrad.tensor(k2, device=device),
                                              minigrad.tensor(v2, device=device),
                                              is_causal=True)
    assert cache.length == 3 and mask is None and causal is False     # one query sees all
    np.testing.assert_array_equal(keys.numpy(), np.concatenate([k1, k2], axis=2))
    np.testing.assert_array_equal(values.numpy(), np.concatenate([v1, v2], axis=2))
    with pytest.raises(ValueError, match="max_len 5"):
        cache.update(minigrad.tensor(k1[:, :, :1].repeat(3, 2), device=device),
                     minigrad.tensor(v1[:, :, :1].repeat(3, 2), device=device))
    with pytest.raises(ValueError, match="do not fit"):
        cache.update(minigrad.tensor(k2[:1], device=device), minigrad.tensor(v2[:1], device=device))
    with pytest.raises(RuntimeError, match="no_grad"):
        KVCache(4).update(minigrad.tensor(k2, requires_grad=True), minigrad.tensor(v2))


@pytest.mark.parametrize("dtype, tol", [("float64", 1e-12), ("float32", 2e-5)])
def test_mha_with_cache_equals_full_causal_mha(device, rng, dtype, tol):
    mha = MultiheadAttention(8, 2, batch_first=True, dtype=dtype, device=device)
    x = minigrad.tensor(rng.standard_normal((2, 5, 8)), dtype=dtype, device=device)
    with minigrad.no_grad():
        full = mha(x, x, x, is_causal=True)[0].numpy()
        cache = KVCache(5)
        pieces = [mha(x[:, :3], x[:, :3], x[:, :3], is_causal=True, cache=cache)[0]]
        for t in (3, 4):
            step = x[:, t:t + 1]
            pieces.append(mha(step, step, step, is_causal=True, cache=cache)[0])
    np.testing.assert_allclose(np.concatenate([p.numpy() for p in pieces], 1), full,
                               rtol=tol, atol=tol)


def lm_incremental(model, x, first, device=None):
    """Logits of x (N, T): x[:, :first] in one call, then one token per call."""
    cache = model.new_cache()
    pieces = [model(minigrad.tensor(x[:, :first], device=device), cache=cache)]
    for t in range(first, x.shape[1]):
        pieces.append(model(minigrad.tensor(x[:, t:t + 1], device=device), cache=cache))
    return np.concatenate([p.numpy() for p in pieces], axis=1)


@pytest.mark.parametrize("dtype, tol", [("float64", 1e-12), ("float32", 2e-5)])
@pytest.mark.parametrize("positional", ["sinusoidal", "learned"])
def test_lm_cache_equals_full_logits(device, rng, dtype, tol, positional):
    model = TransformerLM(11, 8, 2, 2, 16, dropout=0.0, max_len=12, positional=positional,
                          dtype=dtype, device=device)
    x = rng.integers(0, 11, (3, 7))
    with minigrad.no_grad():
        full = model(minigrad.tensor(x, device=device)).numpy()
        for first in (1, 3):
            np.testing.assert_allclose(lm_incremental(model, x, first, device), full, rtol=tol,
                                       atol=tol)


def test_lm_cache_postnorm(rng):
    model = TransformerLM(9, 8, 4, 1, 16, dropout=0.0, max_len=12, norm_first=False,
                          dtype="float64")
    x = rng.integers(0, 9, (2, 6))
    with minigrad.no_grad():
        np.testing.assert_allclose(lm_incremental(model, x, 2),
                                   model(minigrad.tensor(x)).numpy(), rtol=1e-12, atol=1e-12)


def test_cache_reorder_moves_rows(rng):
    """After reorder(index), row i continues the past of row index[i] (beam search)."""
    model = TransformerLM(11, 8, 2, 2, 16, dropout=0.0, max_len=12, dtype="float64")
    x = rng.integers(0, 11, (3, 5))
    index = np.array([2, 2, 0])
    with minigrad.no_grad():
        cache = model.new_cache()
        model(minigrad.tensor(x[:, :4]), cache=cache)
        cache.reorder(minigrad.tensor(index).data)    # a backend array, as beam search gives
        last = model(minigrad.tensor(x[index, 4:5]), cache=cache).numpy()
        expected = model(minigrad.tensor(x[index])).numpy()[:, 4:5]
    np.testing.assert_allclose(last, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("norm_first", [False, True])
def test_seq2seq_cache_equals_full_logits(device, rng, norm_first):
    model = Seq2SeqTransformer(9, 10, d_model=8, nhead=2, num_encoder_layers=1,
                               num_decoder_layers=2, dim_feedforward=16, dropout=0.0,
                               max_len=12, norm_first=norm_first, dtype="float64",
                               device=device)
    src = minigrad.tensor(rng.integers(0, 9, (2, 5)), device=device)
    tgt = rng.integers(0, 10, (2, 6))
    with minigrad.no_grad():
        memory = model.encode(src)
        full = model.generator(model.decode(minigrad.tensor(tgt, device=device), memory))
        cache = DecoderCache(2, 6)
        pieces = [model.decode(minigrad.tensor(tgt[:, :2], device=device), memory,
                               cache=cache)]
        for t in range(2, 6):
            pieces.append(model.decode(minigrad.tensor(tgt[:, t:t + 1], device=device),
                                       memory, cache=cache))
        incremental = np.concatenate([model.generator(p).numpy() for p in pieces], axis=1)
    assert cache.length == 6
    np.testing.assert_allclose(incremental, full.numpy(), rtol=1e-12, atol=1e-12)
