"""The lesson data generators: shapes, dtypes, and that each target is what the task defines."""

import datetime
import math

import numpy as np
import pytest

from lessons.tasks import (BASELINE_MSE, CharVocab, adding_problem, batches, copy_memory,
                           copy_memory_baseline, decode_targets, delimiter_id, make_date_dataset,
                           split_dataset, split_stream, stdlib_text, stream_windows, streams)
from lessons.tasks.dates import FIRST_DATE, FORMATS, LAST_DATE, format_choices, render


# ----------------------------------------------------------------------------- adding problem

def test_adding_shapes_markers_and_target():
    x, y = adding_problem(64, 30, np.random.default_rng(0))
    assert x.shape == (64, 30, 2) and y.shape == (64,)
    assert x.dtype == np.float32 and y.dtype == np.float32
    values, markers = x[..., 0], x[..., 1]
    assert ((values >= 0) & (values <= 1)).all()
    assert set(np.unique(markers)) == {0.0, 1.0}
    # exactly one marker in the first half [0, 15) and one in the second [15, 30)
    np.testing.assert_array_equal(markers[:, :15].sum(axis=1), 1)
    np.testing.assert_array_equal(markers[:, 15:].sum(axis=1), 1)
    # the target, recomputed row by row from the marked positions
    for n in range(64):
        marked = np.flatnonzero(markers[n])
        assert y[n] == pytest.approx(values[n, marked[0]] + values[n, marked[1]], abs=1e-6)


def test_adding_odd_length_and_smallest_T():
    x, _ = adding_problem(200, 2, np.random.default_rng(1))
    np.testing.assert_array_equal(x[:, :, 1], 1)       # T = 2: both steps are marked
    x, _ = adding_problem(200, 7, np.random.default_rng(1))
    np.testing.assert_array_equal(x[:, :3, 1].sum(axis=1), 1)   # first half is [0, 3)
    with pytest.raises(ValueError, match="T must be >= 2"):
        adding_problem(1, 1, np.random.default_rng(0))


def test_adding_baseline_is_the_variance_of_the_target():
    # Always predicting 1 = E[y] costs Var(u1 + u2) = 1/6; check the constant against samples.
    assert BASELINE_MSE == pytest.approx(2 / 12)
    _, y = adding_problem(100_000, 8, np.random.default_rng(2))
    assert np.mean((y.astype(np.float64) - 1.0) ** 2) == pytest.approx(BASELINE_MSE, rel=0.02)


def test_adding_is_deterministic_given_seed():
    a = adding_problem(5, 12, np.random.default_rng(7))
    b = adding_problem(5, 12, np.random.default_rng(7))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


# ----------------------------------------------------------------------------- copy memory

@pytest.mark.parametrize("lag", [1, 5, 50])
def test_copy_memory_layout(lag):
    inputs, targets = copy_memory(32, lag, np.random.default_rng(0))
    assert inputs.shape == targets.shape == (32, lag + 20)
    assert inputs.dtype == targets.dtype == np.int64
    symbols = inputs[:, :10]
    assert ((symbols >= 1) & (symbols <= 8)).all()
    np.testing.assert_array_equal(targets[:, -10:], symbols)          # copy = the first 10 symbols
    np.testing.assert_array_equal(targets[:, :-10], 0)
    # one delimiter (9) at step 10 + lag - 1, then exactly 10 blank steps to write in
    np.testing.assert_array_equal((inputs == 9).sum(axis=1), 1)
    np.testing.assert_array_equal(inputs[:, 10 + lag - 1], delimiter_id())
    np.testing.assert_array_equal(inputs[:, 10:10 + lag - 1], 0)
    np.testing.assert_array_equal(inputs[:, -10:], 0)


def test_copy_memory_parameters_and_baseline():
    inputs, targets = copy_memory(4, 3, np.random.default_rng(0), n_symbols=2, n_categories=3)
    assert inputs.shape == (4, 3 + 4)
    np.testing.assert_array_equal(inputs[:, 4], 4)      # delimiter = n_categories + 1
    np.testing.assert_array_equal(targets[:, -2:], inputs[:, :2])
    # 10 steps of uniform guessing over 8 symbols, 0 loss elsewhere, averaged over lag + 20 steps
    assert copy_memory_baseline(100) == pytest.approx(10 * math.log(8) / 120)
    assert copy_memory_baseline(3, n_symbols=2, n_categories=3) == pytest.approx(2 * math.log(3) / 7)


# ----------------------------------------------------------------------------- dates

