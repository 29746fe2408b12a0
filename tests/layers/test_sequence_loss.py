"""Tests of layers/sequence_loss.py: padded steps contribute nothing.

Expected values: the same loss over the unpadded sequences concatenated (computed here with
NumPy, so independently of the masking), exact zeros in the gradient of padded steps, and
invariance to whatever the padding holds; torch's cross_entropy with ignore_index as a second
opinion.
"""
import numpy as np
import pytest

import minigrad as mg
from layers.sequence_loss import sequence_cross_entropy, sequence_mask, sequence_mse

N, T, V, F = 3, 6, 5, 2
LENGTHS = [6, 2, 4]                     # one full, two padded sequences


def log_softmax_np(x):
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def ce_concatenated(logits, targets, lengths):
    """Mean -log p[y] over the real tokens, each sequence cut to its length and concatenated
    (logits (N, T, V), targets (N, T)): the definition the padded loss must equal."""
    real_logits = np.concatenate([logits[n, :l] for n, l in enumerate(lengths)])   # (sum l, V)
    real_targets = np.concatenate([targets[n, :l] for n, l in enumerate(lengths)])
    logp = log_softmax_np(real_logits)
    return -logp[np.arange(len(real_targets)), real_targets].mean()


def data(rng):
    return rng.standard_normal((N, T, V)), rng.integers(0, V, size=(N, T))


