"""Training and scoring for lessons 12 and 13: token tasks with targets at some steps only.

Every task gives ``(inputs (N, T) ids, targets (N, T) ids)`` with IGNORE (-100) where nothing
is scored; the loss is the cross-entropy of the scored steps, the metric their accuracy.
numpy is used here for host-side data only.
"""
import time

import numpy as np

import minigrad
import minigrad.nn.functional as F
from lessons.tasks.associative_recall import IGNORE, associative_recall
from lessons.tasks.induction_heads import induction_heads
from lessons.tasks.selective_copy import selective_copy


def selective_copy_batch(n, length, n_tokens, vocab_size, rng):
    """Selective copying as (inputs (N, L+M), targets (N, L+M)): the tokens at the M markers."""
    inputs, tokens = selective_copy(n, length, n_tokens, vocab_size, rng)
    targets = np.full(inputs.shape, IGNORE, dtype=np.int64)
    targets[:, -n_tokens:] = tokens
    return inputs, targets


def induction_batch(n, length, vocab_size, rng):
    """Induction heads as (inputs (N, T), targets (N, T)): the answer at the last step."""
    inputs, answers = induction_heads(n, length, vocab_size, rng)
    targets = np.full(inputs.shape, IGNORE, dtype=np.int64)
    targets[:, -1] = answers
    return inputs, targets


def recall_batch(n, length, n_pairs, vocab_size, rng):
    """MQAR (already in this form): the value at each query step."""
    return associative_recall(n, length, n_pairs, vocab_size, rng)


def scored_loss(model, inputs, targets, device):
    """Mean cross-entropy over the scored steps; also the logits (N, T, V)."""
    logits = model(minigrad.tensor(inputs, device=device))
    V = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, V), minigrad.tensor(targets.reshape(-1),
                                                                  device=device)), logits


def train(model, batch_fn, steps, lr, rng, device, bar=None, max_norm=1.0, warmup=0.1,
          loss_fn=None):
    """Adam on fresh batches ``batch_fn(rng)``; linear warm-up then cosine decay of ``lr``.

    ``loss_fn(model, inputs, targets, device) -> (loss, output)``, default ``scored_loss``.

    Returns (losses: one per step, CPU seconds per step of this process).
    """
    params = list(model.parameters())
    optimizer = minigrad.optim.Adam(params, lr=lr)
    losses = []
    model.train()
    start = time.process_time()
    warm = max(1, int(warmup * steps))
    for step in range(steps):
        scale = (step + 1) / warm if step < warm else \
            0.5 * (1 + np.cos(np.pi * (step - warm) / max(1, steps - warm)))
        for group in optimizer.param_groups:
            group["lr"] = lr * max(scale, 0.02)
        inputs, targets = batch_fn(rng)
        loss, _ = (loss_fn or scored_loss)(model, inputs, targets, device)
        optimizer.zero_grad()
        loss.backward()
        minigrad.optim.clip_grad_norm_(params, max_norm)
        optimizer.step()
        losses.append(loss.item())
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
    return losses, (time.process_time() - start) / steps


def accuracy(model, batch_fn, n, rng, device, chunk=32):
    """Fraction of scored steps predicted right on ``n`` fresh sequences (in chunks)."""
    right = total = 0
    model.eval()
    with minigrad.no_grad():
        for start in range(0, n, chunk):
            inputs, targets = batch_fn(rng, min(chunk, n - start))
            logits = model(minigrad.tensor(inputs, device=device)).numpy()
            scored = targets != IGNORE
            right += int((logits.argmax(-1)[scored] == targets[scored]).sum())
            total += int(scored.sum())
    model.train()
    return right / total
