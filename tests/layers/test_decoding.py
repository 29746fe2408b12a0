"""Greedy and beam search: against a step-by-step re-implementation, with and without the
KV cache, for the LM and the encoder-decoder model; a hand-built case where greedy is myopic."""
import numpy as np
import pytest

import minigrad
from minigrad.nn import Module
from layers import Seq2SeqTransformer, TransformerLM, beam_search, greedy_decode
from layers.decoding import gnmt_length_penalty


def lm(device=None):
    return TransformerLM(11, 8, 2, 2, 16, dropout=0.1, max_len=24, device=device)


def seq2seq(device=None):
    return Seq2SeqTransformer(9, 10, d_model=8, nhead=2, num_encoder_layers=1,
                              num_decoder_layers=2, dim_feedforward=16, dropout=0.1,
                              max_len=24, device=device)


def log_softmax(x):
    x = x.astype(np.float64)
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def greedy_by_hand(next_logits, seq, steps):
    """argmax of the full model's last logits, one step at a time, no eos."""
    for _ in range(steps):
        seq = np.concatenate([seq, next_logits(seq).argmax(-1)[:, None]], axis=1)
    return seq


def test_greedy_lm_matches_step_by_step_argmax(device, rng):
    model = lm(device)
    prefix = rng.integers(0, 11, (3, 4))
    model.eval()
    with minigrad.no_grad():
        expected = greedy_by_hand(
            lambda s: model(minigrad.tensor(s, device=device)).numpy()[:, -1], prefix, 6)
    model.train()
    for use_cache in (True, False):
        out = greedy_decode(model, minigrad.tensor(prefix, device=device), 6,
                            use_cache=use_cache)
        np.testing.assert_array_equal(out.numpy(), expected)
    assert model.training                                  # mode restored


def test_greedy_seq2seq_matches_step_by_step_argmax(device, rng):
    model = seq2seq(device)
    model.eval()
    src = minigrad.tensor(rng.integers(0, 9, (3, 5)), device=device)
    with minigrad.no_grad():
        memory = model.encode(src)
        step = lambda s: model.generator(model.decode(minigrad.tensor(s, device=device),
                                                      memory)).numpy()[:, -1]
        expected = greedy_by_hand(step, np.full((3, 1), 1), 7)
    for use_cache in (True, False):
        out = greedy_decode(model, src, 7, bos=1, use_cache=use_cache)
        np.testing.assert_array_equal(out.numpy(), expected)


def test_greedy_pads_with_eos_and_stops_early(rng):
    model = lm()
    prefix = minigrad.tensor(rng.integers(0, 11, (4, 3)))
    free = greedy_decode(model, prefix, 8).numpy()
    eos = int(free[0, 4])                                  # row 0's second new token
    out = greedy_decode(model, prefix, 8, eos=eos).numpy()
    for row_free, row in zip(free, out):
        new = list(row_free[3:])
        stop = new.index(eos) if eos in new else len(new)
        np.testing.assert_array_equal(row[3:3 + stop + 1], row_free[3:3 + stop + 1])
        assert np.all(row[3 + stop:] == eos)                # padded after its eos
    if all(eos in list(r[3:]) for r in free):
        assert out.shape[1] < free.shape[1]                 # stopped when all had ended


@pytest.mark.parametrize("kind", ["lm", "seq2seq"])
def test_beam_size_one_is_greedy(rng, kind):
    if kind == "lm":
        model, inputs, bos = lm(), minigrad.tensor(rng.integers(0, 11, (3, 4))), None
    else:
        model, inputs, bos = seq2seq(), minigrad.tensor(rng.integers(0, 9, (3, 5))), 1
    greedy = greedy_decode(model, inputs, 7, bos=bos, eos=3).numpy()
    beam, log_probs = beam_search(model, inputs, 7, beam_size=1, bos=bos, eos=3)
    np.testing.assert_array_equal(beam.numpy(), greedy)
    assert log_probs.shape == (3,)


@pytest.mark.parametrize("kind", ["lm", "seq2seq"])
def test_beam_with_and_without_cache_agree(rng, kind):
    if kind == "lm":
        model, inputs, bos = lm(), minigrad.tensor(rng.integers(0, 11, (2, 3))), None
    else:
        model, inputs, bos = seq2seq(), minigrad.tensor(rng.integers(0, 9, (2, 4))), 1
    cached, lp_cached = beam_search(model, inputs, 6, beam_size=3, bos=bos, eos=2)
    full, lp_full = beam_search(model, inputs, 6, beam_size=3, bos=bos, eos=2,
                                use_cache=False)
    np.testing.assert_array_equal(cached.numpy(), full.numpy())
    np.testing.assert_allclose(lp_cached.numpy(), lp_full.numpy(), rtol=1e-5)


