"""The pipe between grader and sandbox: JSON headers plus arrays as .npy bytes, never pickle.

A frame is an 8-byte big-endian length, a JSON document, then for each array it references
an 8-byte length and the array saved with ``np.save(..., allow_pickle=False)``. This module
is also copied into the sandbox, so it imports nothing but numpy and the standard library.

Values that cross: None, bool, int, float, str, numeric ndarrays and numpy scalars, and
tuples, lists and str-keyed dicts of those. Anything else is a handle: an integer naming an
object that stays on the side that owns it.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct

import numpy as np

MAX_FRAME = 512 * 2**20  # refuse absurd frames instead of allocating them

_HEADER = struct.Struct(">Q")


class WireError(RuntimeError):
    """A malformed or oversized frame, or a value that cannot cross."""


def encode(value, arrays: list, to_handle=None):
    """A JSON-able tree for ``value``; arrays are appended to ``arrays`` and referenced."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        arrays.append(np.ascontiguousarray(value).view(np.ndarray))
        return {"__array__": len(arrays) - 1}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, arrays, to_handle) for v in value]}
    if isinstance(value, list):
        return [encode(v, arrays, to_handle) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: encode(v, arrays, to_handle) for k, v in value.items()}}
    if to_handle is not None:
        return {"__handle__": to_handle(value)}
    raise WireError(f"a {type(value).__name__} cannot cross the sandbox boundary")


def decode(tree, arrays: list, from_handle=None, array=None):
    """The value ``encode`` described; ``array`` post-processes each array (e.g. float64)."""
    if isinstance(tree, list):
        return [decode(v, arrays, from_handle, array) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if "__array__" in tree:
        found = arrays[tree["__array__"]]
        return array(found) if array else found
    if "__tuple__" in tree:
        return tuple(decode(v, arrays, from_handle, array) for v in tree["__tuple__"])
    if "__dict__" in tree:
        return {k: decode(v, arrays, from_handle, array) for k, v in tree["__dict__"].items()}
    if "__float__" in tree:
        return float(tree["__float__"])
    if "__handle__" in tree:
        if from_handle is None:
            raise WireError("unexpected handle")
        return from_handle(tree["__handle__"])
    raise WireError(f"unknown wire object {sorted(tree)}")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, size: int) -> bytes:
    if size > MAX_FRAME:
        raise WireError(f"frame of {size} bytes is over the {MAX_FRAME} byte limit")
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def send(fd: int, message: dict, arrays: list) -> None:
    body = json.dumps({"message": message, "arrays": len(arrays)}).encode()
    parts = [_HEADER.pack(len(body)), body]
    for array in arrays:
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        parts += [_HEADER.pack(buffer.tell()), buffer.getvalue()]
    _write_all(fd, b"".join(parts))


def receive(fd: int) -> tuple[dict, list]:
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size))
    try:
        head = json.loads(_read_exact(fd, size))
        count = int(head["arrays"])
    except (ValueError, KeyError, TypeError) as error:
        raise WireError(f"malformed frame: {error}") from None
    arrays = []
    for _ in range(count):
        (length,) = _HEADER.unpack(_read_exact(fd, _HEADER.size))
        try:
            arrays.append(np.load(io.BytesIO(_read_exact(fd, length)), allow_pickle=False))
        except ValueError as error:  # object arrays need pickle: refused
            raise WireError(f"refused array: {error}") from None
    return head["message"], arrays
