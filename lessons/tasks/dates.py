"""Date translation: human-written dates in many languages -> ISO 8601 ``YYYY-MM-DD``.

"Samstag, 7. März 1998" -> "1998-03-07", "3/7/98" -> ... The sources are real date strings,
rendered by Babel (``babel.dates.format_date``) from the Unicode CLDR data it ships (nothing is
downloaded): CLDR's 'short', 'medium', 'long' and 'full' formats of each locale plus a few
patterns in CLDR pattern syntax (https://unicode.org/reports/tr35/tr35-dates.html). A small
character-level sequence-to-sequence task in the spirit of the date-normalisation exercise of
Ng's Deep Learning course (after Bahdanau, Cho & Bengio, ICLR 2015): short enough to train in
minutes, hard enough to need attention, and every answer is checkable.

Two choices keep every source string a single, well-defined answer:
- Dates are drawn uniformly from FIRST_DATE..LAST_DATE, exactly 100 years, so a two-digit year
  ("07.03.98") names one year (98 -> 1998, 05 -> 2005).
- The one month-first numeric format (en_US 'short', M/d/yy) is left out: "3/7/98" would mean
  7 March in es_ES (d/M/yy) and 3 July in en_US. Every other numeric format here is day-first
  or year-first. tests/lessons/test_tasks.py checks that no string maps to two dates.

Encoding: source ids = characters + <eos>, padded with <pad> (0) to S; target ids =
<bos> + "YYYY-MM-DD" + <eos> (T = 12). Teacher forcing feeds tgt[:, :-1] and predicts tgt[:, 1:].
"""

import datetime
from typing import NamedTuple

import numpy as np

from lessons.tasks.vocab import CharVocab

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR",
           "sv_SE", "pl_PL", "da_DK", "fi_FI", "cs_CZ", "tr_TR", "ro_RO", "hu_HU")
FORMATS = ("short", "medium", "long", "full",               # CLDR's own formats per locale
           "d MMM y", "MMM d, y", "EEE, d MMMM y", "dd.MM.y", "y/MM/dd")   # CLDR patterns
EXCLUDED = frozenset({("en_US", "short")})   # M/d/yy: collides with the day-first d/M/yy of es_ES
FIRST_DATE = datetime.date(1950, 1, 1)
LAST_DATE = datetime.date(2049, 12, 31)      # 100 years: two-digit years stay unambiguous
TARGET_CHARS = "0123456789-"
TARGET_LEN = 12                               # <bos> + 10 characters + <eos>


class DateDataset(NamedTuple):
    """Encoded examples and what they came from.

    src (N, S) int64 source ids; tgt (N, T) int64 target ids (T = 12);
    source_vocab, target_vocab (CharVocab); sources, targets: the N strings.
    """

    src: np.ndarray
    tgt: np.ndarray
    source_vocab: CharVocab
    target_vocab: CharVocab
    sources: list
    targets: list


def target_vocab():
    """The ISO side's vocabulary: specials, then digits and '-' (V = 15)."""
    return CharVocab(TARGET_CHARS)


def format_choices(locales=None, formats=FORMATS):
    """The (locale, format) pairs examples are drawn from, in a fixed order."""
    locales = LOCALES if locales is None else tuple(locales)
    return [(loc, fmt) for loc in locales for fmt in formats if (loc, fmt) not in EXCLUDED]


def render(date, locale, fmt):
    """One source string: ``date`` written by Babel in ``locale`` with ``fmt``."""
    from babel.dates import format_date   # imported here: lessons.tasks loads without the extra
    return format_date(date, format=fmt, locale=locale)


def sample_dates(n, rng, locales=None):
    """``n`` examples as (source string, datetime.date, locale, format), drawn with ``rng``."""
    choices = format_choices(locales)
    days = rng.integers(FIRST_DATE.toordinal(), LAST_DATE.toordinal() + 1, size=n)
    picks = rng.integers(0, len(choices), size=n)
    examples = []
    for day, pick in zip(days, picks):
        date = datetime.date.fromordinal(int(day))
        locale, fmt = choices[pick]
        examples.append((render(date, locale, fmt), date, locale, fmt))
    return examples


def encode_sources(texts, vocab, S):
    """(N, S) int64: each text's ids + <eos>, padded with <pad>; ValueError if one is too long."""
    out = np.full((len(texts), S), vocab.pad, dtype=np.int64)
    for i, text in enumerate(texts):
        ids = vocab.encode(text, eos=True)
        if len(ids) > S:
            raise ValueError(f"encode_sources: {text!r} needs {len(ids)} ids with <eos>, S is {S}")
        out[i, :len(ids)] = ids
    return out


def make_date_dataset(n, rng, locales=None, max_len=None, source_vocab=None):
    """``n`` encoded date-translation examples, deterministic for a given ``rng`` state.

    Inputs: n (N); rng (numpy Generator); locales (default LOCALES); max_len: the largest S
    allowed (sources longer than max_len - 1 characters are skipped and redrawn; default: no
    limit, S = the longest source + 1); source_vocab: reuse a vocabulary (default: built from
    these sources; characters it lacks encode as <unk>).
    Returns: DateDataset with src (N, S), tgt (N, 12).
    """
    examples = []
    while len(examples) < n:
        drawn = sample_dates(max(n - len(examples), 64), rng, locales)
        fitting = [e for e in drawn if max_len is None or len(e[0]) + 1 <= max_len]
        if not fitting:
            raise ValueError(f"make_date_dataset: max_len={max_len} leaves no room for any date "
                             f"string (the shortest are about 8 characters + <eos>)")
        examples += fitting[:n - len(examples)]
    sources = [e[0] for e in examples]
    targets = [e[1].isoformat() for e in examples]
    if source_vocab is None:
        source_vocab = CharVocab("".join(sources))
    S = max_len if max_len is not None else max(len(s) for s in sources) + 1
    tgt_vocab = target_vocab()
    src = encode_sources(sources, source_vocab, S)                    # (N, S)
    tgt = np.array([tgt_vocab.encode(t, bos=True, eos=True) for t in targets], dtype=np.int64)
    return DateDataset(src, tgt, source_vocab, tgt_vocab, sources, targets)   # tgt: (N, 12)


def split_dataset(data, test_fraction=0.1):
    """(train, test): the last ``test_fraction`` of rows is the test set, minus any row whose
    source string also occurs in the training rows, so test accuracy measures generalisation.

    Rows are drawn independently, so the tail is as random as any other subset.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"split_dataset: test_fraction must be in (0, 1), got {test_fraction}")
    n_train = len(data.sources) - int(round(len(data.sources) * test_fraction))
    seen = set(data.sources[:n_train])
    test_rows = [i for i in range(n_train, len(data.sources)) if data.sources[i] not in seen]

    def subset(rows):
        rows = np.asarray(rows, dtype=np.int64)
        return DateDataset(data.src[rows], data.tgt[rows], data.source_vocab, data.target_vocab,
                           [data.sources[i] for i in rows], [data.targets[i] for i in rows])

    return subset(range(n_train)), subset(test_rows)


def decode_targets(ids, vocab=None):
    """ISO strings from (N, T) target ids (predictions or references), stopping at <eos>."""
    vocab = vocab or target_vocab()
    return [vocab.decode(row) for row in ids]      # decode drops <bos>/<pad> and stops at <eos>
