"""Positions inside attention: ALiBi, RoPE and NoPE in MultiheadAttention and TransformerLM
(layers/positional.py, layers/multihead.py, layers/language_model.py)."""
import math

import numpy as np
import pytest

import minigrad
from layers import MultiheadAttention, TransformerLM
from layers.positional import alibi_bias, alibi_slopes

N, T, E, nh = 2, 5, 8, 4


def _paper_slopes(n):
    """get_slopes from the ALiBi authors' code (ofirpress/attention_with_linear_biases)."""
    def get_slopes_power_of_2(n):
        start = 2 ** (-2 ** -(math.log2(n) - 3))
        return [start * start ** i for i in range(n)]
    if math.log2(n).is_integer():
        return get_slopes_power_of_2(n)
    closest = 2 ** math.floor(math.log2(n))
    return (get_slopes_power_of_2(closest)
            + _paper_slopes(2 * closest)[0::2][:n - closest])


@pytest.mark.parametrize("heads", [1, 2, 6, 8, 12, 16])
def test_slopes_are_the_papers(heads):
    np.testing.assert_allclose(alibi_slopes(heads), _paper_slopes(heads), rtol=1e-14)
    assert alibi_slopes(8)[0] == 0.5 and alibi_slopes(8)[-1] == 1 / 256


def test_bias_is_minus_slope_times_distance():
    bias = alibi_bias(2, 3, 5, dtype="float64").numpy()            # queries at 2, 3, 4
    m = alibi_slopes(2)
    for h in range(2):
        for t in range(3):
            for s in range(5):
                assert bias[h, t, s] == -m[h] * abs(2 + t - s)


def _x(rng, device=None):
    return minigrad.tensor(rng.standard_normal((N, T, E)), dtype="float64", device=device)


def test_mha_alibi_equals_torch_with_the_bias_as_float_mask(rng):
    torch = pytest.importorskip("torch")
    mha = MultiheadAttention(E, nh, batch_first=True, dtype="float64", positional="alibi")
    ref = torch.nn.MultiheadAttention(E, nh, batch_first=True, dtype=torch.float64)
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mha.state_dict().items()})
    x = _x(rng)
    with minigrad.no_grad():
        ours = mha(x, x, x, is_causal=True)[0].numpy()
    bias = torch.tensor(alibi_bias(nh, T, dtype="float64").numpy())          # (nh, T, T)
    causal = torch.triu(torch.full((T, T), float("-inf"), dtype=torch.float64), 1)
    mask = (bias + causal).repeat(N, 1, 1)                                   # (N*nh, T, T)
    tx = torch.tensor(x.numpy())
    theirs = ref(tx, tx, tx, attn_mask=mask, need_weights=False)[0]
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_mha_rope_rotates_queries_and_keys_by_position(rng):
    torch = pytest.importorskip("torch")
    mha = MultiheadAttention(E, nh, batch_first=True, dtype="float64", positional="rope")
    x = _x(rng)
    with minigrad.no_grad():
        ours = mha(x, x, x, is_causal=True)[0].numpy()
    hd = E // nh
    w = torch.tensor(mha.in_proj_weight.detach().numpy())
    b = torch.tensor(mha.in_proj_bias.detach().numpy())
    q, k, v = (torch.tensor(x.numpy()) @ w.T + b).chunk(3, dim=-1)
    q, k, v = (t.reshape(N, T, nh, hd).transpose(1, 2) for t in (q, k, v))   # (N, nh, T, hd)
    theta = 10000.0 ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)   # (hd/2,)
    angle = torch.arange(T, dtype=torch.float64)[:, None] * theta            # (T, hd/2)

    def rotate(t):                    # pairs (t[2i], t[2i+1]) rotated by pos * theta_i
        even, odd = t[..., 0::2], t[..., 1::2]
        out = torch.empty_like(t)
        out[..., 0::2] = even * torch.cos(angle) - odd * torch.sin(angle)
        out[..., 1::2] = even * torch.sin(angle) + odd * torch.cos(angle)
        return out
    o = torch.nn.functional.scaled_dot_product_attention(rotate(q), rotate(k), v, is_causal=True)
    o = o.transpose(1, 2).reshape(N, T, E)
    theirs = o @ torch.tensor(mha.out_proj.weight.detach().numpy()).T
    theirs = theirs + torch.tensor(mha.out_proj.bias.detach().numpy())
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("positional", ["rope", "alibi", "none"])
def test_lm_cached_decoding_equals_the_full_forward(device, rng, positional):
    model = TransformerLM(7, 8, 2, 2, 16, dropout=0.0, max_len=16, positional=positional,
                          dtype="float64", device=device)
    tokens = rng.integers(0, 7, (2, 6))
    with minigrad.no_grad():
        full = model(minigrad.tensor(tokens, device=device)).numpy()
        cache = model.new_cache()
        pieces = [model(minigrad.tensor(tokens[:, :2], device=device), cache=cache).numpy()]
        for t in range(2, 6):
            pieces.append(model(minigrad.tensor(tokens[:, t:t + 1], device=device),
                                cache=cache).numpy())
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), full, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("positional", ["rope", "alibi"])
def test_lm_gradcheck_with_positions_in_attention(rng, positional):
    model = TransformerLM(5, 4, 2, 1, 8, dropout=0.0, max_len=8, positional=positional,
                          dtype="float64")
    x = minigrad.tensor(rng.integers(0, 5, (2, 3)))
    assert minigrad.gradcheck(lambda *_: model(x), list(model.parameters()))


def test_nope_has_no_positional_parameters_and_sees_order_only_through_the_mask(rng):
    model = TransformerLM(7, 8, 2, 1, 16, dropout=0.0, positional="none", dtype="float64")
    assert not any("positional" in name for name in model.state_dict())
    with minigrad.no_grad():
        # the first position sees only itself: its logits do not depend on what follows
        a = model(minigrad.tensor([[3, 1, 2]])).numpy()
        b = model(minigrad.tensor([[3, 2, 1]])).numpy()
    np.testing.assert_allclose(a[:, 0], b[:, 0], rtol=1e-12)
    assert not np.allclose(a[:, 1], b[:, 1])


def test_bad_positional_is_named():
    with pytest.raises(ValueError, match="positional must be one of"):
        MultiheadAttention(E, nh, positional="sinusoidal")
