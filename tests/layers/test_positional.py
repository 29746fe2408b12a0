"""Positional encodings: the paper's sinusoid formula, learned embeddings, RoPE."""
import numpy as np
import pytest

import minigrad
from minigrad import gradcheck
from layers.positional import (LearnedPositionalEmbedding, PositionalEncoding, Rotary,
                               apply_rotary, rotary_angles, sinusoidal_table)


def test_sinusoidal_table_is_the_papers_formula():
    T, E = 20, 10
    table = sinusoidal_table(T, E, dtype="float64").numpy()
    for pos in (0, 3, 19):
        for i in range(E // 2):
            angle = pos / 10000 ** (2 * i / E)            # section 3.5
            assert table[pos, 2 * i] == pytest.approx(np.sin(angle), abs=1e-12)
            assert table[pos, 2 * i + 1] == pytest.approx(np.cos(angle), abs=1e-12)


def test_sinusoidal_table_odd_size_and_dtype():
    table = sinusoidal_table(4, 5)
    assert table.shape == (4, 5) and table.dtype == np.float32
    np.testing.assert_allclose(table.numpy()[1, 4], np.sin(1 / 10000 ** (4 / 5)), rtol=1e-6)


@pytest.mark.parametrize("batch_first", [False, True])
def test_positional_encoding_adds_the_table_with_offset(rng, batch_first):
    pe = PositionalEncoding(6, dropout=0.0, max_len=10, batch_first=batch_first)
    x = rng.standard_normal((2, 3, 6) if batch_first else (3, 2, 6)).astype(np.float32)
    out = pe(minigrad.tensor(x), offset=4).numpy()
    table = sinusoidal_table(10, 6).numpy()[4:7]
    want = x + (table[None] if batch_first else table[:, None])
    np.testing.assert_allclose(out, want, rtol=1e-6)
    assert list(pe.state_dict()) == []                    # recomputed, not saved
    with pytest.raises(ValueError, match="max_len"):
        pe(minigrad.tensor(x), offset=8)


def test_learned_positional_embedding_gets_gradients(rng):
    emb = LearnedPositionalEmbedding(8, 4)
    x = minigrad.tensor(rng.standard_normal((2, 3, 4)).astype(np.float32))
    emb(x, offset=2).sum().backward()
    grad = emb.weight.grad.numpy()
    np.testing.assert_array_equal(grad[2:5], 2.0)         # used once per batch row
    np.testing.assert_array_equal(grad[[0, 1, 5, 6, 7]], 0.0)


def test_rotary_dot_product_depends_only_on_the_offset(rng):
    hd = 8
    q = rng.standard_normal(hd)
    k = rng.standard_normal(hd)

    def score(m, n):
        qm = apply_rotary(minigrad.tensor(q.reshape(1, 1, 1, hd), dtype="float64"), [m])
        kn = apply_rotary(minigrad.tensor(k.reshape(1, 1, 1, hd), dtype="float64"), [n])
        return float((qm.numpy() * kn.numpy()).sum())
    for shift in (0, 1, 5, 17):
        assert score(3 + shift, 1 + shift) == pytest.approx(score(3, 1), abs=1e-10)
        assert score(shift, 4 + shift) == pytest.approx(score(0, 4), abs=1e-10)
    assert score(3, 1) != pytest.approx(score(3, 2))     # and it does depend on the offset
    assert score(0, 0) == pytest.approx(q @ k)           # position 0 is not rotated


def test_rotary_keeps_norms_and_gradchecks(rng):
    x = minigrad.tensor(rng.standard_normal((2, 2, 5, 6)), dtype="float64", requires_grad=True)
    positions = np.array([[0, 1, 2, 3, 4], [7, 8, 9, 10, 11]])      # (N, T)
    y = apply_rotary(x, positions).detach().numpy()
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1),
                               np.linalg.norm(x.detach().numpy(), axis=-1))
    cos, sin = rotary_angles(positions, 6, dtype="float64", device=x.device)
    gradcheck(lambda x: Rotary.apply(x, cos[:, None], sin[:, None]), [x])
    with pytest.raises(ValueError, match="even"):
        apply_rotary(minigrad.zeros(1, 1, 2, 5), [0, 1])
