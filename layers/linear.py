"""Linear (y = x W^T + b), as ``torch.nn.Linear`` (Identity lives in minigrad.nn.activation,
re-exported here for old imports)."""
import math

import minigrad
from minigrad.nn import Module, Parameter, init, Identity
import minigrad.nn.functional as F

__all__ = ["Linear", "Identity"]


class Linear(Module):
    """y = x W^T + b.  x: (..., D) -> y: (..., H), D = in_features, H = out_features.

    Parameters (PyTorch's names and shapes): weight (H, D), bias (H,).
    Init as PyTorch: kaiming_uniform_(a=sqrt(5)) on weight, which works out to
    U(-1/sqrt(D), 1/sqrt(D)) (gain sqrt(2/6) times sqrt(3/D)); bias U(-1/sqrt(D), 1/sqrt(D)).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(minigrad.empty(out_features, in_features, dtype=dtype,
                                               device=device))
        if bias:
            self.bias = Parameter(minigrad.empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        if input.dtype != self.weight.dtype:       # as PyTorch: no silent float64 upcast
            raise TypeError(f"Linear: expected input of dtype {self.weight.dtype} (the "
                            f"weight's), got {input.dtype}; cast the input with .float()/"
                            ".double() or the layer with .to(dtype=...)")
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