def continuation_log_prob(model, seqs, start):
    """sum over t >= start of log p(y_t | y_<t) under the full model (eval mode)."""
    model.eval()
    with minigrad.no_grad():
        logp = log_softmax(model(minigrad.tensor(seqs[:, :-1])).numpy())      # (N, T-1, V)
    picked = np.take_along_axis(logp, seqs[:, 1:, None], axis=-1)[..., 0]     # (N, T-1)
    return picked[:, start - 1:].sum(1)


def test_beam_log_prob_is_that_of_the_returned_sequence(rng):
    model = lm()
    prefix = rng.integers(0, 11, (2, 3))
    seqs, log_probs = beam_search(model, minigrad.tensor(prefix), 5, beam_size=4)
    np.testing.assert_allclose(log_probs.numpy(),
                               continuation_log_prob(model, seqs.numpy(), 3), rtol=1e-5)


# ---------------------------------------------------------------- hand-built bigram models
EOS, A, B, C, D, S = range(6)


class BigramLM(Module):
    """p(next | last token) from a table of probabilities: a decoder-only "model" whose
    best sequences can be found by hand.  forward(tokens (N, T)) -> logits (N, T, 6)."""

    def __init__(self, table):
        super().__init__()
        probs = np.full((6, 6), 1e-9)
        for last, row in table.items():
            for token, p in row.items():
                probs[last, token] = p
        self.logits = np.log(probs / probs.sum(1, keepdims=True))

    def forward(self, tokens):
        return minigrad.tensor(self.logits[tokens.numpy()])


def test_beam_search_beats_myopic_greedy():
    # After S, A is likelier than B (0.6 > 0.4), so greedy takes A; but after A the best
    # it can do is eos with 0.4: p(A eos) = 0.6 * 0.4 = 0.24. After B, eos has 0.9:
    # p(B eos) = 0.4 * 0.9 = 0.36.  A beam of 2 keeps B alive and finds the better sequence.
    model = BigramLM({S: {A: 0.6, B: 0.4}, A: {EOS: 0.4, C: 0.3, D: 0.3},
                      B: {EOS: 0.9, C: 0.1}, C: {EOS: 1.0}, D: {EOS: 1.0}})
    prefix = minigrad.tensor(np.array([[S]]))
    greedy = greedy_decode(model, prefix, 4, eos=EOS, use_cache=False).numpy()
    np.testing.assert_array_equal(greedy, [[S, A, EOS]])
    seqs, log_probs = beam_search(model, prefix, 4, beam_size=2, eos=EOS, use_cache=False)
    np.testing.assert_array_equal(seqs.numpy(), [[S, B, EOS]])
    np.testing.assert_allclose(log_probs.numpy(), [np.log(0.36)], rtol=1e-6)
    assert log_probs.numpy()[0] > np.log(0.24)


def test_length_penalty_gnmt():
    # [eos]: log 0.5 = -0.693, 1 token.  [A eos]: log(0.5 * 0.9) = -0.799, 2 tokens.
    # alpha = 0: the plain total picks the short one.  alpha = 1: lp(1) = 1, lp(2) = 7/6,
    # -0.799 / (7/6) = -0.685 > -0.693, so the long one wins.
    model = BigramLM({S: {EOS: 0.5, A: 0.5}, A: {EOS: 0.9, C: 0.1}, C: {EOS: 1.0}})
    prefix = minigrad.tensor(np.array([[S]]))
    short, _ = beam_search(model, prefix, 4, beam_size=2, eos=EOS, length_penalty=0.0,
                           use_cache=False)
    np.testing.assert_array_equal(short.numpy()[0, :2], [S, EOS])
    long, log_probs = beam_search(model, prefix, 4, beam_size=2, eos=EOS, length_penalty=1.0,
                                  use_cache=False)
    np.testing.assert_array_equal(long.numpy()[0, :3], [S, A, EOS])
    np.testing.assert_allclose(log_probs.numpy(), [np.log(0.45)], rtol=1e-6)
    assert gnmt_length_penalty(2, 1.0) == pytest.approx(7 / 6)
    assert gnmt_length_penalty(7, 0.6) == pytest.approx(2 ** 0.6)


def test_decoding_errors(rng):
    with pytest.raises(ValueError, match="needs bos"):
        greedy_decode(seq2seq(), minigrad.tensor(rng.integers(0, 9, (1, 3))), 3)
    with pytest.raises(ValueError, match="P >= 1"):
        greedy_decode(lm(), minigrad.tensor(np.zeros((2, 0), dtype=np.int64)), 3)
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(lm(), minigrad.tensor(rng.integers(0, 11, (1, 3))), 3, beam_size=0)
