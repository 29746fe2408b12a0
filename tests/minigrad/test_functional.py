"""Tests of minigrad.nn.functional (ops/nn.py and ops/loss.py).

Gradients: float64 central differences with a random upstream gradient (gradcheck).
Values: torch as the oracle where installed, hand-derived numbers otherwise.
"""
import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad import gradcheck


def t64(array, device, grad=True):
    return minigrad.tensor(np.asarray(array, dtype=np.float64), dtype="float64",
                           device=device, requires_grad=grad)


def ints(array, device):
    return minigrad.tensor(np.asarray(array, dtype=np.int64), device=device)


# ---------------------------------------------------------------- softmax family
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_family_gradcheck(device, rng, dim):
    x = t64(rng.standard_normal((3, 4, 5)), device)
    gradcheck(lambda x: F.softmax(x, dim=dim), [x])
    gradcheck(lambda x: F.log_softmax(x, dim=dim), [x])
    gradcheck(lambda x: F.logsumexp(x, dim=dim), [x])
    gradcheck(lambda x: F.logsumexp(x, dim=(0, 2), keepdim=True), [x])


def test_softmax_family_match_torch(device, rng):
    torch = pytest.importorskip("torch")
    data = rng.standard_normal((3, 4, 5))
    x = t64(data, device, grad=False)
    ref = torch.tensor(data)
    np.testing.assert_allclose(F.softmax(x, dim=1).numpy(), torch.softmax(ref, 1).numpy(),
                               atol=1e-12)
    np.testing.assert_allclose(F.log_softmax(x, dim=-1).numpy(),
                               torch.log_softmax(ref, -1).numpy(), atol=1e-12)
    np.testing.assert_allclose(F.logsumexp(x, dim=(0, 2)).numpy(),
                               torch.logsumexp(ref, (0, 2)).numpy(), atol=1e-12)


def test_softmax_family_stable_at_1e4(device):
    # exp(1e4) overflows any float; with the max subtracted the exponents are 0, -1e4, -2e4
    x = minigrad.tensor([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]], device=device)
    np.testing.assert_allclose(F.softmax(x, dim=1).numpy(),
                               [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-7)
    log_p = F.log_softmax(x, dim=1).numpy()
    np.testing.assert_allclose(log_p, [[0, -1e4, -2e4], [-np.log(3)] * 3], rtol=1e-6)
    np.testing.assert_allclose(F.logsumexp(x, dim=1).numpy(), [1e4, 1e4 + np.log(3)],
                               rtol=1e-7)


def test_logsumexp_of_all_minus_inf_is_minus_inf(device):
    torch = pytest.importorskip("torch")
    data = np.array([[-np.inf, -np.inf], [0.0, -np.inf]])
    with np.errstate(divide="ignore"):
        out = F.logsumexp(t64(data, device, grad=False), dim=1).numpy()
    np.testing.assert_array_equal(out, torch.logsumexp(torch.tensor(data), 1).numpy())


def test_softmax_needs_a_dim(device):
    with pytest.raises(TypeError, match="softmax"):
        F.softmax(minigrad.tensor([1.0, 2.0], device=device))


# ---------------------------------------------------------------- cross entropy
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_matches_torch(device, rng, reduction, weighted, smoothing):
    torch = pytest.importorskip("torch")
    N, C = 6, 5
    logits = rng.standard_normal((N, C)) * 3
    target = np.array([0, 4, -100, 2, 2, -100])             # two ignored rows
    weight = rng.uniform(0.5, 2.0, C) if weighted else None
    x = t64(logits, device)
    out = F.cross_entropy(x, ints(target, device),
                          weight=None if weight is None else t64(weight, device, False),
                          reduction=reduction, label_smoothing=smoothing)
    upstream = rng.standard_normal(out.shape)
    out.backward(minigrad.tensor(upstream, dtype="float64", device=device))

    ref_x = torch.tensor(logits, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(
        ref_x, torch.tensor(target), weight=None if weight is None else torch.tensor(weight),
        reduction=reduction, label_smoothing=smoothing)
    ref.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), ref_x.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_cross_entropy_gradcheck_spatial(device, rng, reduction):
    # (N, C, d1) logits: the class dim is dim 1 and the loss is per (n, d1)
    x = t64(rng.standard_normal((2, 4, 3)), device)
    target = ints([[0, 3, -100], [1, 1, 2]], device)
    weight = t64([1.0, 2.0, 0.5, 1.5], device, grad=False)
    gradcheck(lambda x: F.cross_entropy(x, target, weight=weight, reduction=reduction,
                                        label_smoothing=0.1), [x])


def test_cross_entropy_spatial_and_unbatched_match_torch(device, rng):
    torch = pytest.importorskip("torch")
    logits = rng.standard_normal((2, 4, 3))
    target = np.array([[0, 3, -100], [1, 1, 2]])
    out = F.cross_entropy(t64(logits, device, False), ints(target, device), reduction="none")
    ref = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(target),
                                            reduction="none")
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-12)
    single = F.cross_entropy(t64(logits[0, :, 0], device, False), ints(2, device))
    ref = torch.nn.functional.cross_entropy(torch.tensor(logits[0, :, 0]), torch.tensor(2))
    np.testing.assert_allclose(single.numpy(), ref.numpy(), atol=1e-12)


