"""Scaled dot-product attention: gradchecks of the hand-written backward, masks, torch."""
import math

import numpy as np
import pytest

import minigrad
from minigrad import gradcheck
from layers.attention import (AttentionFunction, attention, attention_composed,
                              attention_forward, attention_backward,
                              scaled_dot_product_attention)


def _qkv(rng, device=None, N=2, nh=2, T=4, S=5, hd=3, dtype="float64"):
    return [minigrad.tensor(rng.standard_normal(shape), dtype=dtype, device=device,
                            requires_grad=True)
            for shape in ((N, nh, T, hd), (N, nh, S, hd), (N, nh, S, hd))]


def _reference(q, k, v, allowed=None, bias=None, scale=None):
    """NumPy attention written from the formula, on host arrays."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = q @ k.swapaxes(-1, -2) * scale
    if bias is not None:
        scores = scores + bias
    if allowed is not None:
        scores = np.where(allowed, scores, np.finfo(scores.dtype).min)
    scores = scores - scores.max(-1, keepdims=True)
    weights = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    if allowed is not None:                        # a fully masked row attends to nothing
        weights = weights * allowed.any(-1, keepdims=True)
    return weights @ v, weights


def _masks(rng, T=4, S=5):
    bool_mask = rng.random((T, S)) > 0.4
    bool_mask[:, 0] = True                         # every row keeps one key
    additive = rng.standard_normal((T, S))
    return {"none": {}, "causal": {"is_causal": True}, "bool": {"attn_mask": bool_mask},
            "additive": {"attn_mask": additive},
            "window_causal": {"is_causal": True, "window": 2}, "window": {"window": 2},
            "bool_and_causal": {"attn_mask": bool_mask, "is_causal": True}}


@pytest.mark.homework("hw3.attention")
@pytest.mark.parametrize("case", ["none", "causal", "bool", "additive", "window_causal",
                                  "window", "bool_and_causal"])
def test_attention_function_gradcheck(device, rng, case):
    q, k, v = _qkv(rng, device)
    settings = dict(_masks(rng)[case])
    mask = settings.pop("attn_mask", None)
    if mask is not None:
        mask = minigrad.tensor(mask, device=device)
    gradcheck(lambda q, k, v: AttentionFunction.apply(q, k, v, mask, **settings), [q, k, v])


@pytest.mark.homework("hw3.attention")
def test_attention_gradcheck_reaches_an_additive_mask(rng):
    q, k, v = _qkv(rng)
    bias = minigrad.tensor(rng.standard_normal((2, 1, 4, 5)), dtype="float64",
                           requires_grad=True)
    gradcheck(lambda q, k, v, b: AttentionFunction.apply(q, k, v, b), [q, k, v, bias])


@pytest.mark.homework("hw3.attention")
def test_attention_gradcheck_with_dropout_and_broadcast_key(rng):
    q, _, _ = _qkv(rng)
    # k, v shared by the heads: (N, 1, S, hd) broadcast against q (N, nh, T, hd)
    k, v = (minigrad.tensor(rng.standard_normal((2, 1, 5, 3)), dtype="float64",
                            requires_grad=True) for _ in range(2))

    def fn(q, k, v):
        minigrad.manual_seed(7)                    # the same dropout mask on every call
        return AttentionFunction.apply(q, k, v, dropout_p=0.3)
    gradcheck(fn, [q, k, v])


@pytest.mark.homework("hw3.attention")
def test_fully_masked_row_is_finite_and_passes_no_gradient(device, rng):
    q, k, v = _qkv(rng, device)
    allowed = np.ones((4, 5), dtype=bool)
    allowed[2] = False                             # query 2 may look at nothing
    mask = minigrad.tensor(allowed, device=device)
    out, weights = AttentionFunction.apply(q, k, v, mask)
    assert np.isfinite(out.detach().numpy()).all()
    # nothing to attend to: weights 0 and output 0, as torch's scaled_dot_product_attention
    np.testing.assert_array_equal(weights.detach().numpy()[:, :, 2], 0.0)
    np.testing.assert_array_equal(out.detach().numpy()[:, :, 2], 0.0)
    gradcheck(lambda q, k, v: AttentionFunction.apply(q, k, v, mask), [q, k, v])
    # L = sum(out) + sum(weights^2), its gradients handed to AttentionFunction's backward
    # directly (dL/dout = 1, dL/dweights = 2 weights), so no other op's backward runs (hw1)
    out.backward(minigrad.tensor(np.ones(out.shape), device=device), retain_graph=True)
    weights.backward(minigrad.tensor(2 * weights.detach().numpy(), device=device))
    assert np.isfinite(q.grad.numpy()).all() and np.isfinite(k.grad.numpy()).all()
    np.testing.assert_array_equal(q.grad.numpy()[:, :, 2], 0.0)


@pytest.mark.homework("hw3.attention")
def test_kernels_match_the_formula_and_leave_gradients_unchanged(rng):
    q, k, v = (rng.standard_normal(s) for s in ((3, 4, 2), (3, 6, 2), (3, 6, 5)))
    allowed = rng.random((4, 6)) > 0.3
    out, weights, cache = attention_forward(q, k, v, allowed=allowed)
    want_out, want_weights = _reference(q, k, v, allowed)
    np.testing.assert_allclose(out, want_out, rtol=1e-12)
    np.testing.assert_allclose(weights, want_weights, rtol=1e-12, atol=1e-300)
    grad_out, grad_weights = rng.standard_normal(out.shape), rng.standard_normal(weights.shape)
    copies = grad_out.copy(), grad_weights.copy()
    grad_q, grad_k, grad_v, _ = attention_backward(grad_out, grad_weights, cache)
    np.testing.assert_array_equal(grad_out, copies[0])
    np.testing.assert_array_equal(grad_weights, copies[1])
    assert grad_q.shape == q.shape and grad_k.shape == k.shape and grad_v.shape == v.shape


def test_masked_scores_use_the_most_negative_finite_value_not_inf(rng):
    q, k, v = _qkv(rng, dtype="float32")
    with_inf = np.zeros((4, 5), dtype=np.float32)
    with_inf[:, 3:] = -np.inf                      # PyTorch's way of writing a mask
    with_inf[1] = -np.inf                          # ... and a fully masked row
    with_min = np.where(np.isinf(with_inf), np.finfo(np.float32).min, 0).astype(np.float32)
    out_inf = scaled_dot_product_attention(q, k, v, minigrad.tensor(with_inf))
    out_min = scaled_dot_product_attention(q, k, v, minigrad.tensor(with_min))
    assert np.isfinite(out_inf.detach().numpy()).all()
    np.testing.assert_array_equal(out_inf.detach().numpy(), out_min.detach().numpy())


@pytest.mark.parametrize("causal", [False, True])
def test_window_semantics(rng, causal):
    q, k, v = _qkv(rng, T=6, S=6)
    _, weights = attention(q, k, v, is_causal=causal, window=2)
    i, j = np.arange(6)[:, None], np.arange(6)[None, :]
    allowed = ((i - 2 < j) & (j <= i)) if causal else (np.abs(i - j) < 2)
    w = weights.detach().numpy()
    assert (w[..., ~allowed] == 0).all() and (w[..., allowed] > 0).all()


@pytest.mark.parametrize("case", ["none", "causal", "bool", "additive", "window_causal",
                                  "window", "bool_and_causal"])
def test_explicit_equals_composed(rng, case):
    settings = _masks(rng)[case]
    if "attn_mask" in settings:
        settings["attn_mask"] = minigrad.tensor(settings["attn_mask"])
    upstream = [minigrad.tensor(rng.standard_normal(s), dtype="float64")
                for s in ((2, 2, 4, 3), (2, 2, 4, 5))]
    results = []
    for fn in (attention, attention_composed):
        q, k, v = _qkv(np.random.default_rng(1))
        minigrad.manual_seed(3)
        out, weights = fn(q, k, v, dropout_p=0.25, **settings)
        ((out * upstream[0]).sum() + (weights * upstream[1]).sum()).backward()
        results.append([out.detach().numpy(), weights.detach().numpy(), q.grad.numpy(),
                        k.grad.numpy(), v.grad.numpy()])
    for explicit, composed in zip(*results):
        np.testing.assert_allclose(explicit, composed, rtol=1e-10, atol=1e-12)


def test_sdpa_returns_only_the_output(rng):
    q, k, v = _qkv(rng)
    out = scaled_dot_product_attention(q, k, v)
    assert isinstance(out, minigrad.Tensor) and out.shape == (2, 2, 4, 3)


def test_bad_shapes_raise_clear_errors(rng):
    q, k, v = _qkv(rng)
    with pytest.raises(ValueError, match="do not fit"):
        attention(q, k[..., :2], v)
    with pytest.raises(ValueError, match="does not broadcast"):
        attention(q, k, v, attn_mask=minigrad.tensor(np.ones((3, 3), dtype=bool)))


@pytest.mark.parametrize("case", ["none", "causal", "bool", "additive"])
def test_matches_torch(rng, case):
    torch = pytest.importorskip("torch")
    settings = _masks(rng)[case]
    q, k, v = _qkv(rng)
    host = [t.detach().numpy() for t in (q, k, v)]
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in host)
    t_settings = dict(settings)
    if "attn_mask" in settings:
        t_settings["attn_mask"] = torch.tensor(settings["attn_mask"])
        settings = dict(settings, attn_mask=minigrad.tensor(settings["attn_mask"]))
    t_out = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, **t_settings)
    out = scaled_dot_product_attention(q, k, v, **settings)
    grad = rng.standard_normal(out.shape)
    t_out.backward(torch.tensor(grad))
    out.backward(minigrad.tensor(grad, dtype="float64"))
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), atol=1e-12)
    for mine, theirs in zip((q, k, v), (tq, tk, tv)):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), atol=1e-12)
