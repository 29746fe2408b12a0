"""The sandbox's wire format: one message = a JSON header and named arrays as .npy bytes.

    message := u64 header length | header (UTF-8 JSON object) | for each array: u64 length | .npy bytes

The header lists the array names in order under "arrays". Arrays are read back with
``numpy.load(allow_pickle=False)``: object arrays are refused, so nothing the sandbox sends is
ever unpickled by the grader. Every length is checked against a bound before anything is read,
so a hostile sender can make a message fail, never make the reader allocate or wait without end.

Imported by both sides: by the grader (trusted) and, as a private copy, by the sandbox worker.
Standard library and NumPy only.
"""
from __future__ import annotations

import io
import json
import os
import select
import struct
import time

import numpy as np

MAX_HEADER = 1 << 20            # 1 MiB of JSON
MAX_ARRAY = 64 << 20            # one array (probes return small ones)
MAX_MESSAGE = 128 << 20         # all arrays of one message
_LENGTH = struct.Struct("<Q")


class ProtocolError(RuntimeError):
    """The other side sent something that is not a well-formed message, or went away."""


def encode(header: dict, arrays: dict) -> bytes:
    """One message. `arrays`: name -> array (numeric or bool; never object)."""
    header = dict(header, arrays=list(arrays))
    parts = [json.dumps(header).encode("utf-8")]
    for value in arrays.values():
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(value), allow_pickle=False)
        parts.append(buffer.getvalue())
    return b"".join(_LENGTH.pack(len(p)) + p for p in parts)


class Reader:
    """Reads messages from a file descriptor with a deadline and size bounds."""

    def __init__(self, fd: int):
        self.fd = fd

    def _read(self, n: int, deadline):
        chunks, left = [], n
        while left:
            if deadline is not None:
                wait = deadline - time.monotonic()
                if wait <= 0 or not select.select([self.fd], [], [], wait)[0]:
                    raise TimeoutError("no answer before the deadline")
            chunk = os.read(self.fd, min(left, 1 << 20))
            if not chunk:
                raise ProtocolError("the other side closed the channel")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _length(self, bound: int, what: str, deadline) -> int:
        (n,) = _LENGTH.unpack(self._read(_LENGTH.size, deadline))
        if n > bound:
            raise ProtocolError(f"{what} of {n} bytes is over the bound of {bound}")
        return n

    def read(self, deadline=None):
        """(header, arrays) of the next message; deadline: a time.monotonic() value or None."""
        raw = self._read(self._length(MAX_HEADER, "a header", deadline), deadline)
        try:
            header = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise ProtocolError(f"the header is not JSON: {error}") from None
        names = header.get("arrays") if isinstance(header, dict) else None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ProtocolError("the header has no list of array names")
        arrays, total = {}, 0
        for name in names:
            n = self._length(MAX_ARRAY, f"array {name[:40]!r}", deadline)
            total += n
            if total > MAX_MESSAGE:
                raise ProtocolError(f"the message is over {MAX_MESSAGE} bytes")
            try:
                arrays[name] = np.load(io.BytesIO(self._read(n, deadline)), allow_pickle=False)
            except Exception as error:   # noqa: BLE001 - whatever np.load raises on bad bytes
                raise ProtocolError(f"array {name[:40]!r} is not plain .npy data: {error}") from None
        return header, arrays


def write(fd: int, header: dict, arrays: dict) -> None:
    data = memoryview(encode(header, arrays))
    while data:
        data = data[os.write(fd, data):]