@pytest.fixture(scope="module")
def dates():
    return make_date_dataset(600, np.random.default_rng(0))


def test_dates_targets_parse_and_match_the_rendered_date(dates):
    assert dates.src.dtype == dates.tgt.dtype == np.int64
    assert dates.src.shape == (600, max(len(s) for s in dates.sources) + 1)
    assert dates.tgt.shape == (600, 12)
    for source, target in zip(dates.sources[:200], dates.targets[:200]):
        date = datetime.date.fromisoformat(target)
        assert FIRST_DATE <= date <= LAST_DATE
        # the source must be one of the renderings of exactly that date
        assert source in {render(date, loc, fmt) for loc, fmt in format_choices()}


def test_dates_encoding_round_trips(dates):
    assert decode_targets(dates.tgt) == dates.targets
    assert [dates.source_vocab.decode(row) for row in dates.src] == dates.sources
    tv = dates.target_vocab
    assert (dates.tgt[:, 0] == tv.bos).all() and (dates.tgt[:, -1] == tv.eos).all()
    # each source row: characters, one <eos>, then only <pad>
    lengths = np.array([len(s) for s in dates.sources])
    np.testing.assert_array_equal(dates.src[np.arange(600), lengths], dates.source_vocab.eos)
    assert ((np.arange(dates.src.shape[1]) > lengths[:, None]) == (dates.src == 0)).all()


def test_dates_are_multilingual(dates):
    assert any(not s.isascii() for s in dates.sources)
    assert "Samstag, 7. März 1998" == render(datetime.date(1998, 3, 7), "de_DE", "full")
    assert any(ch in "".join(dates.sources) for ch in "äöüéñçł")
    # German, French and Finnish month names each show up in a sample this size
    words = " ".join(dates.sources)
    assert any(m in words for m in ("Januar", "März", "Oktober", "Dezember"))
    assert any(m in words for m in ("janvier", "mars", "octobre", "décembre"))
    assert "kuuta" in words


def test_no_date_string_has_two_answers():
    # Day/month swaps are where numeric formats collide (3/7/98 in en_US vs es_ES): render every
    # day <= 12 of every month in every locale and format, and require one date per string.
    owner = {}
    for month in range(1, 13):
        for day in range(1, 13):
            date = datetime.date(1998, month, day)
            for loc, fmt in format_choices():
                text = render(date, loc, fmt)
                assert owner.setdefault(text, date) == date, (text, owner[text], date, loc, fmt)


def test_dates_deterministic_max_len_and_split():
    a = make_date_dataset(50, np.random.default_rng(3), max_len=16)
    b = make_date_dataset(50, np.random.default_rng(3), max_len=16)
    assert a.sources == b.sources
    np.testing.assert_array_equal(a.src, b.src)
    assert a.src.shape == (50, 16) and max(len(s) for s in a.sources) <= 15
    only_de = make_date_dataset(20, np.random.default_rng(3), locales=["de_DE"])
    for source, target in zip(only_de.sources, only_de.targets):
        date = datetime.date.fromisoformat(target)
        assert source in {render(date, "de_DE", fmt) for fmt in FORMATS}
    train, test = split_dataset(make_date_dataset(400, np.random.default_rng(4)), 0.25)
    assert len(train.sources) == 300 and 0 < len(test.sources) <= 100
    assert not set(train.sources) & set(test.sources)
    assert train.src.shape[0] == train.tgt.shape[0] == 300


def test_unknown_characters_encode_as_unk():
    vocab = CharVocab("ab")
    assert vocab.encode("abz", bos=True, eos=True) == [vocab.bos, 4, 5, vocab.unk, vocab.eos]
    assert vocab.decode([vocab.bos, 4, vocab.unk, 5, vocab.eos, 4]) == "a\ufffdb"


# ----------------------------------------------------------------------------- stdlib text

@pytest.fixture(scope="module")
def corpus():
    return stdlib_text(max_chars=200_000)


def test_stdlib_corpus_is_python_and_deterministic(corpus):
    assert len(corpus) == 200_000
    assert "def " in corpus and "import " in corpus
    assert stdlib_text(max_chars=5_000) == corpus[:5_000]


def test_char_vocab_round_trip(corpus):
    vocab = CharVocab.from_text(corpus)
    ids = vocab.encode_array(corpus)
    assert ids.shape == (len(corpus),) and ids.dtype == np.int64
    assert vocab.decode(ids[:10_000]) == corpus[:10_000]
    rare = CharVocab.from_text("aaab", min_count=2)
    assert rare.decode(rare.encode("ab")) == "a\ufffd"