def test_cross_entropy_checks_targets(device):
    x = minigrad.zeros(2, 3, device=device)
    with pytest.raises(IndexError, match=r"\[0, 2\]"):
        F.cross_entropy(x, ints([0, 3], device))
    with pytest.raises(ValueError, match="target of shape"):
        F.cross_entropy(x, ints([0, 1, 2], device))


def test_cross_entropy_large_logits_finite(device):
    x = minigrad.tensor([[1e4, -1e4, 0.0]], device=device, requires_grad=True)
    loss = F.cross_entropy(x, ints([1], device))
    loss.backward()
    assert np.isclose(loss.item(), 2e4)         # -log p[1] = 1e4 - (-1e4)
    np.testing.assert_allclose(x.grad.numpy(), [[1, -1, 0]], atol=1e-6)   # p - onehot


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_gradcheck_and_torch(device, rng, reduction):
    logp = rng.standard_normal((5, 4))
    target = np.array([3, -100, 0, 1, 3])
    weight = np.array([1.0, 0.5, 2.0, 1.5])
    x = t64(logp, device)
    w = t64(weight, device, False)
    gradcheck(lambda x: F.nll_loss(x, ints(target, device), weight=w, reduction=reduction),
              [x])
    torch = pytest.importorskip("torch")
    ref = torch.nn.functional.nll_loss(torch.tensor(logp), torch.tensor(target),
                                       weight=torch.tensor(weight), reduction=reduction)
    out = F.nll_loss(x, ints(target, device), weight=w, reduction=reduction)
    np.testing.assert_allclose(out.detach().numpy(), ref.numpy(), atol=1e-12)


# ---------------------------------------------------------------- regression losses
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss(device, rng, reduction):
    a, b = rng.standard_normal((2, 3, 4))
    x, y = t64(a, device), t64(b, device)
    gradcheck(lambda x, y: F.mse_loss(x, y, reduction=reduction), [x, y])
    expected = (a - b) ** 2
    expected = {"mean": expected.mean(), "sum": expected.sum(), "none": expected}[reduction]
    np.testing.assert_allclose(F.mse_loss(x, y, reduction=reduction).detach().numpy(),
                               expected, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits(device, rng, reduction):
    logits = rng.standard_normal((4, 3)) * 2
    target = rng.uniform(0, 1, (4, 3))
    weight = rng.uniform(0.5, 2, (4, 3))
    pos_weight = np.array([0.5, 1.0, 3.0])
    x, t = t64(logits, device), t64(target, device)
    w, pw = t64(weight, device, False), t64(pos_weight, device, False)
    gradcheck(lambda x, t: F.binary_cross_entropy_with_logits(
        x, t, weight=w, pos_weight=pw, reduction=reduction), [x, t])
    torch = pytest.importorskip("torch")
    ref = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(logits), torch.tensor(target), weight=torch.tensor(weight),
        pos_weight=torch.tensor(pos_weight), reduction=reduction)
    out = F.binary_cross_entropy_with_logits(x, t, weight=w, pos_weight=pw,
                                             reduction=reduction)
    np.testing.assert_allclose(out.detach().numpy(), ref.numpy(), atol=1e-12)


