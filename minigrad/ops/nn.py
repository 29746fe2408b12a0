"""Neural-network ops: softmax family, dropout, embedding, layer norm, linear, one_hot.

Each is one Function with a hand-written backward, so the graph holds one node per call
and a student can read the derivative next to the forward.  Losses live in ``loss.py``.
PyTorch's names, argument order and defaults throughout.
"""
from ..function import Function
from ..tensor import Tensor
from .. import backend
from ..random import generator
from ._util import normalize_dims

__all__ = ["softmax", "log_softmax", "logsumexp", "dropout", "embedding", "layer_norm",
           "LayerNormFunction", "linear", "one_hot"]


def _safe_max(xp, x, axis):
    """max over ``axis`` (kept), with +-inf replaced by 0.

    Subtracting the max makes exp() overflow-free (every exponent <= 0), which is what
    keeps logits of 1e4 finite.  A row that is all -inf has max -inf, and -inf - (-inf)
    is NaN; shifting that row by 0 instead gives exp(-inf) = 0, the right limit.
    An empty x (a size-0 dim) has no max: it is shifted by 0 too.
    """
    if x.size == 0:
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        axes = {a % x.ndim for a in axes}
        return xp.zeros([1 if i in axes else n for i, n in enumerate(x.shape)], dtype=x.dtype)
    m = x.max(axis=axis, keepdims=True)
    return xp.where(xp.isfinite(m), m, xp.zeros((), dtype=m.dtype))


def _log_softmax(xp, x, axis):
    """(x - max) - log(sum(exp(x - max))): log-probabilities without log of tiny numbers."""
    if x.size == 0:                      # a size-0 dim: an empty result, as PyTorch's
        return x.copy()
    shifted = x - _safe_max(xp, x, axis)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


def _check_dim(op, dim, ndim):
    if dim is None:
        raise TypeError(f"{op}: give the dim to normalise over (PyTorch's implicit dim "
                        "choice is deprecated), e.g. dim=-1")
    return normalize_dims(op, dim, ndim)[0] if ndim else 0


# ---------------------------------------------------------------- softmax family
class Softmax(Function):
    """y = exp(x - max) / sum(exp(x - max)) along ``dim``."""

    @staticmethod
    def forward(ctx, x, dim=-1):            # x: any shape, e.g. (N, V) logits
        xp = ctx.xp
        e = xp.exp(x - _safe_max(xp, x, dim))
        y = e / e.sum(axis=dim, keepdims=True)
        ctx.dim = dim
        ctx.save_for_backward(y)            # the Jacobian needs only y
        return y

    @staticmethod
    def backward(ctx, grad):
        # dy_i/dx_j = y_i (delta_ij - y_j)  =>  dx = y * (g - sum_i g_i y_i)
        (y,) = ctx.saved
        ### BEGIN SOLUTION hw1.softmax
        ### TODO: y = softmax(x) along ctx.dim, saved.  grad (shape of y) -> grad_x, same shape.
        ###       dy_i/dx_j = y_i (delta_ij - y_j): grad_x = y (grad - sum over ctx.dim of grad y).
        return y * (grad - (grad * y).sum(axis=ctx.dim, keepdims=True))
        ### END SOLUTION


class LogSoftmax(Function):
    """y = x - logsumexp(x) along ``dim``, computed as (x - max) - log(sum exp(x - max))."""

    @staticmethod
    def forward(ctx, x, dim=-1):
        y = _log_softmax(ctx.xp, x, dim)
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        # dy_i/dx_j = delta_ij - softmax_j  =>  dx = g - softmax * sum(g)
        (y,) = ctx.saved
        ### BEGIN SOLUTION hw1.softmax
        ### TODO: y = log_softmax(x) along ctx.dim, saved.  grad -> grad_x, same shape.
        ###       dy_i/dx_j = delta_ij - softmax_j: grad_x = grad - exp(y) (sum over ctx.dim of grad).
        return grad - ctx.xp.exp(y) * grad.sum(axis=ctx.dim, keepdims=True)
        ### END SOLUTION


class LogSumExp(Function):
    """log(sum(exp(x))) over ``dims`` = m + log(sum(exp(x - m))), m the max."""

    @staticmethod
    def forward(ctx, x, dims=(), keepdim=False):
        xp = ctx.xp
        m = _safe_max(xp, x, dims)
        out = m + xp.log(xp.exp(x - m).sum(axis=dims, keepdims=True))   # dims kept
        ctx.dims, ctx.keepdim = dims, keepdim
        ctx.save_for_backward(x, out)
        return out if keepdim else out.reshape([n for i, n in enumerate(x.shape)
                                                if i not in dims])

    @staticmethod
    def backward(ctx, grad):
        # d lse / dx = exp(x - lse) = softmax(x) over the reduced dims
        x, out = ctx.saved
        if not ctx.keepdim:
            grad = grad.reshape(out.shape)
        return grad * ctx.xp.exp(x - out)


