"""The backend seam: which array library does the math, and on which device.

A Tensor holds one backend array and nothing else decides where math runs. Code in
minigrad and layers asks ``xp = array_module(x)`` and calls ``xp.exp``, ``xp.matmul``...
so the same kernel runs on NumPy (CPU) and CuPy (GPU).

This module is the only place in the engine that imports ``numpy`` by name, the only
place that knows about CuPy, and the only place that owns device names and the default
device (``MINIGRAD_DEVICE``).  Extra backends (the test suite's guard backend) register
themselves with :func:`register_backend`.
"""
import os
from dataclasses import dataclass
from typing import Callable

import numpy

__all__ = ["Backend", "register_backend", "get_backend", "array_module", "device_of",
           "to_device", "to_numpy", "default_device", "set_default_device",
           "available_devices", "is_array"]


@dataclass(frozen=True)
class Backend:
    """One array library on one device.

    name: the device name users write (``"cpu"``, ``"cuda"``).
    xp: the array module (numpy, cupy, ...).
    array_type: the type of its arrays.
    from_numpy: host (NumPy) array -> backend array.
    to_numpy: backend array -> host NumPy array.
    """
    name: str
    xp: object
    array_type: type
    from_numpy: Callable
    to_numpy: Callable


_BACKENDS = {}          # device name -> Backend
_BY_TYPE = {}           # array type -> Backend
_default_device = None  # resolved lazily from MINIGRAD_DEVICE


def register_backend(backend):
    """Make a backend known by its device name and its array type."""
    _BACKENDS[backend.name] = backend
    _BY_TYPE[backend.array_type] = backend
    return backend


CPU = register_backend(Backend("cpu", numpy, numpy.ndarray,
                               from_numpy=lambda a: a, to_numpy=lambda a: a))


def _load_cuda():
    """Register CuPy as the "cuda" backend, or raise the one clear error."""
    try:
        import cupy
        cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:   # ImportError, or CuPy present but no driver/GPU
        raise RuntimeError(
            "device 'cuda' needs CuPy and an NVIDIA GPU: install the 'cuda' extra "
            "(pip install -e '.[cuda]', or the cupy-cudaXXx wheel matching your CUDA) "
            f"and check that a GPU is visible ({type(exc).__name__}: {exc})") from None
    return register_backend(Backend("cuda", cupy, cupy.ndarray,
                                    from_numpy=cupy.asarray, to_numpy=cupy.asnumpy))


def get_backend(device):
    """The Backend for a device name ("cpu", "cuda", "cuda:0" is read as "cuda")."""
    if isinstance(device, Backend):
        return device
    if device is None:
        device = default_device()
    name = str(device).split(":")[0]
    if name in _BACKENDS:
        return _BACKENDS[name]
    if name == "cuda":
        return _load_cuda()
    raise ValueError(f"unknown device {device!r}: expected one of "
                     f"{sorted(set(_BACKENDS) | {'cuda'})}")


def _backend_of_array(x):
    backend = _BY_TYPE.get(type(x))
    if backend is not None:
        return backend
    for array_type, backend in _BY_TYPE.items():   # subclasses (numpy.memmap, ...)
        if isinstance(x, array_type):
            return backend
    return CPU                                     # Python and NumPy scalars


def module_of_type(array_type):
    """The array module for arrays of ``array_type`` (numpy when None or unknown)."""
    backend = _BY_TYPE.get(array_type)
    if backend is None:        # a subclass (numpy.memmap...), or no array at all
        backend = next((b for t, b in _BY_TYPE.items()
                        if array_type is not None and issubclass(array_type, t)), CPU)
    return backend.xp


def array_module(x):
    """The array module (numpy, cupy, ...) that owns array ``x``: ``xp = array_module(x)``."""
    if not is_array(x) and hasattr(x, "requires_grad"):     # a Tensor: look at its data
        x = x.data
    return _backend_of_array(x).xp


def device_of(x):
    """The device name ("cpu", "cuda", ...) of a backend array."""
    return _backend_of_array(x).name


def is_array(x):
    """True for an array of any registered backend."""
    return isinstance(x, tuple(_BY_TYPE))


def to_numpy(x):
    """A host NumPy array with the values of backend array ``x``."""
    return _backend_of_array(x).to_numpy(x)


def to_device(x, device):
    """Backend array ``x`` moved (copied where needed) to ``device``."""
    source, target = _backend_of_array(x), get_backend(device)
    if source is target:
        return x
    return target.from_numpy(source.to_numpy(x))


def as_array(data, dtype=None, device=None):
    """Anything array-like (list, scalar, NumPy or backend array) as an array on ``device``."""
    target = get_backend(device)
    if is_array(data):
        data = to_device(data, target)
        return data if dtype is None or data.dtype == dtype else data.astype(dtype)
    host = numpy.asarray(data, dtype=dtype)
    return target.from_numpy(host)


def default_device():
    """The device new tensors go to: ``MINIGRAD_DEVICE`` (default "cpu")."""
    global _default_device
    if _default_device is None:
        _default_device = os.environ.get("MINIGRAD_DEVICE", "cpu") or "cpu"
    return _default_device


def set_default_device(device):
    """Change the default device for new tensors (checked at once)."""
    global _default_device
    _default_device = get_backend(device).name


def available_devices():
    """Device names usable here: "cpu", and "cuda" where CuPy sees a GPU."""
    names = [name for name in _BACKENDS if name != "cuda"]
    try:
        get_backend("cuda")
        names.append("cuda")
    except RuntimeError:
        pass
    return names


def dtype_of(name):
    """A NumPy dtype from a dtype-like (``"float32"``, ``numpy.float64``, a dtype)."""
    return numpy.dtype(name)


float32 = numpy.dtype("float32")
float64 = numpy.dtype("float64")
int64 = numpy.dtype("int64")
int32 = numpy.dtype("int32")
bool_ = numpy.dtype("bool")


def is_floating(dtype):
    return numpy.issubdtype(dtype, numpy.floating)


def scatter_add(target, index, values):
    """``target[index] += values`` where repeated indices all add (unbuffered)."""
    xp = array_module(target)
    if hasattr(xp.add, "at"):
        xp.add.at(target, index, values)
    else:                                   # CuPy
        import cupyx
        cupyx.scatter_add(target, index, values)


def format_array(host_array, prefix=""):
    """A host array as text, NumPy's way, for reprs."""
    return numpy.array2string(host_array, separator=", ", prefix=prefix)
