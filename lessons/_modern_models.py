"""Small sequence models over tokens for lessons 12 and 13: embedding -> blocks -> head.

    x     = embed(tokens)  (+ sinusoidal positions for "transformer_sinusoidal")   (N, T, E)
    x     = x + mixer(norm1(x));  x = x + mlp(norm2(x))      per block (Mamba: no MLP, as the paper)
    logit = head(norm(x))                                                         (N, T, V)

The mixer is what the lessons compare (``KINDS``):

  lstm                      layers.LSTM (batch_first): a nonlinear recurrence, state (h, c)
  transformer_<positions>   causal softmax attention, positions "sinusoidal" (added to the
                            input), "rope" (q, k rotated), "alibi" (a distance penalty added to
                            the scores) or "nope" (none: the causal mask alone orders tokens)
  linear_attention          layers.CausalLinearAttention: a (hd x hd) state per head
  mingru                    layers.MinGRU: h_t = (1 - z_t) h_{t-1} + z_t h~_t, gates from x_t only
  mamba                     layers.Mamba(selective=True): delta, B, C depend on the input
  mamba_lti                 layers.Mamba(selective=False): the same block, delta/B/C fixed

Every model runs in parallel over a sequence (``forward``) and one token at a time
(``new_state`` / ``step``); ``state_bytes(state)`` counts what generation keeps in memory: a
fixed state for the recurrences, the growing KV cache for attention.

The attention mixer is written here (a few lines over ``scaled_dot_product_attention``) so that
RoPE and ALiBi sit inside it where a student can see them.
"""

import minigrad
import minigrad.nn.functional as F
from minigrad.nn import Module, ModuleList, init
import layers
from layers import LayerNorm, Linear, Embedding, scaled_dot_product_attention, apply_rotary
from layers.positional import sinusoidal_table

KINDS = ("lstm", "transformer_sinusoidal", "transformer_rope", "transformer_alibi",
         "transformer_nope", "linear_attention", "mingru", "mamba", "mamba_lti")
ATTENTION = tuple(k for k in KINDS if k.startswith("transformer"))
NEEDS = {"linear_attention": "CausalLinearAttention", "mingru": "MinGRU", "mamba": "Mamba",
         "mamba_lti": "Mamba"}      # the layers each kind needs from layers/ (helper-built)
LABEL = {"lstm": "LSTM", "transformer_sinusoidal": "Transformer (sinusoidal)",
         "transformer_rope": "Transformer (RoPE)", "transformer_alibi": "Transformer (ALiBi)",
         "transformer_nope": "Transformer (no positions)", "linear_attention": "linear attention",
         "mingru": "minGRU", "mamba": "Mamba (selective)", "mamba_lti": "Mamba (not selective)"}


def available(kind):
    """True when the layer this kind needs exists in this checkout's ``layers``."""
    if kind not in KINDS:
        raise ValueError(f"model kind must be one of {KINDS}, got {kind!r}")
    return kind not in NEEDS or hasattr(layers, NEEDS[kind])


def alibi_slopes(num_heads):
    """ALiBi's head slopes (Press et al. 2021): 2^(-8 h / nh), h = 1 .. nh (nh a power of 2)."""
    return [2.0 ** (-8.0 * h / num_heads) for h in range(1, num_heads + 1)]


