"""Truncated backpropagation through time (TBPTT): train on a stream of any length.

Full BPTT over a sequence of T steps keeps every step's activations until the backward, so
its memory grows as O(T): for one LSTM layer about (4H + 3H) * N floats per step (the gates,
h, c and tanh(c) that ``RecurrentSequence`` saves), plus as much again in the backward.
At T = 100,000, N = 16, H = 128 that is 100,000 * 7 * 128 * 16 * 4 bytes = 5.7 GB.

TBPTT (Williams & Peng, 1990; Sutskever, 2013, section 2.8.6) cuts the stream into chunks of
k steps and, for each chunk in order:

    output, state = model(x[t : t + k], state)      # the forward starts from the carried state
    loss(output, y[t : t + k]).backward()           # BPTT inside the chunk only
    optimizer.step()
    state = detach_state(state)                     # keep the value, drop the graph behind it

so memory is O(k), whatever the stream's length. What it costs: the forward still carries
information across chunks (the state's *value* flows on), but no gradient crosses a chunk
boundary, so the model is never taught to keep something for longer than ~k steps:
dL_t/dx_s = 0 for s before the start of t's chunk.

Recipe, for a PyTorch-style recurrent model ``model(x, state) -> (output, state)``::

    for x, y in tbptt_windows(inputs, targets, k, dim=0):     # (k, N, D), time-major
        optimizer.zero_grad()
        output, state = model(x, state)
        loss_fn(output, y).backward()
        optimizer.step()
        state = detach_state(state)

``train_tbptt`` is that loop, with optional gradient clipping and a callback.
"""
from typing import NamedTuple

from minigrad.optim import clip_grad_norm_
from minigrad.tensor import Tensor

__all__ = ["chunks", "tbptt_windows", "detach_state", "train_tbptt", "TBPTTResult"]


def chunks(x, k, dim=0):
    """Views of ``x`` along ``dim`` in consecutive pieces of ``k`` steps (the last may be
    shorter): x[0:k], x[k:2k], ...  x: a Tensor or an array, e.g. (T, N, D) with dim=0, or
    (N, T, D) with dim=1 (batch_first).  Basic slicing, so arrays are never copied."""
    if int(k) != k or k < 1:
        raise ValueError(f"chunks: k (steps per chunk) must be a positive int, got {k!r}")
    ndim = len(x.shape)
    if not -ndim <= dim < ndim:
        raise ValueError(f"chunks: dim={dim} is out of range for a {ndim}-dim input of "
                         f"shape {tuple(x.shape)}")
    dim %= ndim
    before = (slice(None),) * dim                 # x[:, ..., start:stop] on axis ``dim``
    length = x.shape[dim]
    for start in range(0, length, int(k)):
        yield x[before + (slice(start, min(start + int(k), length)),)]


def tbptt_windows(inputs, targets, k, dim=0):
    """(x, y) pairs of consecutive k-step chunks of ``inputs`` and ``targets``, both cut
    along ``dim`` (0 for (T, N, ...), 1 for batch_first (N, T, ...))."""
    if inputs.shape[dim] != targets.shape[dim]:
        raise ValueError(f"tbptt_windows: inputs {tuple(inputs.shape)} and targets "
                         f"{tuple(targets.shape)} differ in length along dim {dim}")
    return zip(chunks(inputs, k, dim), chunks(targets, k, dim))


def detach_state(state):
    """The state with every Tensor detached from its graph: a Tensor, a tuple or list of them
    (nested, e.g. an LSTM's (h, c)), or None.  The values are kept (no copy); only the graph
    behind them is let go, so the next chunk's backward stops here and the previous chunk's
    saved activations can be freed."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"detach_state: expected a Tensor, a tuple/list of Tensors or None, "
                    f"got {type(state).__name__}")


class TBPTTResult(NamedTuple):
    losses: list           # one float per chunk, in stream order
    state: object          # the final state (detached): carry it into the next stream piece


def train_tbptt(model, stream, k, loss_fn, optimizer, state=None, dim=0, clip_grad_norm=None,
                device=None, callback=None):
    """One pass of truncated BPTT over a stream.

    model: ``model(x, state) -> (output, new_state)`` (as ``LSTM(...)(x, (h, c))``).
    stream: a pair (inputs, targets), Tensors or host arrays, cut into chunks of ``k`` steps
        along ``dim``; array chunks become Tensors on ``device`` one chunk at a time, so a long
        stream never sits on the device whole.
    loss_fn: ``loss_fn(output, y) -> scalar Tensor``, the mean over the chunk.
    optimizer: has ``zero_grad()`` and ``step()``; its parameters are what gets trained.
    state: the initial state (None: the model's zeros).
    clip_grad_norm: a max norm for ``minigrad.optim.clip_grad_norm_`` over the optimizer's
        parameters, or None.
    callback: ``callback(chunk_index, loss_value)`` after every step, or None.
    Returns TBPTTResult(losses, state).
    """
    inputs, targets = stream
    params = [p for group in optimizer.param_groups for p in group["params"]]
    losses = []
    for index, (x, y) in enumerate(tbptt_windows(inputs, targets, k, dim)):
        x = x if isinstance(x, Tensor) else Tensor(x, device=device)
        y = y if isinstance(y, Tensor) else Tensor(y, device=device)
        optimizer.zero_grad()
        output, state = model(x, state)
        loss = loss_fn(output, y)
        loss.backward()                  # the graph of this chunk only; freed afterwards
        if clip_grad_norm is not None:
            clip_grad_norm_(params, clip_grad_norm)
        optimizer.step()
        state = detach_state(state)      # value kept, graph cut: memory stays O(k)
        losses.append(loss.item())
        if callback is not None:
            callback(index, losses[-1])
    return TBPTTResult(losses, state)