def test_sequence_mask_values(device):
    mask = sequence_mask(mg.tensor([3, 0, 5]), 5, device=device).numpy()
    expected = np.array([[1, 1, 1, 0, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    np.testing.assert_array_equal(mask, expected)


def test_sequence_mask_rejects_bad_lengths():
    with pytest.raises(ValueError, match=r"lengths must lie in \[0, T=4\]"):
        sequence_mask([2, 5], 4)
    with pytest.raises(ValueError, match="1-dim sequence of ints"):
        sequence_mask([[1, 2]], 4)


@pytest.mark.parametrize("batch_first", [True, False])
def test_cross_entropy_equals_loss_over_unpadded_concatenation(device, rng, batch_first):
    logits, targets = data(rng)
    expected = ce_concatenated(logits, targets, LENGTHS)
    lx, ty = (logits, targets) if batch_first else (logits.swapaxes(0, 1), targets.swapaxes(0, 1))
    loss = sequence_cross_entropy(mg.tensor(lx, dtype="float64", device=device),
                                  mg.tensor(ty, device=device), lengths=LENGTHS,
                                  batch_first=batch_first)
    assert abs(loss.item() - expected) < 1e-12


def test_cross_entropy_mask_equals_lengths(rng):
    logits, targets = data(rng)
    mask = sequence_mask(LENGTHS, T)
    args = mg.tensor(logits, dtype="float64"), mg.tensor(targets)
    assert sequence_cross_entropy(*args, mask=mask).item() == \
        sequence_cross_entropy(*args, lengths=LENGTHS).item()


def test_cross_entropy_padded_steps_get_exactly_zero_gradient(device, rng):
    logits, targets = data(rng)
    x = mg.tensor(logits, dtype="float64", device=device, requires_grad=True)
    sequence_cross_entropy(x, mg.tensor(targets, device=device), lengths=LENGTHS).backward()
    grad = x.grad.numpy()
    padded = ~sequence_mask(LENGTHS, T).numpy()
    assert np.all(grad[padded] == 0.0)
    assert np.all(np.abs(grad[~padded]).sum(axis=-1) > 0)        # real steps do get gradient
    # d(mean CE)/dlogits at a real step = (softmax - onehot) / (number of real tokens)
    n_real = sum(LENGTHS)
    p = np.exp(log_softmax_np(logits))
    onehot = np.eye(V)[targets]
    np.testing.assert_allclose(grad[~padded], ((p - onehot) / n_real)[~padded], atol=1e-14)


def test_cross_entropy_padding_content_changes_nothing(rng):
    logits, targets = data(rng)
    padded = ~sequence_mask(LENGTHS, T).numpy()
    other_logits, other_targets = logits.copy(), targets.copy()
    other_logits[padded] = rng.standard_normal((padded.sum(), V)) * 50
    other_targets[padded] = (targets[padded] + 1) % V
    losses, grads = [], []
    for lg, tg in ((logits, targets), (other_logits, other_targets)):
        x = mg.tensor(lg, dtype="float64", requires_grad=True)
        loss = sequence_cross_entropy(x, mg.tensor(tg), lengths=LENGTHS)
        loss.backward()
        losses.append(loss.item())
        grads.append(x.grad.numpy())
    assert losses[0] == losses[1]
    np.testing.assert_array_equal(grads[0], grads[1])


def test_cross_entropy_reductions(rng):
    logits, targets = data(rng)
    args = mg.tensor(logits, dtype="float64"), mg.tensor(targets)
    per_step = sequence_cross_entropy(*args, lengths=LENGTHS, reduction="none").numpy()
    assert per_step.shape == (N, T)
    padded = ~sequence_mask(LENGTHS, T).numpy()
    assert np.all(per_step[padded] == 0.0)
    logp = log_softmax_np(logits)
    expected = -np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
    np.testing.assert_allclose(per_step[~padded], expected[~padded], rtol=1e-12)
    total = sequence_cross_entropy(*args, lengths=LENGTHS, reduction="sum").item()
    assert abs(total - expected[~padded].sum()) < 1e-12


def test_cross_entropy_without_mask_is_plain_mean(rng):
    logits, targets = data(rng)
    loss = sequence_cross_entropy(mg.tensor(logits, dtype="float64"), mg.tensor(targets))
    assert abs(loss.item() - ce_concatenated(logits, targets, [T] * N)) < 1e-12


def test_cross_entropy_matches_torch_ignore_index(rng):
    torch = pytest.importorskip("torch")
    logits, targets = data(rng)
    padded = ~sequence_mask(LENGTHS, T).numpy()
    torch_targets = np.where(padded, -100, targets)
    tx = torch.tensor(logits, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(tx.reshape(-1, V), torch.tensor(torch_targets).reshape(-1))
    expected.backward()
    x = mg.tensor(logits, dtype="float64", requires_grad=True)
    loss = sequence_cross_entropy(x, mg.tensor(targets), lengths=LENGTHS)
    loss.backward()
    assert abs(loss.item() - expected.item()) < 1e-12
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-14)


def test_cross_entropy_shape_errors():
    with pytest.raises(ValueError, match=r"expected logits and targets of shapes \(N, T, V\)"):
        sequence_cross_entropy(mg.zeros(2, 3, 4), mg.tensor(np.zeros((3, 2), dtype=np.int64)))
    with pytest.raises(ValueError, match="lengths or mask, not both"):
        sequence_cross_entropy(mg.zeros(2, 3, 4), mg.tensor(np.zeros((2, 3), dtype=np.int64)),
                               lengths=[1, 2], mask=sequence_mask([1, 2], 3))


@pytest.mark.parametrize("batch_first", [True, False])
def test_mse_equals_unpadded_and_zero_gradient(device, rng, batch_first):
    pred, target = rng.standard_normal((N, T, F)), rng.standard_normal((N, T, F))
    real = sequence_mask(LENGTHS, T).numpy()
    expected = np.mean(np.concatenate([(pred[n, :l] - target[n, :l]) ** 2
                                       for n, l in enumerate(LENGTHS)]))
    pred_nan = pred.copy()
    pred_nan[~real] = np.nan                          # padding content must not leak in
    px, tx = (pred_nan, target) if batch_first else (pred_nan.swapaxes(0, 1), target.swapaxes(0, 1))
    x = mg.tensor(px, dtype="float64", device=device, requires_grad=True)
    loss = sequence_mse(x, mg.tensor(tx, dtype="float64", device=device), lengths=LENGTHS,
                        batch_first=batch_first)
    loss.backward()
    assert abs(loss.item() - expected) < 1e-12
    grad = x.grad.numpy() if batch_first else x.grad.numpy().swapaxes(0, 1)
    assert np.all(grad[~real] == 0.0)
    # d/dpred of the mean over sum(l) * F squares: 2 (pred - target) / (sum(l) * F)
    np.testing.assert_allclose(grad[real], (2 * (pred - target) / (sum(LENGTHS) * F))[real],
                               rtol=1e-12)


def test_mse_gradcheck(rng):
    pred = mg.tensor(rng.standard_normal((N, T, F)), dtype="float64", requires_grad=True)
    target = mg.tensor(rng.standard_normal((N, T, F)), dtype="float64")
    mg.gradcheck(lambda p: sequence_mse(p, target, lengths=LENGTHS), [pred])
