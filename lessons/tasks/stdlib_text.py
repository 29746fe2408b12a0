"""A character-level corpus: the Python standard library's own source code.

Every machine that runs these lessons has it, nothing is downloaded, and code has structure at
every range a language model can learn: indentation and brackets over a few characters,
identifiers over tens, ``def``/``return`` and docstrings over hundreds (Karpathy, "The
Unreasonable Effectiveness of Recurrent Neural Networks", 2015, trains on Linux kernel C source
for the same reason).

The corpus is the ``.py`` files under ``sysconfig.get_paths()["stdlib"]``, in sorted path order,
leaving out test suites and installed packages (folders named test, tests, idle_test,
site-packages, dist-packages) and any file that does not decode as UTF-8, joined by newlines and
cut at ``max_chars``. It is deterministic for a given Python version (3.11 and 3.12 differ).

Next-character prediction: inputs ids[t : t + T], targets ids[t + 1 : t + T + 1].
"""

import os
import sysconfig
from pathlib import Path

import numpy as np

SKIPPED_FOLDERS = frozenset({"test", "tests", "idle_test", "site-packages", "dist-packages",
                             "__pycache__"})
DEFAULT_MAX_CHARS = 2_000_000


def stdlib_files():
    """The corpus files, sorted by their path below the standard-library folder."""
    root = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [d for d in subfolders if d not in SKIPPED_FOLDERS]   # prune, don't descend
        found += [Path(folder, name) for name in names if name.endswith(".py")]
    return sorted(found, key=lambda path: path.relative_to(root).parts)


def stdlib_text(max_chars=DEFAULT_MAX_CHARS):
    """The corpus as one string of at most ``max_chars`` characters (None: all, about 12 MB)."""
    pieces, total = [], 0
    for path in stdlib_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):    # a few legacy files; skipping keeps one encoding
            continue
        pieces.append(text)
        total += len(text) + 1
        if max_chars is not None and total >= max_chars:
            break
    corpus = "\n".join(pieces)
    return corpus if max_chars is None else corpus[:max_chars]


def split_stream(ids, val_fraction=0.1):
    """(train, val): the first part and the last ``val_fraction`` of a 1-D id array.

    A contiguous split, not a random one: random windows would overlap the training text.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"split_stream: val_fraction must be in (0, 1), got {val_fraction}")
    cut = len(ids) - int(len(ids) * val_fraction)
    return ids[:cut], ids[cut:]


def batches(ids, batch_size, seq_len, rng):
    """One batch of random windows for next-character prediction.

    Inputs: ids (L,) int array; batch_size (N); seq_len (T); rng (numpy Generator).
    Returns: x (N, T) int64, y (N, T) int64 with y[:, t] = x[:, t + 1] (the next character).
    """
    ids = np.asarray(ids)
    if len(ids) < seq_len + 1:
        raise ValueError(f"batches: need at least seq_len + 1 = {seq_len + 1} ids, got {len(ids)}")
    starts = rng.integers(0, len(ids) - seq_len, size=batch_size)      # (N,) last start L-T-1
    window = starts[:, None] + np.arange(seq_len)                      # (N, T) positions
    return ids[window].astype(np.int64), ids[window + 1].astype(np.int64)


def streams(ids, n_streams):
    """Cut the text into ``n_streams`` contiguous rows, for truncated BPTT.

    Row i is ids[i*L : (i+1)*L] with L = len(ids) // n_streams (the remainder is dropped), so
    the hidden state carried from one window to the next in a row belongs to the same text.
    Returns: (N, L) int64.
    """
    ids = np.asarray(ids)
    length = len(ids) // n_streams
    if length < 2:
        raise ValueError(f"streams: {len(ids)} ids cannot make {n_streams} streams of >= 2 ids")
    return ids[:n_streams * length].reshape(n_streams, length).astype(np.int64)


def stream_windows(rows, seq_len):
    """Consecutive (x, y) windows over (N, L) streams, left to right (truncated BPTT's order).

    Yields x (N, T') and y (N, T') with y = x shifted by one step; T' = seq_len except perhaps
    for the last window. Carry the hidden state from one window to the next, detached.
    """
    length = rows.shape[1]
    for start in range(0, length - 1, seq_len):
        stop = min(start + seq_len, length - 1)
        yield rows[:, start:stop], rows[:, start + 1:stop + 1]
