"""The linear recurrence h_t = a_t * h_{t-1} + b_t: one Function, three modes, its backward.

    a, b: (N, T, D)   h0: (N, D) or None (zeros)   ->   h: (N, T, D)

Linear attention, minGRU/minLSTM and state-space models (Mamba) all run this recurrence
(elementwise, a_t and b_t computed from the input).  It is linear in h, so unlike an LSTM it
can be computed for all t at once: see scan.py for the loop, the parallel scan and the
chunked form.

Backward.  With g_t = dL/dh_t (total: from the output at t and from step t+1) and
grad_h_t the gradient arriving at the output h_t:

    g_t    = grad_h_t + a_{t+1} * g_{t+1}       (g_{T-1} = grad_h_{T-1})
    da_t   = g_t * h_{t-1}                      (h_{-1} = h0)
    db_t   = g_t
    dh0    = a_0 * g_0

The adjoint g is the same recurrence run backwards in time with the a's shifted by one, so
each mode's backward is that mode run in reverse: a reverse loop, a reverse scan, reverse
chunks.  ``linear_recurrence_composed`` writes the forward with minigrad ops instead, so
autograd derives a backward the hand-written one is checked against.
"""
from typing import NamedTuple

from minigrad import backend
from minigrad.function import Function

from .scan import MODES, check_mode, solve

__all__ = ["MODES", "ScanCache", "scan_forward", "scan_backward", "LinearRecurrence",
           "linear_recurrence", "linear_recurrence_composed"]


class ScanCache(NamedTuple):
    """What the backward needs: the a's, the states and the initial state."""
    a: object              # (N, T, D)
    h: object              # (N, T, D)
    h0: object             # (N, D), or None for zeros
    mode: str
    chunk_size: int


def scan_forward(a, b, h0=None, mode="scan", chunk_size=64):
    """h_t = a_t * h_{t-1} + b_t by ``mode``.  Returns h (N, T, D) and a ScanCache."""
    h = solve(a, b, h0, mode, chunk_size)
    return h, ScanCache(a, h, h0, mode, chunk_size)


def scan_backward(grad_h, cache):
    """The adjoint recurrence, run in reverse by the cache's mode.

    Inputs:
        grad_h: (N, T, D) dL/dh_t arriving at each output (not changed)
        cache: the ScanCache of scan_forward
    Returns grad_a (N, T, D), grad_b (N, T, D), grad_h0 (N, D) (None when h0 was None).
    """
    ### BEGIN SOLUTION hw5.reverse_scan
    ### TODO: the adjoint g_t = grad_h_t + a_{t+1} g_{t+1} is the recurrence run backwards
    ###       with the a's shifted by one (a_T = 0): solve(a_next, grad_h, None, mode,
    ###       chunk_size, reverse=True).  Then da_t = g_t h_{t-1} (h_{-1} = h0 or 0),
    ###       db_t = g_t, dh0 = a_0 g_0.
    xp = backend.array_module(grad_h)
    a, h, h0, mode, chunk_size = cache
    N, T, D = h.shape
    a_next = xp.zeros_like(a)                          # a_next_t = a_{t+1}, a_T = 0
    a_next[:, :-1] = a[:, 1:]
    g = solve(a_next, grad_h, None, mode, chunk_size, reverse=True)   # (N, T, D) dL/dh_t
    h_prev = xp.empty_like(h)                          # h_{t-1}
    h_prev[:, 1:] = h[:, :-1]
    h_prev[:, 0] = 0 if h0 is None else h0
    grad_a = g * h_prev
    grad_b = g
    grad_h0 = None if h0 is None else a[:, 0] * g[:, 0]
    return grad_a, grad_b, grad_h0
    ### END SOLUTION


class LinearRecurrence(Function):
    """(a, b, h0) -> h with h_t = a_t h_{t-1} + b_t; mode and chunk_size are settings."""

    @staticmethod
    def forward(ctx, a, b, h0=None, mode="scan", chunk_size=64):
        h, cache = scan_forward(a, b, h0, mode, chunk_size)
        ctx.save_for_backward(cache)
        return h

    @staticmethod
    def backward(ctx, grad_h):
        (cache,) = ctx.saved
        return scan_backward(grad_h, cache)


def _check(a, b, h0):
    if a.ndim != 3 or a.shape != b.shape:
        raise ValueError(f"linear_recurrence: a and b must both be (N, T, D), got a "
                         f"{tuple(a.shape)} and b {tuple(b.shape)}")
    if a.shape[1] == 0:
        raise ValueError("linear_recurrence: T = 0, the sequence is empty")
    if a.dtype != b.dtype or a.dtype.kind != "f":
        raise TypeError(f"linear_recurrence: a and b must share one float dtype, got "
                        f"{a.dtype} and {b.dtype}")
    N, _, D = a.shape
    if h0 is not None and (tuple(h0.shape) != (N, D) or h0.dtype != a.dtype):
        raise ValueError(f"linear_recurrence: h0 must be (N, D) = {(N, D)} of dtype {a.dtype}, "
                         f"got {tuple(h0.shape)} of {h0.dtype}")


def linear_recurrence(a, b, h0=None, mode="scan", chunk_size=64):
    """h_t = a_t * h_{t-1} + b_t over t, elementwise.

    a, b: Tensors (N, T, D); h0: (N, D) Tensor or None (zeros).  Returns h (N, T, D).
    mode: "loop", "scan" (Hillis-Steele, log2 T passes) or "chunked" (chunks of chunk_size
    steps); all three give the same h and gradients, at different speeds.
    """
    check_mode("linear_recurrence", mode)
    if int(chunk_size) < 1:
        raise ValueError(f"linear_recurrence: chunk_size must be >= 1, got {chunk_size}")
    _check(a, b, h0)
    return LinearRecurrence.apply(a, b, h0, mode=mode, chunk_size=int(chunk_size))


def linear_recurrence_composed(a, b, h0=None):
    """The same recurrence from minigrad ops (a loop of mul and add), for checking."""
    from minigrad import ops, zeros_like
    h = zeros_like(a[:, 0]) if h0 is None else h0
    states = []
    for t in range(a.shape[1]):
        h = a[:, t] * h + b[:, t]
        states.append(h)
    return ops.stack(states, dim=1)
