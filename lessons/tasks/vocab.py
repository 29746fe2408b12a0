"""A character vocabulary: characters <-> integer ids, with special tokens first.

Ids 0.. are the specials (default ``<pad>``=0, ``<bos>``=1, ``<eos>``=2, ``<unk>``=3), then the
characters in sorted order, so a vocabulary built from the same characters always gives the
same ids. A character the vocabulary does not hold encodes as ``<unk>``.
"""

import numpy as np

SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")


class CharVocab:
    """Characters to ids and back.

    Attributes: ``tokens`` (list, id -> token), ``pad``, ``bos``, ``eos``, ``unk`` (ids, or None
    for a special the vocabulary was built without), ``len(vocab)`` = V.
    """

    def __init__(self, chars, specials=SPECIALS):
        if "<unk>" not in specials:
            raise ValueError(f"CharVocab: specials must include '<unk>', got {specials!r}")
        chars = sorted(set(chars))
        long = [c for c in chars if len(c) != 1]
        if long:
            raise ValueError(f"CharVocab: expected single characters, got {long[:5]!r}")
        self.tokens = list(specials) + chars
        self.index = {token: i for i, token in enumerate(self.tokens)}
        self.pad, self.bos, self.eos, self.unk = (self.index.get(s) for s in SPECIALS)
        self._specials = frozenset(range(len(specials)))

    @classmethod
    def from_text(cls, text, min_count=1, specials=SPECIALS):
        """A vocabulary of the characters seen at least ``min_count`` times in ``text``."""
        if min_count <= 1:
            return cls(set(text), specials)
        unique, counts = np.unique(np.array(list(text)), return_counts=True)
        return cls((str(c) for c in unique[counts >= min_count]), specials)

    def __len__(self):
        return len(self.tokens)

    def __repr__(self):
        return f"CharVocab(V={len(self)}, specials={self.tokens[:len(self._specials)]})"

    def encode(self, text, bos=False, eos=False):
        """List of ids for ``text``; unknown characters -> ``unk``; optional ``bos``/``eos`` around."""
        ids = [self.index.get(c, self.unk) for c in text]
        return ([self.bos] if bos else []) + ids + ([self.eos] if eos else [])

    def encode_array(self, text):
        """``encode(text)`` as an int64 array of shape (L,), for long texts."""
        return np.fromiter((self.index.get(c, self.unk) for c in text), dtype=np.int64, count=len(text))

    def decode(self, ids, stop_at_eos=True):
        """Text for ``ids``: specials dropped (``<unk>`` kept as U+FFFD), stopping at ``eos``."""
        chars = []
        for i in (int(i) for i in ids):
            if stop_at_eos and i == self.eos:
                break
            if i == self.unk:
                chars.append("\ufffd")
            elif i not in self._specials:
                chars.append(self.tokens[i])
        return "".join(chars)
