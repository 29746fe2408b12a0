"""The three recall tasks of lesson 13, checked against their papers' definitions."""
import numpy as np
import pytest

from lessons.tasks.associative_recall import IGNORE, associative_recall
from lessons.tasks.induction_heads import induction_heads, special_id
from lessons.tasks.selective_copy import NOISE, marker_id, selective_copy


# ----------------------------------------------------------------------------- selective copy

def test_selective_copy_layout():
    n, L, M, V = 50, 40, 6, 10
    inputs, targets = selective_copy(n, L, M, V, np.random.default_rng(0))
    assert inputs.shape == (n, L + M) and targets.shape == (n, M)
    assert (inputs[:, L:] == marker_id(V)).all()                  # M markers at the end
    body = inputs[:, :L]
    assert not (body == marker_id(V)).any()
    assert ((targets >= 1) & (targets <= V - 2)).all()            # data ids only
    for row, target in zip(body, targets):
        data = row[row != NOISE]                                  # the data tokens, in order
        np.testing.assert_array_equal(data, target)


def test_selective_copy_positions_are_random_and_spread():
    inputs, _ = selective_copy(400, 30, 4, 8, np.random.default_rng(1))
    first = (inputs[:, :30] != NOISE).argmax(axis=1)
    assert len(np.unique(first)) > 5                              # not always at the front
    counts = (inputs[:, :30] != NOISE).sum(axis=0)
    assert counts.min() > 0                                       # every step is used sometimes


def test_selective_copy_repeats_with_seed_and_rejects_bad_input():
    a = selective_copy(3, 20, 4, 8, np.random.default_rng(5))
    b = selective_copy(3, 20, 4, 8, np.random.default_rng(5))
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(ValueError, match="length >= n_tokens"):
        selective_copy(2, 3, 4, 8, np.random.default_rng(0))
    with pytest.raises(ValueError, match="vocab_size"):
        selective_copy(2, 10, 4, 2, np.random.default_rng(0))


# ----------------------------------------------------------------------------- MQAR

def test_associative_recall_pairs_and_queries():
    n, T, D, V = 40, 64, 8, 64
    inputs, targets = associative_recall(n, T, D, V, np.random.default_rng(0))
    assert inputs.shape == targets.shape == (n, T)
    for x, y in zip(inputs, targets):
        keys, values = x[0:2 * D:2], x[1:2 * D:2]
        assert len(set(keys)) == D and len(set(values)) == D      # distinct keys, values
        assert ((keys >= 1) & (keys < V // 2)).all() and ((values >= V // 2) & (values < V)).all()
        lookup = dict(zip(keys, values))
        queries = np.flatnonzero(y != IGNORE)
        assert len(queries) == D                                  # each key queried once
        assert (queries >= 2 * D).all() and ((queries - 2 * D) % 2 == 0).all()
        for t in queries:
            assert y[t] == lookup[x[t]]                           # the target is the key's value
        assert (y[:2 * D] == IGNORE).all()


def test_associative_recall_short_gaps_more_likely():
    # p(g) ~ g^(a-1) with a = 0.01: the first query slot is ~ 2x likelier than the second, etc.
    _, targets = associative_recall(2000, 64, 2, 64, np.random.default_rng(2))
    offsets = (np.argwhere(targets != IGNORE)[:, 1] - 4) // 2
    counts = np.bincount(offsets, minlength=30)
    assert counts[0] > counts[5] > counts[25]


def test_associative_recall_non_queries_random_or_zero():
    inputs, targets = associative_recall(10, 32, 4, 32, np.random.default_rng(3),
                                         random_non_queries=False)
    rest = inputs[:, 8:][targets[:, 8:] == IGNORE]
    assert (rest == 0).all()
    with pytest.raises(ValueError, match="too small"):
        associative_recall(2, 64, 8, 16, np.random.default_rng(0))
    with pytest.raises(ValueError, match="even length"):
        associative_recall(2, 30, 8, 64, np.random.default_rng(0))


# ----------------------------------------------------------------------------- induction heads

def test_induction_heads_answer_follows_first_special():
    n, T, V = 200, 50, 16
    inputs, answers = induction_heads(n, T, V, np.random.default_rng(0))
    s = special_id(V)
    assert inputs.shape == (n, T) and answers.shape == (n,)
    assert (inputs[:, -1] == s).all()
    for x, answer in zip(inputs, answers):
        where = np.flatnonzero(x == s)
        assert len(where) == 2 and where[1] == T - 1              # once inside, once at the end
        assert x[where[0] + 1] == answer != s
    assert len(np.unique(answers)) == V - 1                       # every ordinary token occurs


def test_induction_heads_rejects_bad_input():
    with pytest.raises(ValueError, match="length >= 3"):
        induction_heads(2, 2, 16, np.random.default_rng(0))
