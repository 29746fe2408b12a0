"""minigrad: a small tensor autograd engine on NumPy (CPU) or CuPy (GPU).

    import minigrad
    x = minigrad.tensor([[1.0, 2.0]], requires_grad=True)
    y = (x * x).sum()
    y.backward()            # x.grad == 2 x
"""
from .tensor import Tensor
from .function import Function, Context
from .autograd import no_grad, enable_grad, set_grad_enabled, detect_anomaly, grad_enabled
from .creation import (tensor, as_tensor, from_numpy, zeros, ones, full, zeros_like, ones_like,
                       full_like, randn, rand, randint, arange, eye, empty)
from .random import manual_seed
from .backend import float32, float64, int64, int32, bool_, available_devices
from . import ops
from .ops import (add, sub, mul, div, pow, neg, exp, log, sqrt, tanh, sigmoid, relu, gelu,
                  erf, abs, clip, clamp, where, masked_fill, maximum, minimum, lt, le, gt, ge,
                  eq, ne, matmul, sum, mean, var, std, amax, amin, max, min, argmax, argmin,
                  any, all, MaxMin, reshape, view, permute, transpose, swapaxes, swapdims,
                  expand, squeeze, unsqueeze, flatten, cat, concatenate, stack, split, chunk,
                  pad, tril, triu, repeat, getitem, index_select, gather)
from .gradcheck import gradcheck, numerical_grad, rel_error, GradcheckError
from .serialization import save, load

from .ops import unbroadcast   # undo broadcasting in a hand-written backward (layers/)
from . import nn, optim

__version__ = "0.1.0"
