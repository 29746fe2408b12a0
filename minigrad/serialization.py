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
so a crash mid-write leaves the previous checkpoint whole, never half a file; the temp
file is removed on any error it can catch, and a file saved over keeps its permissions.

``load`` reads a file it did not write the way safetensors does: sizes are checked before
anything is read.  Every member must be an ``.npy`` array; the sizes the archive declares
must add up to at most ``max_bytes`` (default: 16 times the file's own size, which a file
written by ``save``, uncompressed, never comes near, while a "zip bomb" of 3 MB that
declares 3 GiB is refused); each array's header must fit its member.  Whatever is wrong
(empty, truncated, corrupt, a text file, pickled, not a minigrad checkpoint), the error is
one ``ValueError`` naming the file and the problem.
"""
import json
import os
import secrets
import stat
import zipfile
import zlib

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
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    raise ValueError(f"unexpected {type(node).__name__} in the structure")


def save(obj, path):
    """Write ``obj`` (a nest of dicts/lists of arrays and numbers) to ``path`` atomically."""
    arrays = {}
    structure = json.dumps(_encode(obj, "", arrays))
    arrays[_STRUCTURE] = _host.array(structure)          # a 0-d str array, not an object
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f"{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)       # saving over a file keeps its mode
    except OSError:
        mode = None                                      # a new file: 0o666 less the umask
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            _host.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


_PICKLE_PROTOCOLS = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


class _Unreadable(Exception):
    """What is wrong with a file, said once, turned into the ValueError of ``load``."""


def _what_it_is(head):
    """Why a file whose first bytes are ``head`` is not a zip archive."""
    if not head:
        return "the file is empty"
    if head.startswith(_PICKLE_PROTOCOLS):
        return "pickle"
    if head.startswith(b"\x93NUMPY"):
        return "it is a single .npy array, not an archive of entries"
    try:
        head.decode("utf-8")
        return "it is a text file, not a zip archive"
    except UnicodeDecodeError:
        return "it is not a zip archive (an .npz written by minigrad.save)"


def _read_member(archive, info):
    """One ``.npy`` member as an array, its header checked against the member's size."""
    fmt = _host.lib.format
    with archive.open(info) as f:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(f)
        else:
            raise _Unreadable(f"member {info.filename!r} has .npy format {version}")
        if dtype.hasobject:
            raise _Unreadable("pickle")
        nbytes = dtype.itemsize
        for n in shape:
            nbytes *= n
        if nbytes > info.file_size:                  # checked before allocating anything
            raise _Unreadable(f"member {info.filename!r} declares an array of {nbytes} "
                              f"bytes in a member of {info.file_size}")
        data = f.read(nbytes)
        if len(data) != nbytes:
            raise _Unreadable(f"member {info.filename!r} is truncated")
    array = _host.frombuffer(bytearray(data), dtype=dtype)
    return array.reshape(shape, order="F" if fortran else "C")


def _read_arrays(path, max_bytes):
    with open(path, "rb") as f:
        head = f.read(8)
    if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise _Unreadable(_what_it_is(head))
    size = os.path.getsize(path)
    limit = 16 * size if max_bytes is None else max_bytes
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise _Unreadable(f"a zip archive without its index at the end: truncated or "
                          f"corrupt ({err})") from None
    with archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        foreign = [n for n in names if not n.endswith(".npy")]
        if foreign:
            raise _Unreadable(f"it holds members that are not .npy arrays: {foreign[:5]}")
        if len(set(names)) != len(names):
            raise _Unreadable("it holds two members of the same name")
        declared = sum(info.file_size for info in infos)
        if declared > limit:
            raise _Unreadable(
                f"its members declare {declared} bytes in all, more than the limit of "
                f"{limit} bytes ({'16 times the file size' if max_bytes is None else 'max_bytes'})"
                "; if you trust the file, pass a larger max_bytes")
        if _STRUCTURE + ".npy" not in names:
            raise _Unreadable(f"it has no {_STRUCTURE} entry (an .npz not written by "
                              "minigrad.save)")
        return {info.filename[:-4]: _read_member(archive, info) for info in infos}


def load(path, device=None, max_bytes=None):
    """Read a checkpoint written by :func:`save`.

    device: None gives host NumPy arrays; a device name gives arrays on that device.
    max_bytes: the most bytes the archive may declare for its arrays in all (None: 16
    times the file's size); checked before anything is read, against zip bombs.
    Refuses pickled content, and any file that is not a whole minigrad checkpoint (empty,
    truncated, corrupt, text, foreign members), with one ValueError naming the file.
    """
    path = os.fspath(path)
    try:
        arrays = _read_arrays(path, max_bytes)
        structure = json.loads(str(arrays.pop(_STRUCTURE)))
        return _decode(structure, arrays, device)
    except (_Unreadable, zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError,
            zlib.error, ValueError, KeyError, TypeError, RecursionError) as err:
        if isinstance(err, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise                                      # the path itself: not the content
        if str(err) == "pickle":
            raise ValueError(f"load: {path} holds pickled data (a pickle file or object "
                             "arrays); minigrad refuses to unpickle, because unpickling "
                             "runs code from the file") from None
        what = str(err) if isinstance(err, _Unreadable) else (
            f"{type(err).__name__}: {err}" if str(err) else type(err).__name__)
        raise ValueError(f"load: {path} is not a minigrad checkpoint, or is damaged "
                         f"({what}); write checkpoints with minigrad.save") from None