def softmax(input, dim=None):
    """Softmax along ``dim``; stable for huge logits (the max is subtracted first)."""
    return Softmax.apply(input, dim=_check_dim("softmax", dim, input.ndim))


def log_softmax(input, dim=None):
    """log(softmax(x)) along ``dim``, without ever computing log of a tiny number."""
    return LogSoftmax.apply(input, dim=_check_dim("log_softmax", dim, input.ndim))


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x), dim)); ``dim`` an int or a tuple of ints."""
    return LogSumExp.apply(input, dims=normalize_dims("logsumexp", dim, input.ndim),
                           keepdim=keepdim)


# ---------------------------------------------------------------- dropout
class Dropout(Function):
    """Inverted dropout: y = x * mask / (1 - p), mask ~ Bernoulli(1 - p).

    Scaling the kept units by 1/(1 - p) at training time keeps E[y] = x, so evaluation
    needs no rescaling: there, dropout is the identity.
    """

    @staticmethod
    def forward(ctx, x, p=0.5):
        keep = 1.0 - p
        draws = generator(backend.device_of(x)).random_sample(x.shape)
        # the scaled mask in x's dtype: 0 for dropped units, 1/(1-p) for kept ones
        mask = (draws < keep).astype(x.dtype) * (1.0 / keep if keep > 0 else 0.0)
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad):                # the same units are dropped on the way back
        (mask,) = ctx.saved
        return grad * mask


def dropout(input, p=0.5, training=True):
    """Zero each element with probability ``p`` while training; identity otherwise."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    return Dropout.apply(input, p=p)


# ---------------------------------------------------------------- embedding
class Embedding(Function):
    """out[...] = weight[indices[...]]: a table lookup, rows of weight (V, E)."""

    @staticmethod
    def forward(ctx, indices, weight, padding_idx=None):   # indices: (N, T) ints
        ctx.num_embeddings, ctx.padding_idx = weight.shape[0], padding_idx
        ctx.save_for_backward(indices)
        return weight[indices]                               # (N, T, E)

    @staticmethod
    def backward(ctx, grad):                                 # grad: (N, T, E)
        (indices,) = ctx.saved
        embedding_dim = grad.shape[-1]
        grad_weight = ctx.xp.zeros((ctx.num_embeddings, embedding_dim), dtype=grad.dtype)
        # a row used k times gets the sum of its k gradients: scatter-add, not assign
        backend.scatter_add(grad_weight, indices.reshape(-1),
                            grad.reshape(-1, embedding_dim))
        if ctx.padding_idx is not None:
            grad_weight[ctx.padding_idx] = 0                 # the padding row stays fixed
        return None, grad_weight


def embedding(input, weight, padding_idx=None):
    """Rows of ``weight`` (V, E) picked by integer ``input`` (any shape) -> (*input.shape, E)."""
    if not isinstance(input, Tensor):
        input = Tensor(input, device=weight.device)
    if input.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer tensor, got dtype "
                        f"{input.dtype}; use .long()")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be (num_embeddings, embedding_dim), got "
                         f"shape {weight.shape}")
    num_embeddings = weight.shape[0]
    if input.numel():
        low, high = int(input.data.min()), int(input.data.max())
        if low < 0 or high >= num_embeddings:
            raise IndexError(f"embedding: indices must be in [0, {num_embeddings - 1}] "
                             f"for a table of {num_embeddings} rows, got values in "
                             f"[{low}, {high}]")
    if padding_idx is not None:
        if not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"embedding: padding_idx {padding_idx} is outside the table "
                             f"of {num_embeddings} rows")
        padding_idx %= num_embeddings
    return Embedding.apply(input, weight, padding_idx=padding_idx)