def test_batches_targets_are_inputs_shifted_by_one(corpus):
    vocab = CharVocab.from_text(corpus)
    ids = vocab.encode_array(corpus)
    x, y = batches(ids, 16, 64, np.random.default_rng(0))
    assert x.shape == y.shape == (16, 64) and x.dtype == y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    # each row, with its last target appended, is a real 65-character stretch of the text
    for row_x, row_y in zip(x, y):
        assert vocab.decode(np.append(row_x, row_y[-1])) in corpus
    # every start position, the last one included, can be drawn
    tiny = np.arange(5)
    x, y = batches(tiny, 200, 4, np.random.default_rng(0))
    assert set(x[:, 0]) == {0} and set(y[:, -1]) == {4}
    x, _ = batches(np.arange(6), 200, 4, np.random.default_rng(0))
    assert set(x[:, 0]) == {0, 1}


def test_streams_and_windows_cover_the_text_in_order():
    ids = np.arange(103)
    rows = streams(ids, 4)                                   # (N=4, L=25), 3 ids dropped
    assert rows.shape == (4, 25)
    np.testing.assert_array_equal(rows[1], np.arange(25, 50))
    windows = list(stream_windows(rows, 10))
    assert [w[0].shape[1] for w in windows] == [10, 10, 4]   # 24 (x, y) pairs per row
    xs = np.concatenate([x for x, _ in windows], axis=1)
    ys = np.concatenate([y for _, y in windows], axis=1)
    np.testing.assert_array_equal(xs, rows[:, :-1])
    np.testing.assert_array_equal(ys, rows[:, 1:])
    train, val = split_stream(ids, 0.1)
    assert len(val) == 10 and np.array_equal(np.concatenate([train, val]), ids)


# ----------------------------------------------------------------------------- lesson 7's machinery

def _walk(job, report):
    """A stand-in for lesson 7's walk: reports each 'run' it does, then stops."""
    rng = np.random.default_rng(job)                 # each job seeds its own generator
    for step in range(3):
        report(("run", job, step, float(rng.standard_normal())))


def _broken(job, report):
    report(("run", job, 0, 0.0))
    raise ValueError(f"job {job} breaks on purpose")


def test_run_jobs_gives_the_same_messages_in_processes_as_in_order():
    from lessons._long_range import run_jobs
    in_order, parallel = [], []
    run_jobs([1, 2, 3], _walk, 1, in_order.append)
    run_jobs([1, 2, 3], _walk, 2, parallel.append)
    assert sorted(parallel) == sorted(in_order) and len(in_order) == 9
    for job in (1, 2, 3):                            # each job's own messages keep their order
        assert [m for m in parallel if m[1] == job] == [m for m in in_order if m[1] == job]


def test_run_jobs_reports_a_failing_job_with_its_traceback():
    from lessons._long_range import run_jobs
    with pytest.raises(RuntimeError, match="breaks on purpose"):
        run_jobs([1, 2], _broken, 2, lambda message: None)


def test_train_until_stops_at_the_first_check_that_passes():
    import minigrad
    from lessons._long_range import HeldOutCheck, make_model, train_until

    class PassesAt:
        """A check that passes from its k-th call on (the model is not looked at)."""
        def __init__(self, every, k):
            self.every, self.k, self.calls = every, k, 0

        def passed(self, model):
            self.calls += 1
            return self.calls >= self.k

    minigrad.manual_seed(0)
    model = make_model("rnn", "adding", 6, np.random.default_rng(0), hidden_size=4, d_model=4)
    steps, passed, losses, _ = train_until(model, "adding", "rnn", 6, np.random.default_rng(1),
                                           PassesAt(every=5, k=3), 100, 8, 1e-2, 1.0, "cpu")
    assert (steps, passed, len(losses)) == (15, True, 15)
    steps, passed, losses, _ = train_until(model, "adding", "rnn", 6, np.random.default_rng(1),
                                           PassesAt(every=5, k=99), 12, 8, 1e-2, 1.0, "cpu")
    assert (steps, passed, len(losses)) == (12, False, 12)
    # the real check scores a fixed held-out set: the same metric twice for the same model
    check = HeldOutCheck("adding", "rnn", 6, 32, seed=5, device="cpu", every=5)
    check.passed(model), check.passed(model)
    assert check.history[0][1] == check.history[1][1] and check.history[1][0] == 10
