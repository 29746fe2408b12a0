"""TransformerLM: gradients, causality, weight tying, state dicts, and PyTorch as oracle."""
import math

import numpy as np
import pytest

import minigrad
from layers import TransformerLM


def tiny_lm(dtype="float64", device=None, **options):
    settings = dict(vocab_size=5, d_model=4, nhead=2, num_layers=1, dim_feedforward=8,
                    dropout=0.0, max_len=8)
    settings.update(options)
    return TransformerLM(**settings, device=device, dtype=dtype)


def tokens(rng, N=2, T=3, V=5, device=None):
    return minigrad.tensor(rng.integers(0, V, (N, T)), device=device)


def gradcheck_params(model, x):
    params = list(model.parameters())
    minigrad.gradcheck(lambda *_: model(x), params)


def test_lm_gradcheck_prenorm_learned_tied(device, rng):
    model = tiny_lm(device=device, positional="learned", norm_first=True, tie_weights=True)
    gradcheck_params(model, tokens(rng, device=device))


def test_lm_gradcheck_postnorm_sinusoidal_untied(rng):
    model = tiny_lm(positional="sinusoidal", norm_first=False, tie_weights=False,
                    num_layers=2, dim_feedforward=4)
    gradcheck_params(model, tokens(rng))


def test_lm_logits_shape_and_tied_weights(rng):
    model = tiny_lm(dtype="float32", vocab_size=7, d_model=8)
    logits = model(tokens(rng, N=3, T=5, V=7))
    assert logits.shape == (3, 5, 7)
    # tied: one matrix, counted once among the parameters, two keys in the state dict
    assert model.lm_head.weight is model.token_embed.weight
    params = list(model.parameters())
    assert sum(p is model.token_embed.weight for p in params) == 1
    assert {"token_embed.weight", "lm_head.weight"} <= set(model.state_dict())


def test_lm_is_causal(rng):
    """Changing token t leaves the logits before t unchanged, and changes those from t on."""
    model = tiny_lm(num_layers=2, d_model=8, max_len=10)
    x = rng.integers(0, 5, (2, 6))
    base = model(minigrad.tensor(x)).detach().numpy()
    for t in range(6):
        changed = x.copy()
        changed[:, t] = (changed[:, t] + 1) % 5
        out = model(minigrad.tensor(changed)).detach().numpy()
        np.testing.assert_allclose(out[:, :t], base[:, :t], rtol=0, atol=1e-12)
        assert np.abs(out[:, t] - base[:, t]).max() > 1e-6      # the test can see a change


def test_lm_state_dict_round_trip(rng):
    first = tiny_lm(dtype="float32", d_model=8, positional="learned")
    second = tiny_lm(dtype="float32", d_model=8, positional="learned")
    second.load_state_dict(first.state_dict())
    x = tokens(rng, T=6)
    np.testing.assert_array_equal(first(x).detach().numpy(), second(x).detach().numpy())


def test_lm_attention_weights_are_causal_per_head(rng):
    model = tiny_lm(dtype="float32", num_layers=2, d_model=8)
    model(tokens(rng, T=4))
    weights = model.attention_weights()
    assert len(weights) == 2
    for w in weights:
        w = w.numpy()
        assert w.shape == (2, 2, 4, 4)                              # (N, nh, T, T)
        np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-5)
        assert np.all(np.triu(w, k=1) == 0)                         # no weight on the future


def test_lm_errors(rng):
    with pytest.raises(ValueError, match="positional"):
        tiny_lm(positional="rotary")
    model = tiny_lm()
    with pytest.raises(ValueError, match="integer tokens"):
        model(minigrad.tensor(np.zeros((2, 3))))
    with pytest.raises(ValueError, match="max_len"):
        model(tokens(rng, T=9))
    with pytest.raises(ValueError, match="cache of 3 layers"):
        model(tokens(rng), cache=tiny_lm(num_layers=3).new_cache())


def test_lm_matches_torch(rng):
    """The same weights in PyTorch modules wired the same way give the same logits."""
    torch = pytest.importorskip("torch")
    V, E, nh, L, F_, T = 7, 8, 2, 2, 16, 5
    model = TransformerLM(V, E, nh, L, F_, dropout=0.0, max_len=16, norm_first=True)
    embed = torch.nn.Embedding(V, E)
    blocks = torch.nn.ModuleList([
        torch.nn.TransformerEncoderLayer(E, nh, F_, dropout=0.0, batch_first=True,
                                         norm_first=True) for _ in range(L)])
    norm = torch.nn.LayerNorm(E)
    sd = {k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()}
    embed.load_state_dict({"weight": sd["token_embed.weight"]})
    for i, block in enumerate(blocks):
        prefix = f"layers.{i}."
        block.load_state_dict({k[len(prefix):]: v for k, v in sd.items()
                               if k.startswith(prefix)})
    norm.load_state_dict({"weight": sd["norm.weight"], "bias": sd["norm.bias"]})
    # the sinusoidal table of the paper, written out independently
    pos = np.arange(T)[:, None] / 10000 ** (np.arange(0, E, 2)[None, :] / E)
    pe = np.zeros((T, E))
    pe[:, 0::2], pe[:, 1::2] = np.sin(pos), np.cos(pos)
    x = rng.integers(0, V, (3, T))
    with torch.no_grad():
        h = embed(torch.tensor(x)) * math.sqrt(E) + torch.tensor(pe, dtype=torch.float32)
        causal = torch.nn.Transformer.generate_square_subsequent_mask(T)
        for block in blocks:
            h = block(h, src_mask=causal, is_causal=True)
        expected = norm(h) @ embed.weight.T                     # tied output projection
    np.testing.assert_allclose(model(minigrad.tensor(x)).detach().numpy(), expected.numpy(),
                               rtol=1e-4, atol=1e-5)
