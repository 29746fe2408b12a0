"""Lessons 12 and 13's models and training helpers on every device (``--device cuda``).

The lessons' quick runs are checked on the CPU (test_lessons_quick.py). This runs what they
run, at toy sizes, on each backend of the ``device`` fixture: "guard" is NumPy behind a
CuPy-like wall, so a stray ``numpy`` call on tensor data fails here as it would on a GPU,
and "cuda" runs where CuPy and a GPU are present (.ci/gpu).
"""
import numpy as np
import pytest

import minigrad
from lessons._modern_models import KINDS, SequenceModel, state_bytes
from lessons._modern_training import (accuracy, induction_batch, recall_batch,
                                      selective_copy_batch, train)
from minigrad import backend


@pytest.mark.parametrize("kind", KINDS)
def test_a_lesson_model_trains_scores_and_generates_on_the_device(kind, device):
    model = SequenceModel(kind, vocab_size=10, embed_dim=8, num_layers=2, num_heads=2,
                          d_state=4).to(device)
    batch = lambda rng, n=4: selective_copy_batch(n, 12, 3, 10, rng)      # (4, 15) ids
    losses, cpu = train(model, batch, 3, 1e-2, np.random.default_rng(0), device)
    assert len(losses) == 3 and all(np.isfinite(losses)) and cpu >= 0
    assert all(backend.device_of(p.data) == device for p in model.parameters())
    acc = accuracy(model, batch, 6, np.random.default_rng(1), device, chunk=4)
    assert 0.0 <= acc <= 1.0

    # one model, run in parallel and token by token: the same logits
    tokens = np.random.default_rng(2).integers(0, 10, size=(2, 7))
    model.eval()
    with minigrad.no_grad():
        parallel = model(minigrad.tensor(tokens, device=device)).numpy()        # (2, 7, 10)
        state, steps = model.new_state(2), []
        for t in range(7):
            logits, state = model.step(minigrad.tensor(tokens[:, t], device=device), state)
            steps.append(logits.numpy())
    np.testing.assert_allclose(np.stack(steps, axis=1), parallel, rtol=1e-3, atol=1e-4)
    assert state_bytes(state) > 0


@pytest.mark.parametrize("make_batch", [
    lambda rng, n: recall_batch(n, 16, 2, 8, rng),
    lambda rng, n: induction_batch(n, 16, 6, rng),
], ids=["recall", "induction"])
def test_the_other_tasks_train_on_the_device(make_batch, device):
    model = SequenceModel("mamba", vocab_size=8, embed_dim=8, d_state=4).to(device)
    losses, _ = train(model, lambda rng, n=4: make_batch(rng, n), 2, 1e-2,
                      np.random.default_rng(0), device)
    assert all(np.isfinite(losses))
