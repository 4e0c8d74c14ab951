"""The ``student`` object of the hidden tests: attribute access and calls run in the sandbox.

``student.conv2d_forward(x, w, b, stride=2, pad=1)`` sends the arguments, runs the student's
function in the sandbox and returns plain data: every array as an ndarray of the dtype the
student's code produced (never the student's subclass; comparisons convert to float64),
Python scalars, tuples/lists/dicts of those. Anything else (caches, models, ``Value``
nodes) is a ``Remote`` handle: its attributes, methods, calls and arithmetic also run in
the sandbox, and it can be passed back as an argument.
"""

from __future__ import annotations

import time

import numpy as np

from . import wire
from .sandbox import SandboxCrashed, SandboxTimeout, StudentError  # noqa: F401 (re-export)


def _plain_array(array: np.ndarray) -> np.ndarray:
    # the wire's parser already made a fresh base-class ndarray; this only guarantees it
    return array if type(array) is np.ndarray else np.array(array, subok=False)


class Remote:
    """An object that lives in the sandbox."""

    __slots__ = ("_session", "_key", "_label", "_generation")

    def __init__(self, session: Session, key: int, label: str, generation: int) -> None:
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_label", label)
        object.__setattr__(self, "_generation", generation)

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._session.send({"op": "getattr", "handle": self._key, "name": name},
                                  (), {}, f"{self._label}.{name}")

    def __call__(self, *args, **kwargs):
        return self._session.send({"op": "call", "handle": self._key}, args, kwargs,
                                  f"{self._label}(...)")

    def _method(self, name: str, *args):
        method = self._session.send({"op": "getattr", "handle": self._key, "name": name},
                                    (), {}, f"{self._label}.{name}")
        if not isinstance(method, Remote):
            raise TypeError(f"{self._label}.{name} is not a method")
        return method(*args)

    def __repr__(self) -> str:
        return f"<student object {self._label}>"


def _binary(name: str):
    def op(self, other):
        return self._method(name, other)

    op.__name__ = name
    return op


def _unary(name: str):
    def op(self):
        return self._method(name)

    op.__name__ = name
    return op


for _name in ("add", "sub", "mul", "truediv", "pow", "radd", "rsub", "rmul", "rtruediv",
              "lt", "le", "gt", "ge"):
    setattr(Remote, f"__{_name}__", _binary(f"__{_name}__"))
for _name in ("neg", "pos", "abs"):
    setattr(Remote, f"__{_name}__", _unary(f"__{_name}__"))


class Session:
    """Calls into one sandbox; restarted on demand by the judge when it dies."""

    def __init__(self, sandbox_factory, max_restarts: int = 3,
                 notebook_seconds: float | None = None) -> None:
        self._factory = sandbox_factory
        self._sandbox = None
        self._restarts = 0
        self._max_restarts = max_restarts
        self._budget = notebook_seconds
        self._deadline: float | None = None  # set when the first sandbox starts
        self.generation = 0
        self.printed = ""

    def _time_left(self, what: str) -> float | None:
        """Seconds left of the notebook's wall-clock budget (None: no budget)."""
        if self._budget is None:
            return None
        if self._deadline is None:
            self._deadline = time.monotonic() + self._budget
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise SandboxTimeout(f"{what}: not run, the notebook used up its time limit of "
                                 f"{self._budget:g} s")
        return left

    def sandbox(self):
        if self._sandbox is None or not self._sandbox.alive:
            if self._sandbox is not None:
                self._restarts += 1
                if self._restarts > self._max_restarts:
                    raise SandboxCrashed(
                        "your code's process died too often; the remaining tests were not run"
                    )
            if self._sandbox is not None:
                self.printed += self._sandbox.output()
            left = self._time_left("loading your notebook")
            self._sandbox = self._factory()
            limit = self._sandbox.limits.load_seconds
            self._sandbox.start(limit if left is None else min(limit, left))
            self.generation += 1
        if self._sandbox.load_error is not None:
            raise self._sandbox.load_error
        return self._sandbox

    def close(self) -> None:
        if self._sandbox is not None:
            self.printed += self._sandbox.output()
            self._sandbox.close()
            self._sandbox = None

    def send(self, message: dict, args, kwargs, label: str, extra: dict | None = None):
        sandbox = self.sandbox()
        generation = self.generation
        arrays: list = []

        def handle_key(obj):
            if isinstance(obj, Remote):
                if obj._session is not self or obj._generation != generation:
                    raise SandboxCrashed(f"{label}: an object from before a restart was used")
                return obj._key
            raise wire.WireError(f"cannot send a {type(obj).__name__} to the student's code")

        message = dict(message)
        message["args"] = wire.encode(list(args), arrays, handle_key)
        message["kwargs"] = wire.encode(dict(kwargs), arrays, handle_key)
        for key, value in (extra or {}).items():  # more encoded values, e.g. a map's calls
            message[key] = wire.encode(value, arrays, handle_key)
        left = self._time_left(label)
        call_limit = sandbox.limits.call_seconds
        value, out_arrays = sandbox.request(
            message, arrays, label, None if left is None else min(call_limit, left))
        return wire.decode(
            value, out_arrays,
            from_handle=lambda key: Remote(self, key, label.split("(")[0], generation),
            array=_plain_array,
        )


class Student:
    """``student.NAME`` is the student's NAME: called remotely, or its value fetched."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        session = self._session
        return _Named(session, name)


class _Named:
    """A name in the student's namespace, resolved when called or read."""

    def __init__(self, session: Session, name: str) -> None:
        self._session, self._name = session, name

    def __call__(self, *args, **kwargs):
        return self._session.send({"op": "call", "name": self._name}, args, kwargs,
                                  f"{self._name}(...)")

    def map(self, calls, pick: int | None = None) -> list:
        """The student's function called once per (args, kwargs) in ``calls``, all in one
        round trip to the sandbox (numerical gradients make hundreds of calls); ``pick``
        keeps only that element of each result, such as ``out`` of ``(out, cache)``."""
        calls = [(tuple(args), dict(kwargs)) for args, kwargs in calls]
        message = {"op": "map", "name": self._name, "pick": pick}
        return self._session.send(message, (), {}, f"{self._name}(...)",
                                  extra={"calls": calls})

    def value(self):
        return self._session.send({"op": "get", "name": self._name}, (), {}, self._name)

    def __getattr__(self, attr: str):
        if attr.startswith("_"):
            raise AttributeError(attr)
        target = self.value()
        if isinstance(target, Remote):
            return getattr(target, attr)
        return getattr(target, attr)
