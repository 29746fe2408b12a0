"""Dropout, as ``torch.nn.Dropout``: active in train mode, the identity in eval mode."""
from minigrad.nn import Module
import minigrad.nn.functional as F

__all__ = ["Dropout"]


class Dropout(Module):
    """Zero each element with probability p while training, scaling the rest by 1/(1-p)."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p = p

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"