def test_bce_with_logits_stable_for_large_logits(device):
    # loss(x, t) = (1 - t) x + log(1 + e^-x): for x = 1e4, t = 0 it is 1e4; for x = -1e4,
    # t = 0 it is log(1 + e^-1e4) ~ 0.  A naive log(sigmoid) gives inf / nan here.
    x = minigrad.tensor([1e4, -1e4, 1e4], device=device, requires_grad=True)
    t = minigrad.tensor([0.0, 0.0, 1.0], device=device)
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [1e4, 0, 0], atol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1, 0, 0], atol=1e-6)   # sigmoid(x) - t


# ---------------------------------------------------------------- linear, one_hot
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck_and_torch(device, rng, bias):
    x_np, w_np, b_np = rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4)), \
        rng.standard_normal(5)
    x, w = t64(x_np, device), t64(w_np, device)
    b = t64(b_np, device) if bias else None
    inputs = [x, w, b] if bias else [x, w]
    gradcheck(lambda *a: F.linear(*a), inputs)
    expected = x_np @ w_np.T + (b_np if bias else 0)          # y = x W^T + b
    np.testing.assert_allclose(F.linear(x, w, b).detach().numpy(), expected, atol=1e-12)


def test_one_hot(device):
    out = F.one_hot(ints([[2, 0], [1, 2]], device), num_classes=4)
    assert out.dtype == np.int64 and out.shape == (2, 2, 4) and not out.requires_grad
    np.testing.assert_array_equal(out.numpy()[0], [[0, 0, 1, 0], [1, 0, 0, 0]])
    assert F.one_hot(ints([0, 2], device)).shape == (2, 3)   # inferred: max + 1
    with pytest.raises(IndexError):
        F.one_hot(ints([4], device), num_classes=3)


# ---------------------------------------------------------------- layer norm
@pytest.mark.parametrize("normalized_shape", [(5,), (4, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_gradcheck(device, rng, normalized_shape, affine):
    x = t64(rng.standard_normal((3, 4, 5)) * 2 + 1, device)
    inputs = [x]
    if affine:
        inputs += [t64(rng.standard_normal(normalized_shape), device),
                   t64(rng.standard_normal(normalized_shape), device)]
    gradcheck(lambda *a: F.layer_norm(a[0], normalized_shape, *a[1:]), inputs)


def test_layer_norm_matches_torch(device, rng):
    torch = pytest.importorskip("torch")
    x_np, w_np, b_np = (rng.standard_normal((2, 3, 6)).astype(np.float32),
                        rng.standard_normal(6).astype(np.float32),
                        rng.standard_normal(6).astype(np.float32))
    tensors = [minigrad.tensor(a, device=device, requires_grad=True) for a in (x_np, w_np, b_np)]
    out = F.layer_norm(tensors[0], (6,), tensors[1], tensors[2])
    upstream = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(minigrad.tensor(upstream, device=device))
    refs = [torch.tensor(a, requires_grad=True) for a in (x_np, w_np, b_np)]
    ref = torch.nn.functional.layer_norm(refs[0], (6,), refs[1], refs[2], eps=1e-5)
    ref.backward(torch.tensor(upstream))
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), atol=1e-5)
    for mine, theirs in zip(tensors, refs):
        np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), atol=1e-4)


def test_layer_norm_rejects_wrong_shape(device):
    with pytest.raises(ValueError, match="normalized_shape"):
        F.layer_norm(minigrad.zeros(2, 3, device=device), (4,))


