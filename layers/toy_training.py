"""Training a Transformer on the copy task: output the input sequence again.

    source x = (x_1 .. x_L), symbols drawn uniformly from num_symbols values
    target     x_1 .. x_L EOS, read after BOS

A tiny model learns it in a few hundred steps, which makes it the smoke test of a
Transformer's training pieces ("Attention Is All You Need", section 5): teacher forcing,
cross-entropy with label smoothing (eps = 0.1), Adam with beta2 = 0.98, and the warm-up
schedule lr = factor * E^-0.5 * min(s^-0.5, s * warmup^-1.5) (minigrad.optim.lr_scheduler.NoamLR).

Tokens: BOS = 0, EOS = 1, the symbols are 2 .. num_symbols + 1; the vocabulary V is
num_symbols + 2.  Both model kinds work:
  * encoder-decoder (``Seq2SeqTransformer``): model(src, tgt_in), the usual way;
  * decoder-only (``TransformerLM``): one sequence x_1 .. x_L BOS x_1 .. x_L; the logits
    at positions L .. 2L predict the target, and the source positions carry no loss.
"""
import minigrad
import minigrad.nn.functional as F
from minigrad import backend
from minigrad.optim import Adam, clip_grad_norm_
from minigrad.optim.lr_scheduler import NoamLR
from minigrad.tensor import Tensor

from .decoding import greedy_decode

__all__ = ["BOS", "EOS", "copy_vocab_size", "make_copy_model", "copy_batch", "copy_logits", "copy_predictions",
           "copy_accuracy", "train_copy_task"]

BOS, EOS = 0, 1
FIRST_SYMBOL = 2


def copy_vocab_size(num_symbols):
    """V = num_symbols + 2 (BOS and EOS)."""
    return num_symbols + FIRST_SYMBOL


def make_copy_model(num_symbols=8, d_model=32, nhead=4, num_layers=1, dim_feedforward=64,
                    dropout=0.0, max_len=64, device=None, dtype=None):
    """A small Seq2SeqTransformer for the copy task (num_layers encoder and decoder layers)."""
    from .seq2seq import Seq2SeqTransformer
    V = copy_vocab_size(num_symbols)
    model = Seq2SeqTransformer(V, V, d_model=d_model, nhead=nhead, num_encoder_layers=num_layers,
                               num_decoder_layers=num_layers, dim_feedforward=dim_feedforward,
                               dropout=dropout, max_len=max_len, device=device, dtype=dtype)
    return model


def copy_batch(batch_size, length, num_symbols, device=None):
    """A random batch: src (N, L), tgt_in = [BOS, x] (N, L+1), tgt_out = [x, EOS] (N, L+1).

    Drawn from minigrad's seeded generator (``minigrad.manual_seed``).
    """
    src = minigrad.randint(FIRST_SYMBOL, FIRST_SYMBOL + num_symbols, (batch_size, length),
                           device=device)
    xp = src.xp
    column = xp.full((batch_size, 1), BOS, dtype=src.data.dtype)
    tgt_in = Tensor(xp.concatenate([column, src.data], axis=1), device=src.device)
    tgt_out = Tensor(xp.concatenate([src.data, column * 0 + EOS], axis=1),
                     device=src.device)
    return src, tgt_in, tgt_out


def _is_encoder_decoder(model):
    return hasattr(model, "encode")


def copy_logits(model, src, tgt_in):
    """Teacher-forced logits (N, L+1, V) of the target tokens, for either model kind."""
    if _is_encoder_decoder(model):
        return model(src, tgt_in)
    L = src.shape[1]
    sequence = Tensor(src.xp.concatenate([src.data, tgt_in.data], axis=1),   # (N, 2L+1)
                      device=src.device)
    return model(sequence)[:, L:]            # position L + t predicts target token t


def copy_predictions(model, src, use_cache=True):
    """Greedy copies of src (N, L): the L tokens generated after BOS, (N, L) int64.

    No eos is given, so exactly L tokens are generated; a model that stops early (emits
    EOS too soon) gets EOS in its copy and fails the exact match.
    """
    xp, L = src.xp, src.shape[1]
    if _is_encoder_decoder(model):
        out = greedy_decode(model, src, L, bos=BOS, use_cache=use_cache)      # (N, 1+L)
    else:
        prefix = xp.concatenate([src.data, xp.full((src.shape[0], 1), BOS,
                                                   dtype=src.data.dtype)], axis=1)
        prefix = Tensor(prefix, device=src.device)
        out = greedy_decode(model, prefix, L, use_cache=use_cache)    # (N, 2L+1)
    return Tensor(out.data[:, -L:], device=src.device)


def copy_accuracy(model, src, use_cache=True):
    """Exact-match accuracy: the fraction of rows of src (N, L) copied without a mistake."""
    predictions = copy_predictions(model, src, use_cache)
    exact = (predictions.data == src.data).all(axis=1)
    return float(exact.astype(backend.float64).mean())


def train_copy_task(model, steps, batch_size=32, length=6, num_symbols=8, warmup_steps=40,
                    lr_factor=0.5, label_smoothing=0.1, max_grad_norm=1.0, device=None):
    """Train ``model`` on fresh copy-task batches for ``steps`` steps; returns the losses.

    Adam(betas=(0.9, 0.98), eps=1e-9) under NoamLR(d_model=model.d_model, warmup_steps,
    factor=lr_factor); cross-entropy with ``label_smoothing``; gradients clipped to global
    norm ``max_grad_norm``.  The model's vocabulary must be copy_vocab_size(num_symbols).
    """
    model.train()
    optimizer = Adam(model.parameters(), lr=1.0, betas=(0.9, 0.98), eps=1e-9)
    scheduler = NoamLR(optimizer, d_model=model.d_model, warmup_steps=warmup_steps,
                       factor=lr_factor)
    V = copy_vocab_size(num_symbols)
    losses = []
    for _ in range(steps):
        src, tgt_in, tgt_out = copy_batch(batch_size, length, num_symbols, device)
        ### BEGIN SOLUTION hw4.train_copy
        ### TODO: one training step. Get the teacher-forced logits (N, L+1, V) with
        ###       copy_logits(model, src, tgt_in); the loss is the cross-entropy of the
        ###       (N*(L+1), V) logits against the flattened tgt_out, with label_smoothing;
        ###       then clear the old gradients, backpropagate, clip the global gradient norm
        ###       to max_grad_norm, take an optimizer step and a scheduler step.
        logits = copy_logits(model, src, tgt_in)                          # (N, L+1, V)
        loss = F.cross_entropy(logits.reshape(-1, V), tgt_out.reshape(-1),
                               label_smoothing=label_smoothing)
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), max_grad_norm)
        optimizer.step()
        scheduler.step()                     # the lr of the next step (warm-up, then decay)
        ### END SOLUTION
        losses.append(loss.item())
    model.eval()
    return losses
