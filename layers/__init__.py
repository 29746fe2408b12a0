"""layers: the Modules built on minigrad (Linear, Embedding, ..., RNNs, attention, Transformer)."""
from .linear import Linear, Identity
from .embedding import Embedding
from .dropout import Dropout
from .container import Sequential
