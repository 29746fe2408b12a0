"""MultiheadAttention: head split/merge Functions, gradchecks, masks, weights, torch."""
import numpy as np
import pytest

import minigrad
from minigrad import gradcheck
from layers.multihead import HeadsProjection, MergeHeadsProjection, MultiheadAttention, mha_mask
from layer_testing import fill_

E, NH, N, T, S = 4, 2, 2, 3, 4


def _mha(batch_first, bias=True, dropout=0.0):
    mha = MultiheadAttention(E, NH, dropout=dropout, bias=bias,
                             batch_first=batch_first).to(dtype="float64")
    for p in mha.parameters():                     # non-zero biases, so they are checked
        fill_(p, np.random.default_rng(p.numel()).standard_normal(p.shape))
    return mha


def _x(rng, L, batch_first, device=None):
    shape = (N, L, E) if batch_first else (L, N, E)
    return minigrad.tensor(rng.standard_normal(shape), dtype="float64", device=device,
                           requires_grad=True)


@pytest.mark.homework("hw3.multihead")
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("count", [1, 3])
def test_heads_projection_gradcheck(device, rng, batch_first, count):
    x = _x(rng, T, batch_first, device)
    weight = minigrad.tensor(rng.standard_normal((count * E, E)), dtype="float64",
                             device=device, requires_grad=True)
    bias = minigrad.tensor(rng.standard_normal(count * E), dtype="float64", device=device,
                           requires_grad=True)
    gradcheck(lambda x, w, b: HeadsProjection.apply(x, w, b, num_heads=NH, count=count,
                                                    batch_first=batch_first), [x, weight, bias])


