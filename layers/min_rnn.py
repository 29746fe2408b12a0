"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs All We Needed?").

A GRU's gates read h_{t-1}, so step t cannot start before step t-1 ends.  Drop that
dependence (the gates see x_t only) and what is left is linear in h:

    minGRU:   z_t = sigmoid(x_t W_z^T + b_z)         h~_t = x_t W_h^T + b_h
              h_t = (1 - z_t) * h_{t-1} + z_t * h~_t

    minLSTM:  f_t = sigmoid(x_t W_f^T + b_f)   i_t = sigmoid(x_t W_i^T + b_i)
              h~_t = x_t W_h^T + b_h
              f'_t = f_t / (f_t + i_t)          i'_t = i_t / (f_t + i_t)
              h_t = f'_t * h_{t-1} + i'_t * h~_t

Both are h_t = a_t * h_{t-1} + b_t with a_t, b_t computed from x_t alone: one matrix
product for all T gate pre-activations, then ``linear_recurrence`` (loop, scan or chunked),
whose backward is hand-written; the gates around it are composed from minigrad ops.
Generation keeps one (N, H) state: ``step(x_t, h)``.

Parameters: ``linear`` (Linear D -> 2H for minGRU, rows [z; h~]; D -> 3H for minLSTM, rows
[f; i; h~]).
"""
import minigrad
from minigrad.nn import Module

from .linear import Linear
from .linear_recurrence import linear_recurrence
from .scan import check_mode

__all__ = ["MinGRU", "MinLSTM"]


class _MinRNN(Module):
    """What minGRU and minLSTM share: the projection, the shape checks, the drivers."""

    num_gates = 2

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None,
                 mode="scan", chunk_size=64):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.mode, self.chunk_size = check_mode(type(self).__name__, mode), chunk_size
        self.linear = Linear(input_size, self.num_gates * hidden_size, bias=bias,
                             device=device, dtype=dtype)

    def coefficients(self, x):
        """x (..., D) -> a, b (..., H) with h = a * h_prev + b."""
        raise NotImplementedError

    def forward(self, x, h0=None):
        """x (N, T, D), h0 (N, H) or None -> (out (N, T, H), h_n (N, H))."""
        name = type(self).__name__
        if x.ndim != 3 or x.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected x (N, T, D={self.input_size}), got {x.shape}")
        a, b = self.coefficients(x)                                   # (N, T, H) each
        out = linear_recurrence(a, b, h0, mode=self.mode, chunk_size=self.chunk_size)
        return out, out[:, -1]

    def new_state(self, N):
        """The zero state (N, H) that generation starts from."""
        return minigrad.zeros(N, self.hidden_size, dtype=self.linear.weight.dtype,
                              device=self.linear.weight.device)

    def step(self, x_t, h):
        """One step for generation: x_t (N, D), h (N, H) -> h_t (N, H)."""
        a, b = self.coefficients(x_t)
        return a * h + b

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}, mode={self.mode!r}"


class MinGRU(_MinRNN):
    """h_t = (1 - z_t) h_{t-1} + z_t h~_t, gates from x_t alone.  See the module doc."""

    num_gates = 2

    def coefficients(self, x):
        z_pre, candidate = self.linear(x).chunk(2, dim=-1)            # (..., H) each
        z = z_pre.sigmoid()
        return 1 - z, z * candidate


class MinLSTM(_MinRNN):
    """h_t = f'_t h_{t-1} + i'_t h~_t with f', i' normalised to sum to 1."""

    num_gates = 3

    def coefficients(self, x):
        f_pre, i_pre, candidate = self.linear(x).chunk(3, dim=-1)     # (..., H) each
        f, i = f_pre.sigmoid(), i_pre.sigmoid()
        total = f + i
        return f / total, (i / total) * candidate
