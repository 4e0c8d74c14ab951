"""The pipe between grader and sandbox: JSON headers plus arrays as .npy bytes, never pickle.

A frame is an 8-byte big-endian length, a JSON document, then for each array it references
an 8-byte length and the array in .npy format (``np.save(..., allow_pickle=False)``). This
module is also copied into the sandbox, so it imports nothing but numpy and the standard
library.

Values that cross: None, bool, int, float, str, numeric ndarrays (their dtype kept) and
numpy scalars, and tuples, lists and str-keyed dicts of those. Anything else is a handle:
an integer naming an object that stays on the side that owns it.

The grader's side never trusts the other end: with a ``deadline`` every read and write
waits at most until then (a stalled or silent sandbox is a ``WireTimeout``, never a hang),
and with a ``budget`` the whole frame may not exceed that many bytes, checked before
anything is allocated. Arrays are parsed by a strict .npy reader (plain numeric dtypes,
a shape that matches the bytes) straight from the bytes that were read, without a copy.
"""

from __future__ import annotations

import ast
import json
import math
import os
import select
import struct
import time

import numpy as np

MAX_FRAME = 512 * 2**20  # refuse absurd frames instead of allocating them
MAX_HEADER = 4 * 2**20  # the JSON part of a frame
MAX_ARRAYS = 4096

_HEADER = struct.Struct(">Q")
_NPY_MAGIC = b"\x93NUMPY"


class WireError(RuntimeError):
    """A malformed or oversized frame, or a value that cannot cross."""


class WireTimeout(WireError):
    """The other side did not read or write in time."""


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
    """The value ``encode`` described; ``array`` post-processes each array (e.g. a copy)."""
    if isinstance(tree, list):
        return [decode(v, arrays, from_handle, array) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if "__array__" in tree:
        try:
            found = arrays[tree["__array__"]]
        except (IndexError, TypeError):
            raise WireError("a reference to an array that was not sent") from None
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
    raise WireError(f"unknown wire object {sorted(tree)[:5]}")


# -- .npy without np.load: strict and copy-free ---------------------------------------------

def npy_parts(array: np.ndarray) -> tuple[bytes, memoryview]:
    """``array`` in .npy format (version 1.0, C order): the header, and the data uncopied."""
    array = np.ascontiguousarray(array)
    header = repr({"descr": np.lib.format.dtype_to_descr(array.dtype),
                   "fortran_order": False, "shape": tuple(array.shape)})
    padding = 64 - (len(_NPY_MAGIC) + 4 + len(header) + 1) % 64
    header = (header + " " * padding + "\n").encode("latin1")
    data = memoryview(array.reshape(-1).view(np.uint8)) if array.size else memoryview(b"")
    return _NPY_MAGIC + b"\x01\x00" + struct.pack("<H", len(header)) + header, data


def parse_npy(data: bytearray | bytes) -> np.ndarray:
    """The array in ``data`` (.npy bytes): only plain numeric dtypes, shapes that match.

    The result shares ``data``'s memory (a ``bytearray`` gives a writable array).
    """
    if len(data) < 10 or bytes(data[:6]) != _NPY_MAGIC:
        raise WireError("not an .npy array")
    major = data[6]
    if major == 1:
        (length,), start = struct.unpack("<H", bytes(data[8:10])), 10
    elif major in (2, 3):
        if len(data) < 12:
            raise WireError("truncated .npy header")
        (length,), start = struct.unpack("<I", bytes(data[8:12])), 12
    else:
        raise WireError(f".npy version {major} is not supported")
    if length > 65536 or start + length > len(data):
        raise WireError("oversized or truncated .npy header")
    try:
        header = ast.literal_eval(bytes(data[start:start + length]).decode("latin1"))
        descr, fortran, shape = header["descr"], header["fortran_order"], header["shape"]
    except (ValueError, SyntaxError, KeyError, TypeError, MemoryError, RecursionError):
        raise WireError("unreadable .npy header") from None
    if not isinstance(descr, str) or not isinstance(fortran, bool) or not (
            isinstance(shape, tuple) and len(shape) <= 32
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)):
        raise WireError("refused array: not a plain numeric array")
    try:
        dtype = np.dtype(descr)
    except (TypeError, ValueError):
        raise WireError(f"refused array: unknown dtype {descr[:40]!r}") from None
    if dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError(f"refused array: dtype {dtype} is not plain numeric")
    count = math.prod(shape)
    offset = start + length
    if count * dtype.itemsize != len(data) - offset:
        raise WireError("refused array: its shape does not match its bytes")
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return flat.reshape(shape, order="F" if fortran else "C")


# -- frames ---------------------------------------------------------------------------------

