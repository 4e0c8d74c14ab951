"""Grade jobs in forked worker processes; a worker that dies costs only the job it held.

``concurrent.futures.ProcessPoolExecutor`` fails every pending future when one worker is
killed (``BrokenProcessPool``), so a single submission that gets its worker killed by the
kernel would end the run without a report. Here each worker holds one job at a time, the
parent knows which, and a dead worker's job comes back as ``WorkerDied`` while a fresh
worker takes the queue on. Workers ignore Ctrl-C: the parent decides what stops.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait


@dataclass
class WorkerDied:
    """The worker grading a job ended without answering (killed, out of memory...)."""

    exit_code: int | None

    def sentence(self) -> str:
        code = self.exit_code
        if code is not None and code < 0:
            try:
                how = f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        hint = " (out of memory?)" if code == -signal.SIGKILL else ""
        return f"the grading process for this submission {how}{hint}"


def _context() -> multiprocessing.context.BaseContext:
    """fork where it is safe (Linux, where the sandbox runs), else a clean interpreter."""
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _serve(conn: Connection, function: Callable) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        conn.send(function(job))


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    job: object = None


class WorkerPool:
    """``workers`` processes running ``function(job)``; use ``results`` once, then ``close``.

    ``before_fork`` runs before any worker started after the first ones (a replacement):
    the caller uses it to make sure no thread of its own is running when the parent forks.
    """

    def __init__(self, workers: int, function: Callable,
                 before_fork: Callable[[], None] | None = None) -> None:
        self._function = function
        self._before_fork = before_fork
        self._workers: list[_Worker] = []
        self._context = _context()
        for _ in range(max(1, workers)):
            self._workers.append(self._start())

    def _start(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(child, self._function),
                                        daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def results(self, jobs: Iterable) -> Iterator[tuple[object, object]]:
        """(job, result) as each finishes; result is a ``WorkerDied`` if its worker died."""
        queue = deque(jobs)
        busy: dict[int, _Worker] = {}
        while queue or busy:
            for worker in self._workers:
                if worker.job is None and queue:
                    worker.job = queue.popleft()
                    try:
                        worker.conn.send(worker.job)
                    except (BrokenPipeError, OSError):
                        pass  # seen as dead below
                    busy[id(worker)] = worker
            ready = wait([w.conn for w in busy.values()]
                         + [w.process.sentinel for w in busy.values()])
            for worker in list(busy.values()):
                if worker.conn not in ready and worker.process.sentinel not in ready:
                    continue
                job, worker.job = worker.job, None
                del busy[id(worker)]
                try:
                    result = worker.conn.recv() if worker.conn.poll() else None
                except (EOFError, OSError):
                    result = None
                if result is not None:
                    yield job, result
                    continue
                worker.process.join(5)
                died = WorkerDied(worker.process.exitcode)
                self._replace(worker, bool(queue))
                yield job, died

    def _replace(self, dead: _Worker, needed: bool) -> None:
        dead.conn.close()
        self._workers.remove(dead)
        if needed:
            if self._before_fork is not None:
                self._before_fork()
            self._workers.append(self._start())

    def close(self, cancel: bool = False) -> None:
        """Stop the workers: politely, or (``cancel``) at once."""
        for worker in self._workers:
            if cancel:
                worker.process.kill()
            else:
                try:
                    worker.conn.send(None)
                except OSError:
                    pass
        for worker in self._workers:
            worker.process.join(10)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self._workers = []