@pytest.mark.homework("hw3.multihead")
@pytest.mark.parametrize("batch_first", [False, True])
def test_merge_heads_projection_gradcheck(device, rng, batch_first):
    heads = minigrad.tensor(rng.standard_normal((N, NH, T, E // NH)), dtype="float64",
                            device=device, requires_grad=True)
    weight = minigrad.tensor(rng.standard_normal((5, E)), dtype="float64", device=device,
                             requires_grad=True)
    bias = minigrad.tensor(rng.standard_normal(5), dtype="float64", device=device,
                           requires_grad=True)
    gradcheck(lambda h, w, b: MergeHeadsProjection.apply(h, w, b, batch_first=batch_first),
              [heads, weight, bias])


def test_heads_projection_splits_as_reshape_and_transpose(rng):
    # the forward, not part of hw3.multihead (whose region is the backward): untagged
    x = rng.standard_normal((N, T, E))                       # batch first
    weight, bias = rng.standard_normal((3 * E, E)), rng.standard_normal(3 * E)
    q, k, v = HeadsProjection.apply(minigrad.tensor(x), minigrad.tensor(weight),
                                    minigrad.tensor(bias), num_heads=NH, count=3,
                                    batch_first=True)
    y = x @ weight.T + bias                                  # (N, T, 3E)
    for i, part in enumerate((q, k, v)):
        want = y[..., i * E:(i + 1) * E].reshape(N, T, NH, E // NH).transpose(0, 2, 1, 3)
        np.testing.assert_allclose(part.numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("masks", ["none", "masks"])
def test_mha_gradcheck(rng, batch_first, masks):
    mha = _mha(batch_first)
    x = _x(rng, T, batch_first)
    kwargs = {}
    if masks == "masks":
        padding = np.zeros((N, T), dtype=bool)
        padding[1, -1] = True
        kwargs = dict(key_padding_mask=minigrad.tensor(padding),
                      attn_mask=minigrad.tensor(np.triu(np.ones((T, T), dtype=bool), 1)))
    params = [mha.in_proj_weight, mha.in_proj_bias, mha.out_proj.weight, mha.out_proj.bias]
    gradcheck(lambda x, *_: mha(x, x, x, **kwargs), [x] + params)


@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_cross_attention_gradcheck(rng, batch_first):
    mha = _mha(batch_first)
    q, kv, v = _x(rng, T, batch_first), _x(rng, S, batch_first), _x(rng, S, batch_first)
    params = [mha.in_proj_weight, mha.in_proj_bias]
    gradcheck(lambda q, kv, *_: mha(q, kv, kv, need_weights=False)[0], [q, kv] + params)
    gradcheck(lambda q, k, v: mha(q, k, v, average_attn_weights=False), [q, kv, v])


def test_parameters_init_and_weights(rng):
    mha = MultiheadAttention(8, 2)
    assert [n for n, _ in mha.named_parameters()] == [
        "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert mha.in_proj_weight.shape == (24, 8)
    bound = np.sqrt(6 / (24 + 8))                            # xavier_uniform_ on (3E, E)
    assert np.abs(mha.in_proj_weight.detach().numpy()).max() <= bound
    np.testing.assert_array_equal(mha.in_proj_bias.detach().numpy(), 0)
    np.testing.assert_array_equal(mha.out_proj.bias.detach().numpy(), 0)
    x = minigrad.tensor(rng.standard_normal((5, 3, 8)).astype(np.float32))
    out, weights = mha(x, x, x)
    assert out.shape == (5, 3, 8) and weights.shape == (3, 5, 5)
    per_head = mha.last_attn_weights.numpy()
    assert per_head.shape == (3, 2, 5, 5)
    np.testing.assert_allclose(weights.detach().numpy(), per_head.mean(1), rtol=1e-6)
    np.testing.assert_allclose(per_head.sum(-1), 1, rtol=1e-6)
    out2, none = mha(x, x, x, need_weights=False)
    assert none is None and mha.last_attn_weights.shape == (3, 2, 5, 5)
    unbatched, w = mha(x[:, 0], x[:, 0], x[:, 0])
    np.testing.assert_allclose(unbatched.detach().numpy(), out.detach().numpy()[:, 0], rtol=1e-5)
    assert w.shape == (5, 5)


def test_mha_masks_follow_pytorch_mha_semantics(rng):
    padding = np.array([[False, False, True], [False, False, False]])   # True = padding
    future = np.triu(np.ones((2, 3), dtype=bool), 1)                    # True = not allowed
    allowed = mha_mask(future, padding, 2, NH, 2, 3, np.float32)
    assert allowed.shape == (2, 1, 2, 3) and allowed.dtype == bool
    np.testing.assert_array_equal(allowed[0, 0], [[True, False, False], [True, True, False]])
    np.testing.assert_array_equal(allowed[1, 0], [[True, False, False], [True, True, False]])
    np.testing.assert_array_equal(mha_mask(None, padding, 2, NH, 2, 3, np.float32)[1, 0, 0],
                                  [True, True, True])
    additive = mha_mask(np.zeros((2, 3), np.float32), padding, 2, NH, 2, 3, np.float32)
    assert additive.dtype == np.float32
    assert (additive[0, 0, :, 2] == np.finfo(np.float32).min).all()
    mha = MultiheadAttention(E, NH, batch_first=True)
    x = minigrad.tensor(rng.standard_normal((2, 3, E)).astype(np.float32))
    mha(x, x, x, key_padding_mask=minigrad.tensor(padding))
    assert (mha.last_attn_weights.numpy()[0, :, :, 2] == 0).all()
    with pytest.raises(ValueError, match="key_padding_mask"):
        mha(x, x, x, key_padding_mask=minigrad.tensor(padding[:, :2]))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("cross", [False, True])
def test_matches_torch(rng, batch_first, cross):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first)
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_(0, 0.3)
    mine = MultiheadAttention(8, 2, batch_first=batch_first)
    mine.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    shape = (lambda L: (3, L, 8)) if batch_first else (lambda L: (L, 3, 8))
    q = rng.standard_normal(shape(4)).astype(np.float32)
    kv = rng.standard_normal(shape(5)).astype(np.float32) if cross else q
    S_ = kv.shape[1 if batch_first else 0]
    padding = np.zeros((3, S_), dtype=bool)
    padding[0, -1] = True
    attn = rng.standard_normal((4, S_)).astype(np.float32)
    tq = torch.tensor(q, requires_grad=True)
    tkv = torch.tensor(kv, requires_grad=True) if cross else tq
    mq = minigrad.tensor(q, requires_grad=True)
    mkv = minigrad.tensor(kv, requires_grad=True) if cross else mq
    t_out, t_w = theirs(tq, tkv, tkv, key_padding_mask=torch.tensor(padding),
                        attn_mask=torch.tensor(attn), average_attn_weights=False)
    m_out, m_w = mine(mq, mkv, mkv, key_padding_mask=minigrad.tensor(padding),
                      attn_mask=minigrad.tensor(attn), average_attn_weights=False)
    grad = rng.standard_normal(t_out.shape).astype(np.float32)
    t_out.backward(torch.tensor(grad))
    m_out.backward(minigrad.tensor(grad))
    np.testing.assert_allclose(m_out.detach().numpy(), t_out.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(m_w.detach().numpy(), t_w.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(mq.grad.numpy(), tq.grad.numpy(), atol=1e-4)
    for name, p in mine.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), dict(theirs.named_parameters())[name].grad
                                   .numpy(), atol=1e-4, err_msg=name)
