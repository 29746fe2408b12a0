"""Making tensors: from data, filled, random, ranges.  PyTorch's names and arguments."""
from . import backend
from .random import generator
from .tensor import Tensor

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "zeros_like", "ones_like",
           "full_like", "randn", "rand", "randint", "arange", "eye", "empty"]


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"expected a shape of non-negative ints, got {shape}")
    return tuple(shape)


def _make(array, requires_grad):
    t = Tensor._from_op(array, None, 0)
    return t.requires_grad_(True) if requires_grad else t


def _float_dtype(dtype):
    return backend.float32 if dtype is None else backend.dtype_of(dtype)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor with a copy of ``data`` (a list, a number or an array), as
    ``torch.tensor``: Python floats default to float32, arrays keep their dtype."""
    t = Tensor(data, dtype=dtype, device=device)
    if backend.is_array(data) and t.data is data:
        t.data = t.data.copy()
    return t.requires_grad_(True) if requires_grad else t


def as_tensor(data, dtype=None, device=None):
    """A tensor on ``data`` itself when it is already a backend array of that dtype and
    device (no copy, as ``torch.as_tensor``); otherwise a converted copy, as ``Tensor(data)``.
    """
    if backend.is_array(data) and (dtype is None or backend.dtype_of(dtype) == data.dtype) \
            and (device is None or backend.device_of(data) == device):
        return _make(data, False)
    return Tensor(data, dtype=dtype, device=device)


def from_numpy(array):
    """A CPU tensor sharing memory with a NumPy array, as ``torch.from_numpy``."""
    return Tensor(array, device="cpu")


def full(*shape, fill_value, dtype=None, device=None, requires_grad=False):
    xp = backend.get_backend(device).xp
    return _make(xp.full(_shape(shape), fill_value, dtype=_float_dtype(dtype)), requires_grad)


def zeros(*shape, dtype=None, device=None, requires_grad=False):
    return full(*shape, fill_value=0, dtype=dtype, device=device, requires_grad=requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad=False):
    return full(*shape, fill_value=1, dtype=dtype, device=device, requires_grad=requires_grad)


empty = zeros


def full_like(x, fill_value, dtype=None, requires_grad=False):
    return full(*x.shape, fill_value=fill_value, dtype=dtype or x.dtype, device=x.device,
                requires_grad=requires_grad)


def zeros_like(x, dtype=None, requires_grad=False):
    return full_like(x, 0, dtype=dtype, requires_grad=requires_grad)


def ones_like(x, dtype=None, requires_grad=False):
    return full_like(x, 1, dtype=dtype, requires_grad=requires_grad)


def randn(*shape, dtype=None, device=None, requires_grad=False):
    """Standard normal samples, from the device's seeded generator."""
    values = generator(device).standard_normal(_shape(shape))
    return _make(values.astype(_float_dtype(dtype)), requires_grad)


def rand(*shape, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1)."""
    values = generator(device).random_sample(_shape(shape))
    return _make(values.astype(_float_dtype(dtype)), requires_grad)


def randint(low, high, size, dtype="int64", device=None):
    """Integers uniform in [low, high)."""
    values = generator(device).randint(low, high, size=_shape((size,)) if isinstance(
        size, int) else _shape(size))
    return _make(values.astype(backend.dtype_of(dtype)), False)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Like PyTorch: ints give int64, any float gives float32 unless dtype says."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        floats = any(isinstance(v, float) for v in (start, end, step))
        dtype = backend.float32 if floats else backend.int64
    xp = backend.get_backend(device).xp
    return _make(xp.arange(start, end, step).astype(backend.dtype_of(dtype)), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    xp = backend.get_backend(device).xp
    return _make(xp.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)
