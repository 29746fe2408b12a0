"""The guard backend: NumPy's math behind a CuPy-like wall, to catch stray ``numpy`` calls.

On a GPU, tensor data are ``cupy.ndarray``s: ``numpy.asarray(x)`` on one raises, and so does
mixing one with a NumPy array (``x + numpy.zeros(3)``).  Code that calls ``numpy`` instead of
``xp = array_module(x)`` works on the CPU and crashes on a student's GPU.  The guard backend
makes the same mistakes fail here: a ``GuardArray`` wraps a NumPy array, does all its math
through the guard module ``guard_xp`` (NumPy underneath), and raises on

  * conversion to NumPy (``numpy.asarray(g)``, ``numpy.array(g)``, ``numpy.exp(g)``...),
  * mixing with a plain NumPy array in an operator or a ``guard_xp`` function.

Like CuPy, indexing and reductions return 0-d arrays, not NumPy scalars.  Registering it
makes the device "guard" usable everywhere: ``Tensor(..., device="guard")``,
``MINIGRAD_DEVICE=guard python -m pytest``.
"""
import types

import numpy as np

from minigrad import backend

__all__ = ["GuardArray", "guard_xp", "GUARD"]


class GuardError(TypeError):
    pass


def _unwrap(value, allow_numpy=False):
    """GuardArrays -> their NumPy arrays, through tuples, lists and dicts."""
    if isinstance(value, GuardArray):
        return value._array
    if isinstance(value, np.ndarray):
        if allow_numpy:
            return value
        raise GuardError(
            f"a NumPy array of shape {value.shape} was mixed with guard arrays: it was made "
            "with numpy directly; create it with xp = backend.array_module(x) instead "
            "(CuPy would fail here too)")
    if isinstance(value, tuple):
        return tuple(_unwrap(v, allow_numpy) for v in value)
    if isinstance(value, list):
        return [_unwrap(v, allow_numpy) for v in value]
    if isinstance(value, dict):
        return {k: _unwrap(v, allow_numpy) for k, v in value.items()}
    return value


def _wrap(value):
    """NumPy results -> GuardArrays (scalars as 0-d arrays, as CuPy returns them)."""
    if isinstance(value, np.ndarray):
        return GuardArray(value)
    if isinstance(value, np.generic):
        return GuardArray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, complex, str, np.dtype, type,
                                           slice, types.ModuleType)):
        return value
    return _Proxy(value)


class _Proxy:
    """A NumPy module, function or object seen through the guard."""

    def __init__(self, target, allow_numpy=False):
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_allow_numpy", allow_numpy)

    def __getattr__(self, name):
        value = getattr(self._target, name)
        if isinstance(value, type) and issubclass(value, (np.generic, np.dtype)):
            return value                              # xp.float32, xp.dtype: the same types
        if name in ("finfo", "iinfo", "result_type", "promote_types", "can_cast"):
            return value                              # CuPy re-exports NumPy's own
        if isinstance(value, (bool, int, float, str, np.dtype, np.generic)) or value is None:
            return value                              # xp.pi, xp.newaxis, finfo(...).min
        allow = name in ("asarray", "array", "ascontiguousarray")   # host -> device copies
        return _Proxy(value, allow_numpy=allow)

    def __call__(self, *args, **kwargs):
        args = _unwrap(args, self._allow_numpy)
        kwargs = _unwrap(kwargs, self._allow_numpy)
        return _wrap(self._target(*args, **kwargs))

    def __repr__(self):
        return f"<guard {self._target!r}>"


guard_xp = _Proxy(np)


def _binary(name):
    def method(self, other):
        return _wrap(getattr(self._array, name)(_unwrap(other)))
    method.__name__ = name
    return method


def _unary(name):
    def method(self):
        return _wrap(getattr(self._array, name)())
    method.__name__ = name
    return method


class GuardArray:
    """A NumPy array that refuses to be handed to ``numpy``."""

    __slots__ = ("_array",)
    __array_priority__ = 10000
    __array_ufunc__ = None       # numpy ufuncs on a guard array raise TypeError

    def __init__(self, array):
        self._array = array

    def __array__(self, *args, **kwargs):
        raise GuardError("numpy tried to convert a guard array to a NumPy array: call "
                         "backend.to_numpy(x) (or Tensor.numpy()) for host copies, and "
                         "xp = backend.array_module(x) for math (CuPy would fail here too)")

    def __array_function__(self, func, types, args, kwargs):
        raise GuardError(f"numpy.{func.__name__} was called on a guard array: use "
                         f"xp.{func.__name__} with xp = backend.array_module(x)")

    def __getattr__(self, name):
        if name.startswith("__"):          # no __array_interface__ & co: numpy must not see in
            raise AttributeError(name)
        value = getattr(self._array, name)
        if callable(value):
            return _Proxy(value)
        return _wrap(value)

    def __getitem__(self, index):
        return _wrap(self._array[_unwrap(index)])

    def __setitem__(self, index, value):
        self._array[_unwrap(index)] = _unwrap(value)

    def __len__(self):
        return len(self._array)

    def __iter__(self):
        return (_wrap(row) for row in self._array)

    def __repr__(self):
        return f"guard_array({self._array!r})"

    def __float__(self):
        return float(self._array)

    def __int__(self):
        return int(self._array)

    def __bool__(self):
        return bool(self._array)

    def __index__(self):
        return self._array.__index__()

    __hash__ = None


for _name in ["__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
              "__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__",
              "__pow__", "__rpow__", "__matmul__", "__rmatmul__", "__and__", "__rand__",
              "__or__", "__ror__", "__xor__", "__lt__", "__le__", "__gt__", "__ge__",
              "__eq__", "__ne__", "__iadd__", "__isub__", "__imul__", "__itruediv__",
              "__iand__", "__ior__"]:
    setattr(GuardArray, _name, _binary(_name))
for _name in ["__neg__", "__pos__", "__abs__", "__invert__"]:
    setattr(GuardArray, _name, _unary(_name))


def _inplace(name):
    def method(self, other):
        getattr(self._array, name)(_unwrap(other))
        return self
    return method


for _name in ["__iadd__", "__isub__", "__imul__", "__itruediv__", "__iand__", "__ior__"]:
    setattr(GuardArray, _name, _inplace(_name))

guard_xp.ndarray = GuardArray

GUARD = backend.register_backend(backend.Backend(
    "guard", guard_xp, GuardArray,
    from_numpy=lambda host: GuardArray(np.array(host)),
    to_numpy=lambda g: g._array.copy()))
