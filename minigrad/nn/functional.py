"""The functional namespace, PyTorch's ``F``: ``import minigrad.nn.functional as F``.

Stateless functions of tensors; Modules (``layers/``) hold the parameters and call these.
Each is a thin name for an op in ``minigrad/ops``, where the forward and backward live.
"""
from ..ops.elementwise import relu, gelu, sigmoid, tanh
from ..ops.nn import (softmax, log_softmax, logsumexp, dropout, embedding, layer_norm,
                      linear, one_hot)
from ..ops.loss import cross_entropy, nll_loss, mse_loss, binary_cross_entropy_with_logits

__all__ = ["softmax", "log_softmax", "logsumexp", "relu", "gelu", "sigmoid", "tanh",
           "dropout", "embedding", "one_hot", "linear", "layer_norm", "cross_entropy",
           "nll_loss", "mse_loss", "binary_cross_entropy_with_logits", "pad"]


def pad(input, pad, mode="constant", value=0.0):
    """Pad the last dims of ``input``: ``pad`` = (left_last, right_last, left_2nd_last, ...)."""
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is implemented, got {mode!r}")
    from .. import ops          # the shape ops own pad; looked up at call time
    return ops.pad(input, pad, value=value)
