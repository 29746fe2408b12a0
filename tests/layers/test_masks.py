"""Attention masks (issue 12): integer masks refused with the sense of each API; fully
masked rows and empty sequences as torch's F.scaled_dot_product_attention (the oracle)."""
import numpy as np
import pytest

import minigrad
from layers import (MultiheadAttention, TransformerEncoderLayer, attention,
                    attention_composed, memory_efficient_attention,
                    scaled_dot_product_attention)


def _qkv(rng, N=2, nh=2, T=4, S=5, hd=3, device=None):
    return [minigrad.tensor(rng.standard_normal(shape), dtype="float64", device=device,
                            requires_grad=True)
            for shape in ((N, nh, T, hd), (N, nh, S, hd), (N, nh, S, hd))]


# ---------------------------------------------------------------- integer masks
SDPA_LIKE = {
    "scaled_dot_product_attention": lambda q, k, v, m: scaled_dot_product_attention(q, k, v, m),
    "attention": lambda q, k, v, m: attention(q, k, v, m),
    "attention_composed": lambda q, k, v, m: attention_composed(q, k, v, m),
    "memory_efficient_attention": lambda q, k, v, m: memory_efficient_attention(q, k, v, m),
}


@pytest.mark.parametrize("name", list(SDPA_LIKE))
@pytest.mark.parametrize("as_tensor", [True, False])
def test_integer_masks_are_refused_by_the_sdpa_functions(rng, name, as_tensor):
    q, k, v = _qkv(rng)
    mask = np.ones((4, 5), dtype=np.int64)
    mask[:, 3:] = 0
    with pytest.raises(TypeError) as info:
        SDPA_LIKE[name](q, k, v, minigrad.tensor(mask) if as_tensor else mask)
    message = str(info.value)
    assert "int64" in message and "bool" in message and "True = " in message
    assert "TAKES PART" in message or "TAKES PART".lower() in message.lower()


def test_torch_refuses_integer_masks_too():
    torch = pytest.importorskip("torch")
    q = torch.zeros(1, 2, 3)
    with pytest.raises(RuntimeError, match="bool or float"):
        torch.nn.functional.scaled_dot_product_attention(
            q, q, q, attn_mask=torch.ones(2, 2, dtype=torch.int64))


@pytest.mark.parametrize("which", ["attn_mask", "key_padding_mask"])
def test_integer_masks_are_refused_by_multihead_attention_with_its_sense(rng, which):
    mha = MultiheadAttention(8, 2, batch_first=True)
    x = minigrad.tensor(rng.standard_normal((2, 5, 8)), dtype="float32")
    mask = {"attn_mask": np.zeros((5, 5), dtype=np.int64),
            "key_padding_mask": np.zeros((2, 5), dtype=np.int32)}[which]
    with pytest.raises(TypeError, match=f"{which} must be bool .True = that position is "
                                        "MASKED OUT"):
        mha(x, x, x, **{which: minigrad.tensor(mask)})


def test_integer_masks_are_refused_by_the_transformer_layers(rng):
    layer = TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
    x = minigrad.tensor(rng.standard_normal((2, 5, 8)), dtype="float32")
    with pytest.raises(TypeError, match="MASKED OUT"):
        layer(x, src_mask=minigrad.tensor(np.triu(np.ones((5, 5), dtype=np.int64), 1)))
    # the bool and float forms of the same mask still work, and agree
    causal = np.triu(np.ones((5, 5), dtype=bool), 1)
    as_bool = layer(x, src_mask=minigrad.tensor(causal)).detach().numpy()
    as_float = layer(x, src_mask=minigrad.tensor(np.where(causal, -np.inf, 0.0)
                                                 .astype(np.float32))).detach().numpy()
    np.testing.assert_allclose(as_bool, as_float, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- fully masked rows
def _torch_sdpa(torch, q, k, v, mask, upstream):
    tq, tk, tv = (torch.tensor(t.detach().numpy(), requires_grad=True) for t in (q, k, v))
    tm = None if mask is None else torch.from_numpy(mask)
    out = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=tm)
    out.backward(torch.from_numpy(upstream))
    return out.detach().numpy(), [t.grad.numpy() for t in (tq, tk, tv)]


FUNCTIONS = {
    "scaled_dot_product_attention": scaled_dot_product_attention,
    "attention_composed": lambda q, k, v, m: attention_composed(q, k, v, m)[0],
    "memory_efficient_attention": lambda q, k, v, m: memory_efficient_attention(
        q, k, v, m, block_size=2),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("kind", ["bool", "minus_inf"])
def test_fully_masked_rows_match_torch(rng, name, kind, device):
    torch = pytest.importorskip("torch")
    q, k, v = _qkv(rng, device=device)
    allowed = rng.random((2, 1, 4, 5)) > 0.4
    allowed[0, :, 1] = False                       # batch 0, query 1: nothing to look at
    allowed[1, :, 3] = False
    mask = allowed if kind == "bool" else np.where(allowed, 0.0, -np.inf)
    upstream = rng.standard_normal((2, 2, 4, 3))
    want, want_grads = _torch_sdpa(torch, q, k, v, mask, upstream)
    assert (want[0, :, 1] == 0).all()               # torch: the row attends to nothing
    out = FUNCTIONS[name](q, k, v, minigrad.tensor(mask, device=device))
    out.backward(minigrad.tensor(upstream, device=device))
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-10, atol=1e-12)
    for got, expected in zip((q.grad, k.grad, v.grad), want_grads):
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-9, atol=1e-12)


def test_causal_mask_with_more_queries_than_keys_matches_torch(rng):
    """is_causal with T > S leaves no row empty (top-left), and a bool mask that empties
    the last rows gives 0 there in both implementations."""
    torch = pytest.importorskip("torch")
    q, k, v = _qkv(rng, T=6, S=3)
    allowed = np.tril(np.ones((6, 3), dtype=bool), -3)   # rows 0..2 see nothing
    want, _ = _torch_sdpa(torch, q, k, v, allowed, np.zeros((2, 2, 6, 3)))
    for fn in FUNCTIONS.values():
        np.testing.assert_allclose(fn(q, k, v, minigrad.tensor(allowed)).detach().numpy(),
                                   want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("T, S", [(0, 0), (3, 0), (0, 3)])
def test_empty_sequences_match_torch(rng, name, T, S):
    torch = pytest.importorskip("torch")
    q, k, v = _qkv(rng, T=T, S=S)
    upstream = rng.standard_normal((2, 2, T, 3))
    want, want_grads = _torch_sdpa(torch, q, k, v, None, upstream)
    with np.errstate(all="raise"):
        out = FUNCTIONS[name](q, k, v, None)
        out.backward(minigrad.tensor(upstream))
    assert out.shape == want.shape
    np.testing.assert_array_equal(out.detach().numpy(), want)
    for got, expected in zip((q.grad, k.grad, v.grad), want_grads):
        assert got.shape == expected.shape
        np.testing.assert_array_equal(got.numpy(), expected)


def test_docstrings_say_what_pytorch_does():
    import importlib
    attention_module = importlib.import_module("layers.attention")
    efficient_attention = importlib.import_module("layers.efficient_attention")
    for doc in (scaled_dot_product_attention.__doc__, memory_efficient_attention.__doc__,
                attention_module.__doc__, efficient_attention.__doc__):
        assert "torch" in doc and "0" in doc and "masked" in doc