# ---------------------------------------------------------------- embedding
def test_embedding_repeated_indices_add_up(device, rng):
    weight = t64(rng.standard_normal((5, 3)), device)
    idx = ints([[1, 1, 4], [1, 0, 4]], device)
    out = F.embedding(idx, weight)
    np.testing.assert_array_equal(out.detach().numpy(), weight.detach().numpy()[idx.numpy()])
    out.sum().backward()
    # with an all-ones upstream each row's gradient is its use count: 1 x1, 3 x1, 2 x4
    np.testing.assert_array_equal(weight.grad.numpy(),
                                  np.repeat([[1], [3], [0], [0], [2]], 3, axis=1))
    gradcheck(lambda w: F.embedding(idx, w), [t64(rng.standard_normal((5, 3)), device)])


def test_embedding_padding_row_gets_no_gradient(device, rng):
    torch = pytest.importorskip("torch")
    w_np = rng.standard_normal((5, 3))
    idx_np = np.array([[0, 2, 2], [4, 0, 1]])
    weight = t64(w_np, device)
    upstream = rng.standard_normal((2, 3, 3))
    F.embedding(ints(idx_np, device), weight, padding_idx=2).backward(
        minigrad.tensor(upstream, dtype="float64", device=device))
    ref_w = torch.tensor(w_np, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(idx_np), ref_w, padding_idx=2).backward(
        torch.tensor(upstream))
    np.testing.assert_allclose(weight.grad.numpy(), ref_w.grad.numpy(), atol=1e-12)
    assert not weight.grad.numpy()[2].any()


def test_embedding_rejects_out_of_range(device):
    with pytest.raises(IndexError, match="embedding"):
        F.embedding(ints([0, 5], device), minigrad.zeros(5, 2, device=device))
    with pytest.raises(IndexError, match="embedding"):
        F.embedding(ints([-1], device), minigrad.zeros(5, 2, device=device))


# ---------------------------------------------------------------- dropout
def test_dropout_statistics(device):
    p, n = 0.3, 200_000
    x = minigrad.ones(n, device=device, requires_grad=True)
    y = F.dropout(x, p=p, training=True)
    values = y.detach().numpy()
    dropped = values == 0
    # each unit is dropped independently with prob p: the fraction has std sqrt(p(1-p)/n)
    # ~ 0.001, so 0.005 is a 5-sigma bound
    assert abs(dropped.mean() - p) < 0.005
    np.testing.assert_allclose(values[~dropped], 1 / (1 - p), rtol=1e-6)  # inverted scaling
    upstream = np.arange(n, dtype=np.float32)
    y.backward(minigrad.tensor(upstream, device=device))
    # the gradient passes exactly where the forward kept a unit, scaled the same way
    np.testing.assert_allclose(x.grad.numpy(), upstream * values, rtol=1e-6)


def test_dropout_eval_and_edge_probabilities(device):
    x = minigrad.randn(4, 5, device=device)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0, training=True) is x
    assert not F.dropout(x, 1.0, training=True).numpy().any()
    with pytest.raises(ValueError, match="dropout"):
        F.dropout(x, 1.5)


def test_dropout_is_reproducible_with_manual_seed(device):
    x = minigrad.ones(100, device=device)
    minigrad.manual_seed(7)
    first = F.dropout(x, 0.5).numpy()
    minigrad.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x, 0.5).numpy(), first)


def test_dropout_gradcheck(device, rng):
    x = t64(rng.standard_normal((3, 4)), device)
    # reseed inside fn so every evaluation draws the same mask
    def fn(x):
        minigrad.manual_seed(3)
        return F.dropout(x, 0.4)
    gradcheck(fn, [x])


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_all_targets_ignored_gives_nan_loss_and_zero_grad(device, loss):
    # PyTorch: the mean over no counted targets is 0/0 = nan, but the gradient is 0
    x = minigrad.randn(2, 3, device=device, requires_grad=True)
    with np.errstate(invalid="ignore"):
        out = getattr(F, loss)(x, ints([-100, -100], device))
    assert np.isnan(out.item())
    out.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 3)))


def test_pad_is_constant_padding(device):
    out = F.pad(minigrad.ones(2, 2, device=device), (1, 0), value=5.0)
    np.testing.assert_array_equal(out.numpy(), [[5, 1, 1], [5, 1, 1]])
    with pytest.raises(NotImplementedError):
        F.pad(minigrad.ones(2, 2, device=device), (1, 0), mode="reflect")
