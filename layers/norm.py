"""LayerNorm, as ``torch.nn.LayerNorm``, on the hand-written ``LayerNormFunction``.

    y = (x - mean) / sqrt(var + eps) * weight + bias

mean and the biased var are taken over the trailing ``normalized_shape`` dims of x, e.g. over
E for x (N, T, E).  The forward and the hand-written backward live in minigrad/ops/nn.py
(``LayerNormFunction``); ``layer_norm_composed`` writes the same formula with minigrad ops so
autograd can check that backward.
"""
import minigrad
from minigrad.nn import Module, Parameter, init
import minigrad.nn.functional as F

__all__ = ["LayerNorm", "layer_norm_composed"]


def _as_shape(normalized_shape):
    if isinstance(normalized_shape, int):
        return (normalized_shape,)
    return tuple(normalized_shape)


class LayerNorm(Module):
    """Normalise each position over its last dims.  x (..., *normalized_shape) -> same shape.

    Parameters (PyTorch's names): weight (normalized_shape) init ones, bias (normalized_shape)
    init zeros, both present only with ``elementwise_affine=True`` (``bias=False`` drops the
    bias alone, as in PyTorch >= 2.1).
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _as_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(minigrad.empty(*self.normalized_shape, dtype=dtype,
                                                   device=device))
            if bias:
                self.bias = Parameter(minigrad.empty(*self.normalized_shape, dtype=dtype,
                                                     device=device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


def layer_norm_composed(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """F.layer_norm written with minigrad ops: autograd derives the backward.

    The reference that tests compare the hand-written LayerNormFunction against.
    """
    normalized_shape = _as_shape(normalized_shape)
    if input.shape[input.ndim - len(normalized_shape):] != normalized_shape:
        raise ValueError(f"layer_norm_composed: input of shape {input.shape} does not end "
                         f"in normalized_shape {normalized_shape}")
    dims = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    mean = input.mean(dim=dims, keepdim=True)
    centred = input - mean
    var = (centred * centred).mean(dim=dims, keepdim=True)      # biased, as PyTorch
    out = centred / (var + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out
