"""Causal linear attention (Katharopoulos et al. 2020, "Transformers are RNNs"), with an
optional decay (as RetNet, Sun et al. 2023; GLA makes it input-dependent).

Softmax attention weighs value s at query t by exp(q_t . k_s).  Replace that by a feature
map, phi(q_t) . phi(k_s) with phi(x) = elu(x) + 1 > 0, and the sum over s factorises:

    y_t = sum_{s<=t} gamma^{t-s} (phi(q_t) . phi(k_s)) v_s  /  sum_{s<=t} gamma^{t-s} phi(q_t) . phi(k_s)
        = phi(q_t)^T S_t / phi(q_t)^T z_t

    S_t = gamma S_{t-1} + phi(k_t) v_t^T      (hd, hd) per head: the state is a matrix
    z_t = gamma z_{t-1} + phi(k_t)            (hd,)    the normaliser

gamma = 1 (decay=None) is Katharopoulos' model; gamma < 1 forgets old tokens exponentially.
Three ways to compute the same function (``mode``):

* "parallel": the masked (T, T) form, W = (phi(Q) phi(K)^T) * M with M[t, s] = gamma^{t-s}
  for s <= t and 0 above; y = W V / W 1.  O(T^2) like softmax attention, no state.
* "recurrent": S_t and z_t by ``linear_recurrence`` (a_t = gamma, b_t = phi(k_t) v_t^T), the
  RNN view; O(T hd^2) and a fixed-size state.
* "chunked": as SSD (Mamba-2): inside chunks of C tokens the masked form (matrix products,
  the decay shared by the whole state makes M the same for every entry), across chunks the
  state S carried by the recurrence.  O(T C hd + T hd^2).

``step(x_t, state)`` generates with the (S, z) state: O(1) per token in T.  The projections
q_proj, k_proj, v_proj, out_proj are Linear(E, E); heads split E into nh pieces of hd.
"""
import minigrad
from minigrad import backend
from minigrad.nn import Module

from .linear import Linear
from .linear_recurrence import linear_recurrence
from .scan import check_mode

__all__ = ["CausalLinearAttention", "elu_feature_map", "decay_mask"]

MODES = ("parallel", "recurrent", "chunked")
EPS = 1e-6                 # added to the normaliser, as the paper's code


def elu_feature_map(x):
    """phi(x) = elu(x) + 1: x + 1 for x > 0, exp(x) for x <= 0 (always > 0)."""
    return x.minimum(0.0).exp() + x.relu()


def decay_mask(gammas, T, S=None, offset=0, dtype="float32", device=None):
    """M (nh, T, S), a constant Tensor: gamma_h^{(t + offset) - s} where s <= t + offset,
    else 0.  (offset: where the T queries start among the S keys.)"""
    S = T if S is None else S
    xp = backend.get_backend(device).xp
    dtype = backend.dtype_of(dtype) if isinstance(dtype, str) else dtype
    distance = xp.arange(T)[:, None] + offset - xp.arange(S)[None, :]        # (T, S)
    gam = xp.asarray([float(g) for g in gammas], dtype=dtype)[:, None, None]  # (nh, 1, 1)
    powers = gam ** xp.maximum(distance, 0).astype(dtype)                     # (nh, T, S)
    return minigrad.Tensor(xp.where(distance >= 0, powers, 0).astype(dtype), device=device)


