"""save / load: checkpoints as one ``.npz`` file, never pickle.

A checkpoint is a nest of dicts, lists and tuples holding arrays (or Tensors), numbers,
strings, bools and None, e.g. ``{"model": model.state_dict(), "optim":
optimizer.state_dict(), "step": 3}``.  ``save`` stores every array (copied to the host)
as its own ``.npy`` entry, named by its path in the nest ("model/encoder.weight"), and
the nest itself as JSON in the entry ``__structure__``, where each array is a reference
to its entry and dict keys keep their type (optimiser states are keyed by ints).

Why not pickle: loading a pickle runs code chosen by whoever wrote the file.  ``load``
reads with ``allow_pickle=False`` and refuses object arrays.  Why a temp file: ``save``
writes beside the target and then renames (``os.replace``, atomic on one file system),
so a crash mid-write leaves the previous checkpoint whole, never half a file.
"""
import json
import os
import tempfile

from . import backend
from .tensor import Tensor

__all__ = ["save", "load"]

_host = backend.CPU.xp          # NumPy: files are read and written on the host
_STRUCTURE = "__structure__"


def _encode(obj, path, arrays):
    """The JSON-able form of ``obj``; arrays go into ``arrays`` under a unique name."""
    if isinstance(obj, Tensor):
        obj = obj.data
    if backend.is_array(obj) or isinstance(obj, _host.ndarray):
        array = backend.to_numpy(obj)
        if array.dtype.hasobject:
            raise TypeError(f"save: the array at {path or '<root>'} holds Python objects "
                            f"(dtype {array.dtype}); only numeric, bool and str arrays "
                            "can be saved without pickle")
        name = path or "array"
        while name in arrays or name == _STRUCTURE:
            name += "_"
        arrays[name] = array
        return {"__array__": name}
    if isinstance(obj, _host.generic):                 # NumPy scalars -> Python numbers
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: dict keys must be str or int, got {key!r} at "
                                f"{path or '<root>'}")
            items.append([key, _encode(value, f"{path}/{key}" if path else str(key), arrays)])
        return {"__dict__": items}
    if isinstance(obj, (list, tuple)):
        values = [_encode(v, f"{path}/{i}" if path else str(i), arrays)
                  for i, v in enumerate(obj)]
        return {"__tuple__": values} if isinstance(obj, tuple) else values
    raise TypeError(f"save: cannot store a {type(obj).__name__} at {path or '<root>'}; "
                    "expected dicts, lists, tuples, arrays, Tensors, numbers, str or None")


def _decode(node, arrays, device):
    if isinstance(node, list):
        return [_decode(v, arrays, device) for v in node]
    if isinstance(node, dict):
        if "__array__" in node:
            array = arrays[node["__array__"]]
            return array if device is None else backend.as_array(array, device=device)
        if "__tuple__" in node:
            return tuple(_decode(v, arrays, device) for v in node["__tuple__"])
        return {key: _decode(value, arrays, device) for key, value in node["__dict__"]}
    return node


def save(obj, path):
    """Write ``obj`` (a nest of dicts/lists of arrays and numbers) to ``path`` atomically."""
    arrays = {}
    structure = json.dumps(_encode(obj, "", arrays))
    arrays[_STRUCTURE] = _host.array(structure)          # a 0-d str array, not an object
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            _host.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load(path, device=None):
    """Read a checkpoint written by :func:`save`.

    device: None gives host NumPy arrays; a device name gives arrays on that device.
    Refuses pickled content and files not written by ``save``, with a clear error.
    """
    path = os.fspath(path)
    try:
        archive = _host.load(path, allow_pickle=False)
        if not hasattr(archive, "files"):          # a .npy file: one bare array
            raise ValueError("a single array, not an archive of entries")
        with archive:
            if _STRUCTURE not in archive.files:
                raise ValueError(f"no {_STRUCTURE} entry")
            arrays = {name: archive[name] for name in archive.files}
    except ValueError as err:
        if "pickle" in str(err).lower():
            raise ValueError(f"load: {path} holds pickled data (a pickle file or object "
                             "arrays); minigrad refuses to unpickle, because unpickling "
                             "runs code from the file") from None
        raise ValueError(f"load: {path} is not a minigrad checkpoint ({err}); write "
                         "checkpoints with minigrad.save") from None
    structure = json.loads(str(arrays.pop(_STRUCTURE)))
    return _decode(structure, arrays, device)
