"""Decoding: greedy search and beam search, for a decoder-only LM or an encoder-decoder model.

Both models are driven the same way, one token per step:

  * decoder-only (``TransformerLM``, or anything with ``model(tokens, cache=None)`` ->
    logits (N, T, V) and ``model.new_cache(max_len)``): the sequence starts as the prefix;
  * encoder-decoder (``Seq2SeqTransformer``, anything with ``encode(src, mask)``,
    ``decode(tgt, memory, memory_key_padding_mask, cache=None)`` and ``generator``): the
    source is encoded *once*, and the target starts as [bos].

With ``use_cache=True`` each step feeds only the new token and the model keeps the keys and
values of the past positions in a KV cache (layers/kv_cache.py): O(t) work at step t instead
of re-running the whole prefix; the tokens and logits are the same.

Greedy: y_t = argmax_v p(v | y_<t).  Myopic: a likely first token may lead only to unlikely
continuations.  Beam search keeps the B best partial sequences by total log-probability
sum_t log p(y_t | y_<t); each step extends every one by every token and keeps the best B of
the B*V candidates.  A hypothesis that produced ``eos`` is frozen: it is extended by eos at
no cost, so it keeps its slot and score.  At the end the best of the B is chosen by

    score / lp(Y),   lp(Y) = ((5 + |Y|) / 6) ^ alpha           (GNMT, Wu et al. 2016)

with |Y| the number of generated tokens (eos included) and alpha = ``length_penalty``
(0.6 in "Attention Is All You Need"; 0 = plain total log-probability, which favours short
outputs since every token adds a negative log-probability).  The ranking *during* the search
uses the plain total, as most implementations do.  With B = 1 beam search is greedy search.

Both switch the model to eval mode (no dropout) while they run, and restore its mode after.
"""
import contextlib
import math

import minigrad
from minigrad import backend
from minigrad.tensor import Tensor

from .kv_cache import DecoderCache

__all__ = ["greedy_decode", "beam_search", "gnmt_length_penalty"]


def gnmt_length_penalty(length, alpha):
    """lp = ((5 + |Y|) / 6) ^ alpha: the divisor of a hypothesis's total log-probability."""
    return ((5.0 + length) / 6.0) ** alpha


def _log_softmax64(xp, logits):
    """log p over the last axis, in float64 so that sums over many steps keep their order."""
    logits = logits.astype(backend.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))


@contextlib.contextmanager
def _inference(model):
    was_training = model.training
    model.eval()
    try:
        with minigrad.no_grad():
            yield
    finally:
        model.train(was_training)


class _Stepper:
    """Gives the next-token logits (rows, V) of a growing batch of sequences (rows, L)."""

    def __init__(self, model, inputs, bos, copies, use_cache, max_len,
                 src_key_padding_mask=None):
        self.model, self.use_cache = model, use_cache
        self.encoder_decoder = hasattr(model, "encode")
        xp = inputs.xp
        if self.encoder_decoder:
            if bos is None:
                raise ValueError("decoding an encoder-decoder model needs bos, the token the "
                                 "target starts with")
            memory = model.encode(inputs, src_key_padding_mask)        # (N, S, E), once
            # each of the `copies` hypotheses of a source reads the same memory rows
            self.memory = Tensor(xp.repeat(memory.data, copies, axis=0), device=memory.device)
            self.memory_mask = None if src_key_padding_mask is None else Tensor(
                xp.repeat(_raw(src_key_padding_mask), copies, axis=0), device=memory.device)
            start = xp.full((inputs.shape[0], 1), bos, dtype=backend.int64)
        else:
            if inputs.ndim != 2 or inputs.shape[1] == 0:
                raise ValueError(f"decoding a language model needs a prefix (N, P) with "
                                 f"P >= 1, got shape {inputs.shape}")
            start = inputs.data.astype(backend.int64)
            if bos is not None:
                start = xp.concatenate(
                    [xp.full((start.shape[0], 1), bos, dtype=backend.int64), start], axis=1)
        self.start = xp.repeat(start, copies, axis=0)                    # (N*copies, L0)
        self.cache = None
        if use_cache:
            total = self.start.shape[1] + max_len
            if self.encoder_decoder:
                self.cache = DecoderCache(len(model.transformer.decoder.layers), total)
            else:
                self.cache = model.new_cache(total)

    def next_logits(self, seq):
        """seq (rows, L) ints -> logits (rows, V) for token L (a backend array)."""
        if self.cache is not None:
            seq = seq[:, self.cache.length:]               # only what the cache lacks
        tokens = Tensor(seq, device=backend.device_of(seq))
        if self.encoder_decoder:
            states = self.model.decode(tokens, self.memory, self.memory_mask,
                                       cache=self.cache)
            return self.model.generator(states[:, -1]).data                # (rows, V)
        logits = self.model(tokens, cache=self.cache) if self.cache is not None \
            else self.model(tokens)
        return logits.data[:, -1]                                          # (rows, V)

    def reorder(self, rows):
        """Row i of the batch now continues old row rows[i] (beam search)."""
        if self.cache is not None:
            self.cache.reorder(rows)


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