class CausalLinearAttention(Module):
    """x (N, T, E) -> (N, T, E), causal.  See the module doc.

    decay: None (gamma = 1), one gamma for every head, or a sequence of nh gammas in (0, 1].
    mode: "parallel", "recurrent" or "chunked"; scan_mode: the recurrence's mode in the
    recurrent form (loop, scan, chunked); chunk_size: C of the chunked forms.
    """

    def __init__(self, embed_dim, num_heads, decay=None, bias=True, device=None, dtype=None,
                 mode="parallel", scan_mode="scan", chunk_size=64):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"CausalLinearAttention: embed_dim {embed_dim} is not divisible "
                             f"by num_heads {num_heads}")
        if decay is None:
            gammas = (1.0,) * num_heads
        elif isinstance(decay, (int, float)):
            gammas = (float(decay),) * num_heads
        else:
            gammas = tuple(float(g) for g in decay)
        if len(gammas) != num_heads or not all(0 < g <= 1 for g in gammas):
            raise ValueError(f"CausalLinearAttention: decay must be None, one number or "
                             f"{num_heads} numbers in (0, 1], got {decay!r}")
        if mode not in MODES:
            raise ValueError(f"CausalLinearAttention: mode must be one of {MODES}, got {mode!r}")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.decay, self.gammas = decay, gammas
        self.mode, self.chunk_size = mode, chunk_size
        self.scan_mode = check_mode("CausalLinearAttention", scan_mode)
        factory = dict(bias=bias, device=device, dtype=dtype)
        self.q_proj = Linear(embed_dim, embed_dim, **factory)
        self.k_proj = Linear(embed_dim, embed_dim, **factory)
        self.v_proj = Linear(embed_dim, embed_dim, **factory)
        self.out_proj = Linear(embed_dim, embed_dim, **factory)

    def _heads(self, x):                       # (N, T, E) -> (N, nh, T, hd)
        N, T, _ = x.shape
        return x.reshape(N, T, self.num_heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x, mode=None):
        if x.ndim != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(f"CausalLinearAttention: expected x (N, T, E={self.embed_dim}), "
                             f"got {x.shape}")
        mode = mode or self.mode
        if mode not in MODES:
            raise ValueError(f"CausalLinearAttention: mode must be one of {MODES}, got {mode!r}")
        N, T, E = x.shape
        q = elu_feature_map(self._heads(self.q_proj(x)))             # (N, nh, T, hd)
        k = elu_feature_map(self._heads(self.k_proj(x)))
        v = self._heads(self.v_proj(x))
        y = {"parallel": self._parallel, "recurrent": self._recurrent,
             "chunked": self._chunked}[mode](q, k, v)                # (N, nh, T, hd)
        return self.out_proj(y.permute(0, 2, 1, 3).reshape(N, T, E))

    def _mask(self, T, S=None, offset=0, like=None):
        return decay_mask(self.gammas, T, S, offset, dtype=like.dtype, device=like.device)

    def _parallel(self, q, k, v):
        W = (q @ k.mT) * self._mask(q.shape[2], like=q)               # (N, nh, T, T)
        return (W @ v) / (W.sum(dim=-1, keepdim=True) + EPS)

    def _recurrent(self, q, k, v):
        N, nh, T, hd = q.shape
        outer = k.unsqueeze(-1) * v.unsqueeze(-2)                    # (N, nh, T, hd, hd)
        b = minigrad.cat([outer.reshape(N * nh, T, hd * hd), k.reshape(N * nh, T, hd)], dim=-1)
        gam = minigrad.tensor(self.gammas, dtype=q.dtype, device=q.device)
        a = (gam.reshape(1, nh, 1, 1) * minigrad.ones(N, nh, T, hd * hd + hd, dtype=q.dtype,
                                                       device=q.device))
        h = linear_recurrence(a.reshape(N * nh, T, -1), b, mode=self.scan_mode,
                              chunk_size=self.chunk_size)            # (N nh, T, hd hd + hd)
        S = h[..., :hd * hd].reshape(N, nh, T, hd, hd)
        z = h[..., hd * hd:].reshape(N, nh, T, hd)
        num = (q.unsqueeze(-2) @ S).squeeze(-2)                      # (N, nh, T, hd)
        return num / ((q * z).sum(dim=-1, keepdim=True) + EPS)

    def _chunked(self, q, k, v):
        N, nh, T, hd = q.shape
        C = max(1, min(int(self.chunk_size), T))
        gam = minigrad.tensor(self.gammas, dtype=q.dtype, device=q.device).reshape(1, nh, 1, 1)
        S, z = self._zero_state(N, q)
        outs = []
        for start in range(0, T, C):
            qc, kc, vc = (t[:, :, start:start + C] for t in (q, k, v))    # (N, nh, c, hd)
            c = qc.shape[2]
            j = minigrad.arange(float(c), dtype=q.dtype, device=q.device).reshape(1, 1, c, 1)
            into = gam ** (j + 1)                        # gamma^{j+1}: from the chunk's start
            out_of = gam ** (c - 1 - j)                  # gamma^{c-1-s}: to the chunk's end
            W = (qc @ kc.mT) * self._mask(c, like=q)                 # (N, nh, c, c) inside
            num = W @ vc + (qc * into) @ S                           # + from earlier chunks
            den = W.sum(dim=-1, keepdim=True) + ((qc * into) * z.unsqueeze(2)).sum(
                dim=-1, keepdim=True)
            outs.append(num / (den + EPS))
            S = gam ** c * S + (kc * out_of).mT @ vc                 # (N, nh, hd, hd)
            z = gam.squeeze(-1) ** c * z + (kc * out_of).sum(dim=2)  # (N, nh, hd)
        return minigrad.cat(outs, dim=2)

    def _zero_state(self, N, like):
        nh, hd = self.num_heads, self.head_dim
        return (minigrad.zeros(N, nh, hd, hd, dtype=like.dtype, device=like.device),
                minigrad.zeros(N, nh, hd, dtype=like.dtype, device=like.device))

    def new_state(self, N):
        """(S (N, nh, hd, hd), z (N, nh, hd)), zeros: the whole memory of the past."""
        return self._zero_state(N, self.q_proj.weight)

    def step(self, x_t, state):
        """One token: x_t (N, E), state -> (y_t (N, E), new state)."""
        S, z = state
        N = x_t.shape[0]
        nh, hd = self.num_heads, self.head_dim
        q = elu_feature_map(self.q_proj(x_t).reshape(N, nh, hd))
        k = elu_feature_map(self.k_proj(x_t).reshape(N, nh, hd))
        v = self.v_proj(x_t).reshape(N, nh, hd)
        gam = minigrad.tensor(self.gammas, dtype=x_t.dtype, device=x_t.device).reshape(1, nh, 1)
        S = gam.unsqueeze(-1) * S + k.unsqueeze(-1) * v.unsqueeze(-2)   # S_t = g S + k v^T
        z = gam * z + k                                                  # z_t = g z + k
        y = (q.unsqueeze(-2) @ S).squeeze(-2) / ((q * z).sum(dim=-1, keepdim=True) + EPS)
        return self.out_proj(y.reshape(N, nh * hd)), (S, z)

    def extra_repr(self):
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, decay={self.decay!r}, "
                f"mode={self.mode!r}")
