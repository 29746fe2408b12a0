"""A key/value cache for incremental (token by token) decoding of a causal Transformer.

Without a cache, generating token t+1 runs the model on the whole prefix again: step t costs
O(t) projections and O(t^2) attention scores, O(T^3) over a sequence.  But in a causal model
the keys and values of the past positions never change (position j sees only positions
<= j), so each self-attention layer can keep them and compute only the new position's

    q_t, k_t, v_t = x_t W_q, x_t W_k, x_t W_v                  (N, nh, 1, hd) each
    K = [k_0 .. k_t], V = [v_0 .. v_t]                          (N, nh, t+1, hd), cached
    out_t = softmax(q_t K^T / sqrt(hd)) V                       (N, nh, 1, hd)

which is O(t) per step.  The logits are the same as recomputing the prefix (to rounding).

``KVCache`` serves one attention module: ``MultiheadAttention.forward(..., cache=kv)`` calls
``kv.update``, which writes the new keys and values into arrays preallocated on first use as
(N, nh, T_max, hd) and returns all keys and values so far, with the causal mask fitted to
the new queries.  ``DecoderCache`` holds one ``KVCache`` per layer, and ``length``, the
number of positions already seen (the positional offset of the next token).

The cache is for inference (use it under ``minigrad.no_grad()``): its arrays are plain
buffers outside the autograd graph, so gradients cannot flow into past positions.
"""
from minigrad.autograd import grad_enabled
from minigrad.tensor import Tensor

__all__ = ["KVCache", "DecoderCache", "cached_causal_mask"]


def cached_causal_mask(xp, T, S):
    """Bool (T, S), True = masked out (PyTorch MHA's convention): T new queries at positions
    S-T .. S-1 over S keys at 0 .. S-1; query i sees key j iff j <= S - T + i.

    (The attention kernel's ``is_causal`` is top-left aligned, j <= i, which is right only
    when T == S, i.e. when there is no past.)
    """
    return xp.arange(S)[None, :] > (S - T + xp.arange(T))[:, None]


class KVCache:
    """Keys and values of the past positions of one self-attention module.

    keys, values: (N, nh, T_max, hd) backend arrays, allocated on the first ``update``
    (shape, dtype and device from the first keys); ``length`` positions are filled.
    """

    def __init__(self, max_len):
        if max_len < 1:
            raise ValueError(f"KVCache: max_len must be >= 1, got {max_len}")
        self.max_len = max_len
        self.keys = self.values = None
        self.length = 0

    def update(self, k, v, attn_mask=None, is_causal=False):
        """Append k, v (N, nh, T, hd) at positions length .. length+T-1.

        Returns (keys, values, attn_mask, is_causal) for the attention of the T new queries:
        keys and values (N, nh, length+T, hd) as Tensors (views of the buffers), and
        ``is_causal`` turned into an explicit bottom-right aligned (T, S) mask.
        """
        if grad_enabled() and (k.requires_grad or v.requires_grad):
            raise RuntimeError("KVCache.update: the cache is for inference and cuts the "
                               "autograd graph; run decoding under minigrad.no_grad()")
        N, nh, T, hd = k.shape
        xp = k.xp
        if self.keys is None:
            self.keys = xp.zeros((N, nh, self.max_len, hd), dtype=k.dtype)
            self.values = xp.zeros((N, nh, self.max_len, v.shape[-1]), dtype=v.dtype)
        if (N, nh, hd) != (self.keys.shape[0], self.keys.shape[1], self.keys.shape[3]):
            raise ValueError(f"KVCache.update: keys of shape {k.shape} do not fit a cache of "
                             f"(N, nh, T_max, hd) = {self.keys.shape}")
        start, stop = self.length, self.length + T
        if stop > self.max_len:
            raise ValueError(f"KVCache.update: positions {start}..{stop - 1} exceed the "
                             f"cache's max_len {self.max_len}; build it with a larger max_len")
        self.keys[:, :, start:stop] = k.data
        self.values[:, :, start:stop] = v.data
        self.length = stop
        if is_causal:
            if attn_mask is not None:
                raise ValueError("KVCache.update: give is_causal or attn_mask with a cache, "
                                 "not both")
            # one new query (the usual step) sees every cached key: no mask needed
            attn_mask = None if T == 1 else Tensor(cached_causal_mask(xp, T, stop),
                                                   device=k.device)
            is_causal = False
        # device= given: a bare host (NumPy) array would go to the default device instead
        return (Tensor(self.keys[:, :, :stop], device=k.device),
                Tensor(self.values[:, :, :stop], device=k.device), attn_mask, is_causal)

    def reorder(self, index):
        """Keep rows ``index`` (an int array of length N') of the batch: beam search moves
        each surviving hypothesis's past onto its new beam slot."""
        if self.keys is not None:                  # index: a backend int array
            self.keys = self.keys[index]
            self.values = self.values[index]


class DecoderCache:
    """One ``KVCache`` per layer of a decoder stack.

    ``length`` is the number of positions already decoded: the position of the next token.
    """

    def __init__(self, num_layers, max_len):
        self.layers = [KVCache(max_len) for _ in range(num_layers)]
        self.max_len = max_len

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    @property
    def length(self):
        return self.layers[0].length if self.layers else 0

    def reorder(self, index):
        """Reorder the batch of every layer (see ``KVCache.reorder``)."""
        for layer in self.layers:
            layer.reorder(index)