# ---------------------------------------------------------------- layer norm
class LayerNormFunction(Function):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last k dims.

    Inputs: x (..., *normalized_shape), weight and bias normalized_shape or None.
    mean and the (biased) var are taken over the n = prod(normalized_shape) last elements.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, k=1, eps=1e-5):
        xp = ctx.xp
        dims = tuple(range(x.ndim - k, x.ndim))              # the normalised dims
        mean = x.mean(axis=dims, keepdims=True)              # (..., 1, ..., 1)
        centred = x - mean
        var = (centred * centred).mean(axis=dims, keepdims=True)   # biased, as PyTorch
        rstd = 1.0 / xp.sqrt(var + eps)                      # (..., 1): 1 / std
        xhat = centred * rstd                                # (..., *normalized_shape)
        ctx.dims = dims
        ctx.save_for_backward(xhat, rstd, weight)
        y = xhat if weight is None else xhat * weight
        return y if bias is None else y + bias

    @staticmethod
    def backward(ctx, grad):
        ### BEGIN SOLUTION hw3.layer_norm
        ### TODO: from grad (..., *normalized_shape) and the saved xhat, rstd = 1/sqrt(var+eps),
        ###       weight: grad_weight = sum over batch dims of grad * xhat, grad_bias = sum of
        ###       grad, and grad_x = (rstd / n) (n dxhat - sum dxhat - xhat sum(dxhat xhat))
        ###       with dxhat = grad * weight and n = prod(normalized_shape).
        xhat, rstd, weight = ctx.saved
        dims = ctx.dims
        lead = tuple(range(grad.ndim - len(dims)))           # the batch dims
        grad_weight = (grad * xhat).sum(axis=lead) if ctx.needs_input_grad[1] else None
        grad_bias = grad.sum(axis=lead) if ctx.needs_input_grad[2] else None
        grad_x = None
        if ctx.needs_input_grad[0]:
            dxhat = grad if weight is None else grad * weight
            # dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)): the mean and the
            # variance both depend on every x, hence the two correction terms
            grad_x = rstd * (dxhat - dxhat.mean(axis=dims, keepdims=True)
                             - xhat * (dxhat * xhat).mean(axis=dims, keepdims=True))
        ### END SOLUTION
        return grad_x, grad_weight, grad_bias


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` dims (PyTorch's F.layer_norm)."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or input.shape[input.ndim - k:] != normalized_shape:
        raise ValueError(f"layer_norm: input of shape {input.shape} does not end in "
                         f"normalized_shape {normalized_shape}")
    for name, param in (("weight", weight), ("bias", bias)):
        if param is not None and param.shape != normalized_shape:
            raise ValueError(f"layer_norm: {name} has shape {param.shape}, expected "
                             f"normalized_shape {normalized_shape}")
    return LayerNormFunction.apply(input, weight, bias, k=k, eps=eps)


# ---------------------------------------------------------------- linear
class Linear(Function):
    """y = x W^T + b with W (H, D) as in PyTorch: x (..., D) -> y (..., H)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        if x.shape[-1] != weight.shape[1]:
            raise ValueError(f"linear: input of shape {tuple(x.shape)} has {x.shape[-1]} "
                             f"features, but weight of shape {tuple(weight.shape)} expects "
                             f"{weight.shape[1]}")
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        H, D = weight.shape
        # all batch dims as M rows of one GEMM (a 3-D x @ W^T would run one GEMM per
        # leading index): (M, D) @ (D, H) -> (M, H), M = prod(x.shape[:-1])
        y = x.reshape(-1, D) @ weight.T
        if bias is not None and bias.dtype == y.dtype:
            y += bias                                         # in place: y is a new array
        elif bias is not None:
            y = y + bias                                      # mixed dtypes promote, as before
        return y.reshape(x.shape[:-1] + (H,))

    @staticmethod
    def backward(ctx, grad):                                  # grad: (..., H)
        x, weight = ctx.saved
        H, D = weight.shape
        grad_2d = grad.reshape(-1, H)                         # (M, H), M = all batch dims
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = (grad_2d @ weight).reshape(x.shape)      # (M, H) @ (H, D), one GEMM
        if ctx.needs_input_grad[1]:
            grad_weight = grad_2d.T @ x.reshape(-1, D)        # (H, M) @ (M, D)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad_2d.sum(axis=0)                   # (H,)
        return grad_x, grad_weight, grad_bias


def linear(input, weight, bias=None):
    """x @ weight.T + bias; weight (out_features, in_features)."""
    return Linear.apply(input, weight, bias)


# ---------------------------------------------------------------- one_hot
def one_hot(tensor, num_classes=-1):
    """int64 (*shape, num_classes) with a 1 at each index; no gradient (an integer op)."""
    if tensor.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got dtype "
                        f"{tensor.dtype}")
    data = tensor.data
    if num_classes == -1:
        num_classes = int(data.max()) + 1 if data.size else 0
    if data.size and (int(data.min()) < 0 or int(data.max()) >= num_classes):
        raise IndexError(f"one_hot: class values must be in [0, {num_classes - 1}], got "
                         f"values in [{int(data.min())}, {int(data.max())}]")
    xp = tensor.xp
    classes = xp.arange(num_classes)
    out = (data[..., None] == classes).astype(backend.int64)
    return Tensor._from_op(out, None, 0)
