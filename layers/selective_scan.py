"""The selective scan of Mamba (S6): its kernels, Function and a composed twin.

    u, delta: (N, T, Di)   A: (Di, n)   B, C: (N, T, n)   D: (Di,)   ->   y: (N, T, Di)

Each of the Di channels carries a state of n numbers, h_t: (N, Di, n):

    A_bar_t = exp(delta_t A)                       (N, Di, n)   discretised decay, in (0, 1)
    h_t     = A_bar_t * h_{t-1} + (delta_t u_t) B_t  (N, Di, n)   the linear recurrence
    y_t     = sum_n C_t h_t + D u_t                (N, Di)

"Selective": delta_t, B_t and C_t are computed from the input at t, so the layer decides per
token how much of its state to keep (delta_t large: forget, take x_t in; delta_t ~ 0: keep
the state, skip x_t).  With a = A_bar and b = (delta u) B flattened to (N, T, Di*n) the middle
line is ``scan.solve``, by any of its modes.

Backward, with g_t = dL/dh_t (the adjoint: the recurrence in reverse, a shifted by one):

    grad_h_t (from y) = grad_y_t C_t                 g_t = grad_h_t + A_bar_{t+1} g_{t+1}
    dC_t   = sum_Di grad_y_t h_t                     dD  = sum_{N,T} grad_y u
    dA_bar = g_t h_{t-1}      d(delta A) = dA_bar A_bar  (exp' = exp)
    db     = g_t   ->  dB_t = sum_Di g_t delta_t u_t,   s_t = sum_n g_t B_t
    du     = s_t delta_t + grad_y_t D
    ddelta = sum_n d(delta A) A + s_t u_t            dA = sum_{N,T} d(delta A) delta
"""
from typing import NamedTuple

from minigrad import backend
from minigrad.function import Function

from .scan import solve

__all__ = ["SelectiveScanCache", "selective_scan_forward", "selective_scan_backward",
           "SelectiveScan", "selective_scan", "selective_scan_composed"]


class SelectiveScanCache(NamedTuple):
    u: object              # (N, T, Di)
    delta: object          # (N, T, Di)
    A: object              # (Di, n)
    B: object              # (N, T, n)
    C: object              # (N, T, n)
    D: object              # (Di,)
    A_bar: object          # (N, T, Di, n)
    h: object              # (N, T, Di, n)
    mode: str
    chunk_size: int


def selective_scan_forward(u, delta, A, B, C, D, mode="chunked", chunk_size=64):
    """y (N, T, Di) and a SelectiveScanCache; see the module doc for the equations."""
    xp = backend.array_module(u)
    N, T, Di = u.shape
    n = A.shape[1]
    A_bar = xp.exp(delta[..., None] * A)                             # (N, T, Di, n)
    b = (delta * u)[..., None] * B[:, :, None, :]                    # (N, T, Di, n)
    h = solve(A_bar.reshape(N, T, Di * n), b.reshape(N, T, Di * n), None, mode, chunk_size)
    h = h.reshape(N, T, Di, n)
    y = (h * C[:, :, None, :]).sum(axis=-1) + u * D                  # (N, T, Di)
    return y, SelectiveScanCache(u, delta, A, B, C, D, A_bar, h, mode, chunk_size)


def selective_scan_backward(grad_y, cache):
    """grad_y (N, T, Di) -> grad_u, grad_delta (N, T, Di), grad_A (Di, n), grad_B,
    grad_C (N, T, n), grad_D (Di,).  grad_y is not changed."""
    ### BEGIN SOLUTION hw5.selective_scan
    ### TODO: g = solve(A_bar shifted by one step (A_bar_T = 0), grad_y C, None, mode,
    ###       chunk_size, reverse=True) on arrays flattened to (N, T, Di*n); then the chain
    ###       rule through y = sum_n C h + D u, h = A_bar h_prev + (delta u) B and
    ###       A_bar = exp(delta A): see the module docstring.
    xp = backend.array_module(grad_y)
    u, delta, A, B, C, D, A_bar, h, mode, chunk_size = cache
    N, T, Di, n = h.shape
    grad_h = grad_y[..., None] * C[:, :, None, :]                    # (N, T, Di, n) from y
    A_next = xp.zeros_like(A_bar)                                    # A_bar_{t+1}, 0 at T
    A_next[:, :-1] = A_bar[:, 1:]
    g = solve(A_next.reshape(N, T, Di * n), grad_h.reshape(N, T, Di * n), None, mode,
              chunk_size, reverse=True).reshape(N, T, Di, n)         # dL/dh_t, total
    h_prev = xp.zeros_like(h)
    h_prev[:, 1:] = h[:, :-1]
    grad_delta_A = g * h_prev * A_bar                                # d(delta A): exp' = exp
    s = (g * B[:, :, None, :]).sum(axis=-1)                          # (N, T, Di) dL/d(delta u)
    grad_u = s * delta + grad_y * D
    grad_delta = (grad_delta_A * A).sum(axis=-1) + s * u
    grad_A = (grad_delta_A * delta[..., None]).sum(axis=(0, 1))      # (Di, n)
    grad_B = (g * (delta * u)[..., None]).sum(axis=2)                # (N, T, n)
    grad_C = (grad_y[..., None] * h).sum(axis=2)                     # (N, T, n)
    grad_D = (grad_y * u).sum(axis=(0, 1))                           # (Di,)
    return grad_u, grad_delta, grad_A, grad_B, grad_C, grad_D
    ### END SOLUTION


class SelectiveScan(Function):
    """(u, delta, A, B, C, D) -> y; mode and chunk_size (of the inner solve) are settings."""

    @staticmethod
    def forward(ctx, u, delta, A, B, C, D, mode="chunked", chunk_size=64):
        y, cache = selective_scan_forward(u, delta, A, B, C, D, mode, chunk_size)
        ctx.save_for_backward(cache)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (cache,) = ctx.saved
        return selective_scan_backward(grad_y, cache)


def selective_scan(u, delta, A, B, C, D, mode="chunked", chunk_size=64):
    """The selective scan on Tensors (shapes in the module doc)."""
    N, T, Di = u.shape
    n = A.shape[-1]
    expected = [("delta", delta, (N, T, Di)), ("A", A, (Di, n)), ("B", B, (N, T, n)),
                ("C", C, (N, T, n)), ("D", D, (Di,))]
    for name, value, shape in expected:
        if tuple(value.shape) != shape:
            raise ValueError(f"selective_scan: {name} must be {shape} for u {(N, T, Di)} and "
                             f"A (Di, n={n}), got {tuple(value.shape)}")
    return SelectiveScan.apply(u, delta, A, B, C, D, mode=mode, chunk_size=chunk_size)


def selective_scan_composed(u, delta, A, B, C, D):
    """The same from minigrad ops, a loop over t as in mamba-minimal (for checking)."""
    from minigrad import ops, zeros
    N, T, Di = u.shape
    A_bar = (delta.unsqueeze(-1) * A).exp()                          # (N, T, Di, n)
    b = (delta * u).unsqueeze(-1) * B.unsqueeze(2)                   # (N, T, Di, n)
    h = zeros(N, Di, A.shape[-1], dtype=u.dtype, device=u.device)
    ys = []
    for t in range(T):
        h = A_bar[:, t] * h + b[:, t]
        ys.append((h * C[:, t].unsqueeze(1)).sum(dim=-1))            # (N, Di)
    return ops.stack(ys, dim=1) + u * D
