"""One Mamba block (Gu & Dao 2023): a selective state-space model, in mamba-minimal's form.

    x (N, T, E)
    xs, z  = in_proj(x).chunk(2)                  (N, T, Di) each, Di = expand * E
    xs     = silu(causal depthwise conv1d(xs))    (N, T, Di)   kernel d_conv, one per channel
    dt, B, C = x_proj(xs).split(dt_rank, n, n)    B, C: (N, T, n)
    delta  = softplus(dt_proj(dt))                (N, T, Di)   a step size per token, > 0
    A      = -exp(A_log)                          (Di, n)      negative: exp(delta A) in (0, 1)
    y      = selective_scan(xs, delta, A, B, C, D)  (N, T, Di)   (selective_scan.py)
    out    = out_proj(y * silu(z))                (N, T, E)

Only the selective scan has a hand-written backward (it is the part that costs); the rest is
composed from minigrad ops.  Parameter names and shapes follow mamba-minimal / the reference
implementation: in_proj, conv1d (weight (Di, 1, d_conv), bias), x_proj, dt_proj, A_log, D,
out_proj.

``selective=False`` is the non-selective twin (S4D-like, a linear time-invariant system):
delta = softplus(dt_bias), B and C are parameters that do not depend on the token, so the
block cannot choose per token what to keep.  Generation: ``step(x_t, state)`` with the state
(last d_conv-1 conv inputs (N, d_conv-1, Di), h (N, Di, n)): O(1) per token in T.
"""
import math

import minigrad
from minigrad import no_grad
from minigrad.nn import Module, Parameter, init
import minigrad.nn.functional as F

from .linear import Linear
from .scan import check_mode
from .selective_scan import selective_scan

__all__ = ["Mamba", "CausalDepthwiseConv1d", "silu", "softplus"]


def silu(x):
    """x * sigmoid(x)."""
    return x * x.sigmoid()


def softplus(x):
    """log(1 + exp(x)), written as relu(x) + log(1 + exp(-|x|)) so exp never overflows."""
    return x.relu() + (1 + (-x.abs()).exp()).log()


class CausalDepthwiseConv1d(Module):
    """y_t = bias + sum_k weight[:, 0, k] * x_{t - (K-1) + k}, one filter per channel.

    As ``nn.Conv1d(C, C, K, groups=C, padding=K-1)`` keeping the first T outputs, on
    batch-first x (N, T, C).  weight (C, 1, K), bias (C,), PyTorch's init.
    """

    def __init__(self, channels, kernel_size, bias=True, device=None, dtype=None):
        super().__init__()
        self.channels, self.kernel_size = channels, kernel_size
        self.weight = Parameter(minigrad.empty(channels, 1, kernel_size, dtype=dtype,
                                               device=device))
        self.bias = (Parameter(minigrad.empty(channels, dtype=dtype, device=device))
                     if bias else None)
        bound = 1 / math.sqrt(kernel_size)                   # fan_in = 1 * K
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):                                    # x (N, T, C)
        K, T = self.kernel_size, x.shape[1]
        padded = F.pad(x, (0, 0, K - 1, 0))                  # (N, K-1+T, C): zeros before t=0
        y = padded[:, 0:T] * self.weight[:, 0, 0]
        for k in range(1, K):
            y = y + padded[:, k:k + T] * self.weight[:, 0, k]
        return y if self.bias is None else y + self.bias

    def step(self, window):
        """The output for the last position of window (N, K, C) -> (N, C)."""
        y = (window * self.weight[:, 0, :].T).sum(dim=1)     # (N, K, C) * (K, C)
        return y if self.bias is None else y + self.bias


