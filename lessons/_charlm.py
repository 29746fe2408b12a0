"""The character language model that lessons 3, 5 and 6 train: data, model, training, sampling.

    vocab, train_ids, val_ids = load_corpus(max_chars)
    model = CharLM(len(vocab), hidden_size=128, kind="lstm")     # "rnn", "lstm" or "gru"
    history = train_char_lm(model, train_ids, val_ids, steps=500, rng=opts.rng)
    print(sample(model, vocab, "def ", 200, temperature=0.8, rng=opts.rng))

The model: ids (N, T) -> Embedding (N, T, E) -> RNN/LSTM/GRU (N, T, H) -> Linear (N, T, V)
logits; the loss is the cross-entropy of the next character, in nats (divide by ln 2 for
bits per character). The three lessons share this one file so that "the same task" means
the same code.

numpy is used here for host-side data only (batches, sampling from the softmax).
"""
import math
import time

import numpy as np

import minigrad
import minigrad.nn.functional as F
from minigrad.nn import Module
from layers import GRU, LSTM, RNN, Embedding, Linear
from lessons._shared import progress
from lessons.tasks import CharVocab, batches, split_stream, stdlib_text

RECURRENT_LAYERS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


def single_thread_blas():
    """Run BLAS on one thread: our matrices are small (N = 32 rows, H <= 256), where a second
    BLAS thread costs more than it gains, and on a busy 2-core machine it made each RNN step
    ten times slower (threads waiting on each other). A no-op without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=1, user_api="blas")


def load_corpus(max_chars, val_fraction=0.1):
    """(vocab, train_ids, val_ids): the standard-library text as int64 id arrays.

    The vocabulary is built from the whole cut (so validation has no unknown characters);
    the last ``val_fraction`` of the text is held out, contiguous (lessons.tasks.split_stream).
    """
    text = stdlib_text(max_chars)
    vocab = CharVocab.from_text(text)
    train_ids, val_ids = split_stream(vocab.encode_array(text), val_fraction)
    return vocab, train_ids, val_ids


def unigram_entropy(ids, vocab_size):
    """Entropy in nats of the character frequencies: the loss of the best model that ignores
    context. A language model has learned context when it goes below this."""
    counts = np.bincount(ids, minlength=vocab_size).astype(np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


class CharLM(Module):
    """Embedding -> one recurrent layer -> Linear, predicting the next character.

    forward(ids (N, T) int64, state=None) -> (logits (N, T, V), state), where state is the
    recurrent layer's final state (h_n, or (h_n, c_n) for the LSTM), to carry on sampling.
    """

    def __init__(self, vocab_size, hidden_size, kind="rnn", embed_size=32, **layer_kwargs):
        super().__init__()
        if kind not in RECURRENT_LAYERS:
            raise ValueError(f"CharLM: kind must be one of {sorted(RECURRENT_LAYERS)}, got {kind!r}")
        self.kind = kind
        self.embed = Embedding(vocab_size, embed_size)
        self.rnn = RECURRENT_LAYERS[kind](embed_size, hidden_size, batch_first=True, **layer_kwargs)
        self.head = Linear(hidden_size, vocab_size)

    def forward(self, ids, state=None):
        hidden, state = self.rnn(self.embed(ids), state)    # (N, T, E) -> (N, T, H)
        return self.head(hidden), state                     # (N, T, V)


def lm_loss(model, x, y):
    """Mean next-character cross-entropy (nats) of a batch x, y (N, T)."""
    logits, _ = model(minigrad.tensor(x))
    V = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, V), minigrad.tensor(y).reshape(-1))


def evaluate(model, ids, batch_size, seq_len, n_batches, seed=1234):
    """Mean loss over ``n_batches`` random windows of ``ids``; the same windows every call
    (a fixed seed), so validation numbers of different models and steps compare."""
    rng = np.random.default_rng(seed)
    with minigrad.no_grad():
        return float(np.mean([lm_loss(model, *batches(ids, batch_size, seq_len, rng)).item()
                              for _ in range(n_batches)]))


def train_char_lm(model, train_ids, val_ids, steps, rng, batch_size=32, seq_len=64, lr=3e-3,
                  max_norm=1.0, eval_every=50, eval_batches=4, desc="train"):
    """Adam on random windows, gradients clipped to ``max_norm``; returns the history.

    history: {"step", "train_loss", "grad_norm", "time"} every step ("time": seconds of
    training so far, evaluation left out), {"val_step", "val_loss"} every ``eval_every``
    steps (and at 0 and the end), and "seconds", the total training time.
    """
    optimizer = minigrad.optim.Adam(model.parameters(), lr=lr)
    history = {"step": [], "train_loss": [], "grad_norm": [], "time": [], "val_step": [],
               "val_loss": [], "seconds": 0.0}

    def validate(step):
        history["val_step"].append(step)
        history["val_loss"].append(evaluate(model, val_ids, batch_size, seq_len, eval_batches))

    validate(0)
    bar = progress(range(1, steps + 1), desc=desc)
    for step in bar:
        start = time.perf_counter()
        loss = lm_loss(model, *batches(train_ids, batch_size, seq_len, rng))
        optimizer.zero_grad()
        loss.backward()
        norm = minigrad.optim.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        history["seconds"] += time.perf_counter() - start
        history["step"].append(step)
        history["train_loss"].append(loss.item())
        history["grad_norm"].append(norm.item())
        history["time"].append(history["seconds"])
        if step % eval_every == 0 or step == steps:
            validate(step)
        bar.set_postfix(loss=f"{loss.item():.3f}", val=f"{history['val_loss'][-1]:.3f}")
    bar.close()
    return history


def smooth(values, window):
    """Running mean over ``window`` steps (shorter at the start), for noisy loss curves."""
    values = np.asarray(values, dtype=np.float64)
    sums = np.concatenate([[0.0], np.cumsum(values)])       # sums[k] = values[:k].sum()
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def sample(model, vocab, prompt, n_chars, temperature, rng):
    """Text of ``n_chars`` characters drawn from the model after ``prompt``.

    Each next character is drawn from softmax(logits / temperature): temperature 1 samples
    the model's own distribution, lower values sharpen it toward the most likely character
    (0 would be greedy), higher values flatten it toward uniform.
    """
    specials = np.array([i in (vocab.pad, vocab.bos, vocab.eos, vocab.unk) for i in range(len(vocab))])
    ids = np.array([vocab.encode(prompt)], dtype=np.int64)       # (1, len(prompt))
    out = []
    with minigrad.no_grad():
        logits, state = model(minigrad.tensor(ids))
        for _ in range(n_chars):
            last = logits.numpy()[0, -1].astype(np.float64) / temperature   # (V,)
            last[specials] = -np.inf                  # never emitted by the text; keep them out
            p = np.exp(last - last.max())
            next_id = int(rng.choice(len(p), p=p / p.sum()))
            out.append(next_id)
            logits, state = model(minigrad.tensor(np.array([[next_id]], dtype=np.int64)), state)
    return prompt + vocab.decode(out)


def bits(nats):
    """Nats per character -> bits per character."""
    return nats / math.log(2)