class CausalSelfAttention(Module):
    """Causal multi-head softmax attention, with RoPE, ALiBi or no position inside.

    forward(x (N, T, E)) -> (N, T, E); step(x_t (N, E), cache) -> (y_t (N, E), cache), where the
    cache holds every key and value so far: (N, nh, t, hd) each, growing by one step per token.
    """

    def __init__(self, embed_dim, num_heads, positions="nope"):
        super().__init__()
        self.num_heads, self.head_dim, self.positions = num_heads, embed_dim // num_heads, positions
        self.qkv = Linear(embed_dim, 3 * embed_dim)
        self.out = Linear(embed_dim, embed_dim)
        self.slopes = alibi_slopes(num_heads)

    def _heads(self, x):                       # (N, T, 3E) -> 3 x (N, nh, T, hd)
        N, T, _ = x.shape
        qkv = x.reshape(N, T, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        return qkv[0], qkv[1], qkv[2]

    def _alibi(self, xp, queries, keys):       # bias (nh, T, S) = -slope_h * (i - j)
        queries = xp.asarray(queries, dtype="float32")
        distance = queries[:, None] - xp.asarray(keys, dtype="float32")[None, :]      # (T, S)
        slopes = xp.asarray(self.slopes, dtype="float32")[:, None, None]
        return minigrad.Tensor(-slopes * xp.maximum(distance, 0)[None])

    def _attend(self, q, k, v, query_pos, key_pos, causal):
        xp = q.xp
        if self.positions == "rope":
            q, k = apply_rotary(q, xp.asarray(query_pos)), apply_rotary(k, xp.asarray(key_pos))
        bias = self._alibi(xp, query_pos, key_pos) if self.positions == "alibi" else None
        heads = scaled_dot_product_attention(q, k, v, attn_mask=bias, is_causal=causal)
        N, nh, T, hd = heads.shape
        return self.out(heads.permute(0, 2, 1, 3).reshape(N, T, nh * hd))   # (N, T, E)

    def forward(self, x):
        T = x.shape[1]
        q, k, v = self._heads(self.qkv(x))
        return self._attend(q, k, v, list(range(T)), list(range(T)), causal=True)

    def new_state(self, N):
        return {"k": None, "v": None, "t": 0}

    def step(self, x_t, cache):
        q, k, v = self._heads(self.qkv(x_t.reshape(x_t.shape[0], 1, -1)))    # (N, nh, 1, hd)
        if cache["k"] is not None:
            k, v = minigrad.cat([cache["k"], k], dim=2), minigrad.cat([cache["v"], v], dim=2)
        t = cache["t"]
        y = self._attend(q, k, v, [t], list(range(t + 1)), causal=False)     # keys 0..t only
        return y.reshape(y.shape[0], -1), {"k": k, "v": v, "t": t + 1}


class LSTMMixer(Module):
    """layers.LSTM as a mixer: forward (N, T, E) -> (N, T, E); step keeps (h, c)."""

    def __init__(self, embed_dim):
        super().__init__()
        self.lstm = layers.LSTM(embed_dim, embed_dim, batch_first=True)

    def forward(self, x):
        return self.lstm(x)[0]

    def new_state(self, N):
        return None

    def step(self, x_t, state):
        out, state = self.lstm(x_t.reshape(x_t.shape[0], 1, -1), state)
        return out.reshape(out.shape[0], -1), state


class MinGRUMixer(Module):
    """layers.MinGRU (E -> E) as a mixer: the output is the hidden state h."""

    def __init__(self, embed_dim):
        super().__init__()
        self.rnn = layers.MinGRU(embed_dim, embed_dim)

    def forward(self, x):
        return self.rnn(x)[0]

    def new_state(self, N):
        return None

    def step(self, x_t, h):
        if h is None:
            h = self.rnn.new_state(x_t.shape[0])
        h = self.rnn.step(x_t, h)
        return h, h


def make_mixer(kind, embed_dim, num_heads, d_state):
    """The sequence mixer of one block of this kind."""
    if kind == "lstm":
        return LSTMMixer(embed_dim)
    if kind in ATTENTION:
        positions = kind.split("_", 1)[1]
        return CausalSelfAttention(embed_dim, num_heads,
                                   "nope" if positions == "sinusoidal" else positions)
    if not available(kind):
        raise RuntimeError(f"{kind}: this checkout's layers has no {NEEDS[kind]} yet")
    if kind == "linear_attention":
        return layers.CausalLinearAttention(embed_dim, num_heads)
    if kind == "mingru":
        return MinGRUMixer(embed_dim)
    return layers.Mamba(embed_dim, d_state=d_state, selective=kind == "mamba")


class Block(Module):
    """x + mixer(norm1(x)), then x + mlp(norm2(x)) (no MLP for Mamba, whose block has its own)."""

    def __init__(self, kind, embed_dim, num_heads, d_state):
        super().__init__()
        self.norm1 = LayerNorm(embed_dim)
        self.mixer = make_mixer(kind, embed_dim, num_heads, d_state)
        self.has_mlp = not kind.startswith("mamba")
        if self.has_mlp:
            self.norm2 = LayerNorm(embed_dim)
            self.fc1, self.fc2 = Linear(embed_dim, 2 * embed_dim), Linear(2 * embed_dim, embed_dim)

    def _mlp(self, x):
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x)))) if self.has_mlp else x

    def forward(self, x):                      # (N, T, E) -> (N, T, E)
        return self._mlp(x + self.mixer(self.norm1(x)))

    def step(self, x_t, state):                # (N, E) -> (N, E)
        y, state = self.mixer.step(self.norm1(x_t), state)
        return self._mlp(x_t + y), state


class SequenceModel(Module):
    """tokens (N, T) ints -> logits (N, T, V), with ``num_layers`` blocks of one kind.

    With ``input_size=D`` the input is (N, T, D) floats, mapped in by a Linear (the adding task).
    """

    def __init__(self, kind, vocab_size, embed_dim=32, num_layers=2, num_heads=2, d_state=16,
                 input_size=None):
        super().__init__()
        self.kind, self.embed_dim = kind, embed_dim
        if input_size is None:
            self.embed = Embedding(vocab_size, embed_dim)
            init.normal_(self.embed.weight, 0.0, 1.0)
        else:
            self.embed = Linear(input_size, embed_dim)
        self.blocks = ModuleList([Block(kind, embed_dim, num_heads, d_state)
                                  for _ in range(num_layers)])
        self.norm = LayerNorm(embed_dim)
        self.head = Linear(embed_dim, vocab_size)

    def _positions(self, x, offset):           # sinusoidal only: computed for any length
        if self.kind != "transformer_sinusoidal":
            return x
        T = x.shape[-2] if x.ndim == 3 else 1      # (N, T, E) in forward, (N, E) in step
        table = sinusoidal_table(offset + T, self.embed_dim, device=x.device)[offset:]
        return x + (table if x.ndim == 3 else table.reshape(self.embed_dim))

    def forward(self, tokens):
        x = self._positions(self.embed(tokens), 0)                           # (N, T, E)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))                                       # (N, T, V)

    def new_state(self, N):
        return {"t": 0, "blocks": [block.mixer.new_state(N) for block in self.blocks]}

    def step(self, token, state):
        """One token (N,) -> logits (N, V) for the next, and the new state."""
        x = self._positions(self.embed(token), state["t"])                   # (N, E)
        states = []
        for block, s in zip(self.blocks, state["blocks"]):
            x, s = block.step(x, s)
            states.append(s)
        return self.head(self.norm(x)), {"t": state["t"] + 1, "blocks": states}


def state_bytes(state):
    """Bytes of every array in a (nested) state: what generation must keep between tokens."""
    if state is None or isinstance(state, (int, float, str)):
        return 0
    if isinstance(state, dict):
        return sum(state_bytes(v) for v in state.values())
    if isinstance(state, (list, tuple)):
        return sum(state_bytes(v) for v in state)
    data = getattr(state, "data", state)                 # a Tensor's array, or an array
    if hasattr(data, "nbytes"):
        return int(data.nbytes)
    if hasattr(state, "__dict__"):                       # a small state object (NamedTuple-like)
        return state_bytes(vars(state))
    return 0


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())
