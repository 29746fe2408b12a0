"""Embedding: a learned lookup table, as ``torch.nn.Embedding``."""
import minigrad
from minigrad.nn import Module, Parameter, init
import minigrad.nn.functional as F

__all__ = ["Embedding"]


class Embedding(Module):
    """Row ``i`` of weight (V, E) is the vector of token ``i``.

    Inputs: integer indices of any shape, e.g. (N, T).  Returns (N, T, E).
    padding_idx: that row starts at zero and gets no gradient, so a padding token stays
    the zero vector through training.  Init as PyTorch: N(0, 1).
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, device=None,
                 dtype=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within "
                                 f"the {num_embeddings} rows of the table")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        self.weight = Parameter(minigrad.empty(num_embeddings, embedding_dim, dtype=dtype,
                                               device=device))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with minigrad.no_grad():
                self.weight.data[self.padding_idx] = 0

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
