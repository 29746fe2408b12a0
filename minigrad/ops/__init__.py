"""All ops, each a Function with a hand-written forward and backward.

One file per family: elementwise (arithmetic and pointwise functions), special (erf),
select (where, maximum, comparisons), reduce, shape, index, matmul.  The functions here are
what Tensor methods and operators call.
"""
from .elementwise import *   # noqa: F401,F403
from .special import *       # noqa: F401,F403
from .select import *        # noqa: F401,F403
from .reduce import *        # noqa: F401,F403
from .shape import *         # noqa: F401,F403
from .index import *         # noqa: F401,F403
from .matmul import *        # noqa: F401,F403
from ._util import unbroadcast  # noqa: F401  (public: layers' hand-written backwards use it)

# The ops that are also Tensor methods (x.exp(), x.sum(dim=1), ...), under the same name.
# (Operators, x.where(condition, y) and .T/.mT are written in the Tensor class body.)
TENSOR_METHODS = [
    # elementwise
    "add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "tanh", "sigmoid", "relu",
    "gelu", "erf", "abs", "clip", "clamp", "masked_fill", "maximum", "minimum",
    "lt", "le", "gt", "ge", "eq", "ne",
    # reductions
    "sum", "mean", "var", "std", "amax", "amin", "max", "min", "argmax", "argmin", "any", "all",
    # shape
    "reshape", "view", "permute", "transpose", "swapaxes", "swapdims", "expand", "expand_as",
    "squeeze", "unsqueeze", "flatten", "split", "chunk", "pad", "tril", "triu", "contiguous",
    "repeat",
    # indexing, matmul
    "index_select", "gather", "matmul",
]
