"""The sandboxed side: run the student's programs, then answer calls over a pipe.

Started as ``python child.py --zygote READ_FD WRITE_FD FILTER`` inside the sandbox, next to
copies of ``wire.py`` and ``seccomp.py``; it never imports the grader. The zygote imports
numpy and the student edition of cnnlib once, says it is ready, then for each
``{"op": "spawn", "program": PATH}`` forks a child that applies the seccomp filter to
itself (no process or thread from then on), runs the program's cells and serves the
grader's calls on the same pipes. The zygote waits meanwhile; when the child ends (asked
to, or by dying) it reports ``{"ended": exit code}``. The zygote never runs a line of the
student's code. Results that are plain data (see wire.py) cross
as data; caches, models and other objects stay here as handles. Elements of a returned
tuple that are containers count as objects too: a ``(out, cache)`` pair sends ``out`` and
keeps ``cache``, so a cache comes back to the student's code exactly as it left.
"""

import builtins
import importlib
import importlib.abc
import importlib.machinery
import json
import os
import sys
import traceback
import types

import wire

HANDLES: dict[int, object] = {}

# Heavy libraries that notebooks import for plots and data in cells the grader leaves out.
# Importing them for real costs seconds per notebook; instead they become stand-ins that
# import the real thing the moment anything in them is actually used.
LAZY = ("matplotlib", "sklearn", "IPython", "pandas", "scipy", "seaborn", "tqdm")


class _Deferred:
    """``module.attr``, imported on first use (call, attribute, iteration...)."""

    def __init__(self, module: str, attr: str) -> None:
        self._where = (module, attr)

    def _real(self):
        module, attr = self._where
        return getattr(_import_for_real(module), attr)

    def __call__(self, *args, **kwargs):
        return self._real()(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._real(), name)


class _LazyModule(types.ModuleType):
    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Deferred(self.__name__, attr)


class _LazyFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] not in LAZY:
            return None
        return importlib.machinery.ModuleSpec(name, self, is_package=True)

    def create_module(self, spec):
        module = _LazyModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


_FINDER = _LazyFinder()


def _import_for_real(module: str):
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
        for name in [n for n, m in sys.modules.items() if isinstance(m, _LazyModule)]:
            del sys.modules[name]
    return importlib.import_module(module)


def to_handle(obj) -> int:
    key = len(HANDLES) + 1
    HANDLES[key] = obj
    return key


def from_handle(key):
    try:
        return HANDLES[key]
    except KeyError:
        raise wire.WireError(f"no object with handle {key}") from None


def _is_plain(value) -> bool:
    try:
        wire.encode(value, [])
        return True
    except wire.WireError:
        return False


def encode_result(value, arrays):
    if isinstance(value, tuple):  # (out, cache): containers inside stay as handles
        parts = []
        for item in value:
            if isinstance(item, (tuple, list, dict)) or not _is_plain(item):
                parts.append({"__handle__": to_handle(item)})
            else:
                parts.append(wire.encode(item, arrays))
        return {"__tuple__": parts}
    if _is_plain(value):
        return wire.encode(value, arrays)
    return {"__handle__": to_handle(value)}


CELLS: dict[str, list[str]] = {}  # "<cell N>" -> the cell's lines, to say where errors are


def describe(error: BaseException) -> dict:
    """Type, message and where in the notebook: the function, the cell's number and its
    first line (the student finds a cell by how it starts), and the failing line."""
    frames = traceback.extract_tb(error.__traceback__)
    student = [f for f in frames if f.filename in CELLS]
    where = ""
    if student:
        frame = student[-1]
        lines = CELLS[frame.filename]
        number = frame.filename[6:-1]
        first = next((line.strip() for line in lines if line.strip()), "")[:80]
        failing = lines[frame.lineno - 1].strip()[:120] if 0 < frame.lineno <= len(lines) \
            else ""
        function = "" if frame.name == "<module>" else f"in {frame.name}, "
        where = (f" ({function}cell {number} of your notebook, the one starting "
                 f"`{first}`; line {frame.lineno}: `{failing}`)")
    return {"type": type(error).__name__, "message": f"{error}"[:2000], "where": where}


def _target(request: dict, namespace: dict):
    """What an operation acts on: a handle's object, or a name of the notebook."""
    op = request["op"]
    if request.get("handle") is not None:
        return from_handle(request["handle"])
    if op in ("call", "get", "map"):
        name = request["name"]
        if name not in namespace:
            kind = "function" if op == "call" else "name"
            raise LookupError(f"{kind} {name} not found in your notebook (renamed?)")
        return namespace[name]
    return None


