"""All ops, each a Function with a hand-written forward and backward.

One file per family: elementwise (arithmetic and pointwise functions), reduce, shape,
index, matmul.  The functions here are what Tensor methods and operators call.
"""
from .elementwise import *   # noqa: F401,F403
from .reduce import *        # noqa: F401,F403
from .shape import *         # noqa: F401,F403
from .index import *         # noqa: F401,F403
from .matmul import *        # noqa: F401,F403

# The ops that are also Tensor methods (x.exp(), x.sum(dim=1), ...).
TENSOR_METHODS = [
    "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "gelu", "abs", "clip", "clamp",
    "sum", "mean", "reshape", "view", "permute", "transpose", "masked_fill", "matmul",
    "maximum", "minimum",
]