class Mamba(Module):
    """One selective-SSM block: x (N, T, E) -> (N, T, E).  See the module doc."""

    def __init__(self, d_model, d_state=16, d_conv=4, expand=2, dt_rank="auto",
                 selective=True, device=None, dtype=None, mode="chunked", chunk_size=64):
        super().__init__()
        factory = dict(device=device, dtype=dtype)
        d_inner = expand * d_model
        dt_rank = math.ceil(d_model / 16) if dt_rank == "auto" else int(dt_rank)
        self.d_model, self.d_state, self.d_conv, self.d_inner = d_model, d_state, d_conv, d_inner
        self.dt_rank, self.selective = dt_rank, selective
        self.mode, self.chunk_size = check_mode("Mamba", mode), chunk_size
        self.in_proj = Linear(d_model, 2 * d_inner, bias=False, **factory)
        self.conv1d = CausalDepthwiseConv1d(d_inner, d_conv, **factory)
        if selective:
            self.x_proj = Linear(d_inner, dt_rank + 2 * d_state, bias=False, **factory)
            self.dt_proj = Linear(dt_rank, d_inner, bias=True, **factory)
            dt_bias = self.dt_proj.bias
        else:
            self.dt_bias = Parameter(minigrad.empty(d_inner, **factory))
            self.B = Parameter(minigrad.randn(d_state, **factory) * d_state ** -0.5)
            self.C = Parameter(minigrad.randn(d_state, **factory))
            dt_bias = self.dt_bias
        # delta starts in [0.001, 0.1], log-uniform (Mamba's init): bias = softplus^-1(dt)
        with no_grad():
            lo, hi = math.log(1e-3), math.log(1e-1)
            dt = (minigrad.rand(d_inner, **factory) * (hi - lo) + lo).exp()
            dt_bias.data[...] = (dt + (1 - (-dt).exp()).log()).data
        # A = -[1, 2, .., n] in every channel (S4D-real): decays at n different rates
        A = minigrad.arange(1.0, d_state + 1.0, **factory).reshape(1, d_state)
        self.A_log = Parameter((A * minigrad.ones(d_inner, 1, **factory)).log().detach())
        self.D = Parameter(minigrad.ones(d_inner, **factory))
        self.out_proj = Linear(d_inner, d_model, bias=False, **factory)

    def ssm_parameters(self, xs):
        """xs (..., Di) -> delta (..., Di), B (..., n), C (..., n)."""
        if self.selective:
            dt, B, C = self.x_proj(xs).split([self.dt_rank, self.d_state, self.d_state], dim=-1)
            return softplus(self.dt_proj(dt)), B, C
        lead = tuple(xs.shape[:-1])
        return (softplus(self.dt_bias).expand(*lead, self.d_inner),
                self.B.expand(*lead, self.d_state), self.C.expand(*lead, self.d_state))

    def forward(self, x):
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"Mamba: expected x (N, T, E={self.d_model}), got {x.shape}")
        xs, z = self.in_proj(x).chunk(2, dim=-1)                     # (N, T, Di) each
        xs = silu(self.conv1d(xs))
        delta, B, C = self.ssm_parameters(xs)
        A = -self.A_log.exp()                                        # (Di, n)
        y = selective_scan(xs, delta, A, B, C, self.D, self.mode, self.chunk_size)
        return self.out_proj(y * silu(z))                            # (N, T, E)

    def new_state(self, N):
        """(conv window (N, d_conv-1, Di), h (N, Di, n)), zeros."""
        w = self.D
        return (minigrad.zeros(N, self.d_conv - 1, self.d_inner, dtype=w.dtype, device=w.device),
                minigrad.zeros(N, self.d_inner, self.d_state, dtype=w.dtype, device=w.device))

    def step(self, x_t, state):
        """One token: x_t (N, E), state -> (y_t (N, E), new state)."""
        window, h = state
        xs, z = self.in_proj(x_t).chunk(2, dim=-1)                   # (N, Di) each
        window = minigrad.cat([window, xs.unsqueeze(1)], dim=1)      # (N, d_conv, Di)
        xs = silu(self.conv1d.step(window))
        delta, B, C = self.ssm_parameters(xs)                        # (N, Di), (N, n), (N, n)
        A_bar = (delta.unsqueeze(-1) * -self.A_log.exp()).exp()      # (N, Di, n)
        h = A_bar * h + (delta * xs).unsqueeze(-1) * B.unsqueeze(1)
        y = (h * C.unsqueeze(1)).sum(dim=-1) + self.D * xs           # (N, Di)
        return self.out_proj(y * silu(z)), (window[:, 1:], h)

    def extra_repr(self):
        return (f"d_model={self.d_model}, d_state={self.d_state}, d_conv={self.d_conv}, "
                f"d_inner={self.d_inner}, dt_rank={self.dt_rank}, selective={self.selective}")