def run_cell(source: str, number: int, namespace: dict) -> None:
    """Run a cell's code as the notebook would, named after its cell for error messages."""
    name = f"<cell {int(number)}>"
    CELLS[name] = source.splitlines()
    exec(compile(source, name, "exec"), namespace)


def perform(request: dict, arrays: list, namespace: dict):
    """The result of one operation of the grader's."""
    op = request["op"]
    target = _target(request, namespace)
    if op == "getattr":
        return getattr(target, request["name"])
    if op == "call":
        args = wire.decode(request.get("args", []), arrays, from_handle)
        kwargs = wire.decode(request.get("kwargs", {}), arrays, from_handle)
        return target(*args, **kwargs)
    if op == "get":
        return target
    if op == "map":  # many calls in one round trip; ``pick`` keeps one part of each result
        calls = wire.decode(request.get("calls", []), arrays, from_handle)
        pick = request.get("pick")
        results = []
        for call_args, call_kwargs in calls:
            result = target(*call_args, **call_kwargs)
            results.append(result[pick] if pick is not None else result)
        return results
    if op == "release":
        HANDLES.pop(request["key"], None)
        return None
    if op == "exec":  # one of the notebook's own visible test cells
        return run_cell(request["source"], request["cell"], namespace)
    raise ValueError(f"unknown operation {op!r}")


def serve(namespace: dict, reader, write_fd: int) -> None:
    while True:
        try:
            request, arrays = wire.receive(reader)
        except EOFError:
            return
        if request.get("op") == "exit":  # the grader is done with this notebook
            os._exit(0)
        out_arrays: list = []
        try:
            reply = {"ok": True,
                     "value": encode_result(perform(request, arrays, namespace), out_arrays)}
        except BaseException as error:  # noqa: BLE001 - everything the student raises
            if isinstance(error, SystemExit):
                os._exit(3)
            out_arrays = []
            reply = {"ok": False, "error": describe(error)}
        wire.send(write_fd, reply, out_arrays)


_PR_SET_PDEATHSIG = 1


def _confine_child(filter_on: bool) -> None:
    """In a freshly forked child, before any student code: die with the zygote, and no new
    process or thread (the filter is set for good: no_new_privs, then seccomp)."""
    import ctypes
    import signal

    ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if filter_on:
        import seccomp

        seccomp.install()


def run_program(path: str, reader, write_fd: int) -> None:
    """Run the program's cells in a fresh namespace, report, then serve calls."""
    builtins.input = lambda *a: (_ for _ in ()).throw(EOFError("no input while grading"))
    sys.meta_path.insert(0, _FINDER)
    namespace = {"__name__": "__student__", "__builtins__": builtins}
    with open(path) as handle:
        cells = json.load(handle)
    try:
        for cell in cells:  # like "run all": stop at the first cell that fails
            run_cell(cell["source"], cell["cell"], namespace)
    except BaseException as error:  # noqa: BLE001
        if isinstance(error, SystemExit):
            os._exit(3)
        wire.send(write_fd, {"ok": False, "loaded": False, "error": describe(error)}, [])
        serve({}, reader, write_fd)  # nothing to call, but "exit" still ends it cleanly
        return
    wire.send(write_fd, {"ok": True, "loaded": True}, [])
    serve(namespace, reader, write_fd)


def zygote(read_fd: int, write_fd: int, filter_on: bool) -> None:
    reader = wire.Reader(read_fd)
    try:  # every notebook imports it: once here instead of once per notebook
        import cnnlib  # noqa: F401
    except Exception:  # noqa: BLE001 - no student edition on the path, or a broken one
        pass
    wire.send(write_fd, {"ready": True}, [])
    while True:
        try:
            request, _ = wire.receive(reader)
        except EOFError:
            os._exit(0)
        if request.get("op") != "spawn":
            os._exit(2)
        pid = os.fork()
        if pid == 0:
            try:
                _confine_child(filter_on)
                run_program(request["program"], reader, write_fd)
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        wire.send(write_fd, {"ended": os.waitstatus_to_exitcode(status)}, [])


def main() -> None:
    if sys.argv[1] != "--zygote":
        raise SystemExit("usage: child.py --zygote READ_FD WRITE_FD FILTER")
    zygote(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1")


if __name__ == "__main__":
    main()