def _wait(fd: int, writing: bool, deadline: float | None) -> None:
    """Block until ``fd`` is ready, or raise WireTimeout at ``deadline``."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise WireTimeout("the other side did not " + ("read" if writing else "answer") +
                          " in time")
    poller = select.poll()
    poller.register(fd, select.POLLOUT if writing else select.POLLIN)
    if not poller.poll(left * 1000):
        raise WireTimeout("the other side did not " + ("read" if writing else "answer") +
                          " in time")


def _write_all(fd: int, data, deadline: float | None) -> None:
    view = memoryview(data).cast("B")
    while view:
        try:  # try first: poll only when the pipe is full
            view = view[os.write(fd, view):]
        except BlockingIOError:
            _wait(fd, True, deadline)


class Reader:
    """Reads from a pipe in chunks, so that a small frame costs one system call.

    Bytes past the current frame stay buffered for the next one. On a non-blocking fd,
    every wait ends at the deadline; on a blocking one (the sandbox's side) there is none.
    """

    CHUNK = 1 << 16

    def __init__(self, fd: int, chunk: int = CHUNK) -> None:
        self.fd = fd
        self.chunk = chunk  # 0: read exactly what is asked for, never past a frame
        self._buffer = bytearray()

    def _read(self, view: memoryview, deadline: float | None) -> int:
        while True:
            try:
                count = os.readv(self.fd, [view])
            except BlockingIOError:
                _wait(self.fd, False, deadline)
                continue
            if not count:
                raise EOFError("the other side closed the pipe")
            return count

    def read_into(self, buffer: bytearray, deadline: float | None) -> None:
        view, filled = memoryview(buffer), 0
        if self._buffer:
            filled = min(len(self._buffer), len(buffer))
            view[:filled] = self._buffer[:filled]
            del self._buffer[:filled]
        while filled < len(buffer):
            need = len(buffer) - filled
            if need >= self.chunk:  # large (or unbuffered): straight into its place
                filled += self._read(view[filled:filled + (1 << 22)], deadline)
                continue
            chunk = bytearray(self.chunk)
            count = self._read(memoryview(chunk), deadline)
            used = min(count, need)
            view[filled:filled + used] = chunk[:used]
            self._buffer += chunk[used:count]
            filled += used


def _read_length(reader: Reader, deadline: float | None) -> int:
    raw = bytearray(_HEADER.size)
    reader.read_into(raw, deadline)
    return _HEADER.unpack(bytes(raw))[0]


_SMALL = 1 << 20


def send(fd: int, message: dict, arrays: list, deadline: float | None = None) -> None:
    """Write one frame; with a ``deadline`` (time.monotonic()), ``fd`` must be non-blocking.

    A small frame goes in one write; a large one part by part, without a copy of it."""
    body = json.dumps({"message": message, "arrays": len(arrays)}).encode()
    parts: list = [_HEADER.pack(len(body)), body]
    for array in arrays:
        header, data = npy_parts(array)
        parts += [_HEADER.pack(len(header) + data.nbytes) + header, data]
    if sum(len(p) if isinstance(p, bytes) else p.nbytes for p in parts) <= _SMALL:
        _write_all(fd, b"".join(parts), deadline)
        return
    for part in parts:
        _write_all(fd, part, deadline)


def receive(source: int | Reader, deadline: float | None = None,
            budget: int | None = None) -> tuple[dict, list]:
    """Read one frame: at most ``budget`` bytes in all, by ``deadline`` (non-blocking fd).

    ``source`` is a ``Reader`` (or a bare fd, read without buffering across frames)."""
    reader = source if isinstance(source, Reader) else Reader(source, chunk=0)
    left = min(MAX_FRAME, budget) if budget is not None else MAX_FRAME

    def take(size: int, what: str) -> bytearray:
        nonlocal left
        if size > left:
            raise WireError(f"the reply is too large: {what} of {size} bytes is over the "
                            f"{left} bytes left of its limit")
        left -= size
        buffer = bytearray(size)
        reader.read_into(buffer, deadline)
        return buffer

    size = _read_length(reader, deadline)
    if size > MAX_HEADER:
        raise WireError(f"the reply is too large: a header of {size} bytes is over the "
                        f"{MAX_HEADER} byte limit")
    try:
        head = json.loads(take(size, "the header"))
        count = int(head["arrays"])
        message = head["message"]
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        raise WireError(f"malformed frame: {type(error).__name__}") from None
    if not 0 <= count <= MAX_ARRAYS:
        raise WireError(f"malformed frame: {count} arrays")
    arrays = []
    for index in range(count):
        length = _read_length(reader, deadline)
        arrays.append(parse_npy(take(length, f"array {index}")))
    return message, arrays