def greedy_decode(model, inputs, max_len, bos=None, eos=None, use_cache=True,
                  src_key_padding_mask=None):
    """Pick the most likely next token, ``max_len`` times (fewer if every row ended).

    inputs: the prefix (N, P) ints for a decoder-only LM (with ``bos`` given, it is put in
    front), or the source (N, S) ints for an encoder-decoder model (the target starts as
    [bos]).  After a row emits ``eos``, it is padded with eos.
    Returns the sequences (N, L0 + n) int64, L0 = the start's length, n <= max_len.
    """
    with _inference(model):
        stepper = _Stepper(model, inputs, bos, 1, use_cache, max_len, src_key_padding_mask)
        seq = stepper.start
        xp = backend.array_module(seq)
        finished = xp.zeros(seq.shape[0], dtype=backend.bool_)
        for _ in range(max_len):
            token = stepper.next_logits(seq).argmax(axis=-1)                # (N,)
            if eos is not None:
                token = xp.where(finished, eos, token)
                finished = finished | (token == eos)
            seq = xp.concatenate([seq, token[:, None].astype(seq.dtype)], axis=1)
            if eos is not None and bool(finished.all()):
                break
    return Tensor(seq, device=backend.device_of(seq))


def beam_search(model, inputs, max_len, beam_size=4, bos=None, eos=None, length_penalty=0.6,
                use_cache=True, src_key_padding_mask=None):
    """Beam search with B = ``beam_size`` hypotheses per input row.

    inputs, bos, eos, use_cache: as ``greedy_decode``.  length_penalty: the GNMT alpha of
    the final choice (0 = the plain total log-probability).
    Returns (sequences (N, L0 + n) int64, log_probs (N,) float64): for each row the chosen
    hypothesis (padded with eos after its eos) and its total log-probability (not divided
    by the length penalty).
    """
    if beam_size < 1:
        raise ValueError(f"beam_search: beam_size must be >= 1, got {beam_size}")
    B = beam_size
    with _inference(model):
        stepper = _Stepper(model, inputs, bos, B, use_cache, max_len, src_key_padding_mask)
        seq = stepper.start                                         # (N*B, L0)
        xp = backend.array_module(seq)
        N = seq.shape[0] // B
        # every beam starts as the same sequence; only beam 0 is live at first, else the
        # first step would fill all B slots with copies of one candidate
        scores = xp.full((N, B), -math.inf, dtype=backend.float64)
        scores[:, 0] = 0.0
        finished = xp.zeros(N * B, dtype=backend.bool_)
        lengths = xp.zeros(N * B, dtype=backend.int64)              # generated tokens, eos in
        for _ in range(max_len):
            logp = _log_softmax64(xp, stepper.next_logits(seq))     # (N*B, V)
            V = logp.shape[1]
            if eos is not None:
                # a finished hypothesis has one continuation, eos, at log 1 = 0: it keeps
                # its score and one slot, and is never copied into two
                frozen = xp.full((V,), -math.inf, dtype=logp.dtype)
                frozen[eos] = 0.0
                logp = xp.where(finished[:, None], frozen, logp)
            candidates = (scores.reshape(N * B, 1) + logp).reshape(N, B * V)
            # stable sort: among equal scores the lower (beam, token) wins, as argmax does
            best = xp.argsort(-candidates, axis=-1, kind="stable")[:, :B]        # (N, B)
            scores = xp.take_along_axis(candidates, best, axis=-1)
            rows = (xp.arange(N)[:, None] * B + best // V).reshape(-1)           # old rows
            token = (best % V).reshape(-1)
            lengths = lengths[rows] + (~finished[rows])
            seq = xp.concatenate([seq[rows], token[:, None].astype(seq.dtype)], axis=1)
            stepper.reorder(rows)
            if eos is not None:
                finished = finished[rows] | (token == eos)
                if bool(finished.all()):
                    break
        penalty = gnmt_length_penalty(lengths.astype(backend.float64),
                                      length_penalty).reshape(N, B)
        choice = (scores / penalty).argmax(axis=-1)                                # (N,)
        chosen = xp.arange(N) * B + choice
        log_probs = scores[xp.arange(N), choice]
    device = backend.device_of(seq)
    return Tensor(seq[chosen], device=device), Tensor(log_probs, device=device)
