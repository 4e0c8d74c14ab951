"""cnn-course grade ASSIGNMENT --submitted DIR [--json OUT] [--workers N] [--gradebook DB]

Grades every student found in DIR (nbgrader's layout: DIR/<student>/ASSIGNMENT/<nb>.ipynb):
each notebook's code runs in a sandbox and its hidden tests are judged here. Scores go to
the nbgrader gradebook, which the formgrader reads (with a copy of each submission under
autograded/, as `nbgrader autograde` would leave it); feedback to
FEEDBACK/<student>/ASSIGNMENT/; a class table to the terminal. Manually graded cells show
as pending until a TA grades them in the formgrader; late submissions are judged against
the due date. A student's finished result is cached (keyed by everything that can change
it), so a run that was killed resumes where it stopped; --force regrades all, --student
regrades one and merges into the JSON report.
Exits 0 when it graded what it found, whatever the scores; 2 when it cannot run at all
(bad arguments, an unknown assignment or student, no submissions); 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..assignments import assignment_names, find_course_dir, source_notebooks
from ..student_edition import build_student_cnnlib
from .escape import for_terminal, one_line
from .grading import Job, course_fingerprint, crashed, fingerprint, grade_student, load_sources
from .late import LatePolicy
from .layout import (
    LayoutError,
    check_requested,
    find_students,
    match_notebooks,
    parse_time,
    submission_time,
)
from .pool import WorkerDied, WorkerPool
from .record import GradebookWriter, NoGradebook, write_autograded
from .results import ClassResults, StudentResult
from .sandbox import Limits, isolation, warn_if_fallback


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="the assignment to grade (a folder of solutions/)")
    parser.add_argument("--submitted", type=Path, required=True,
                        help="submissions in nbgrader's layout: DIR/<student>/ASSIGNMENT/*.ipynb")
    parser.add_argument("--json", type=Path, default=None,
                        help="write the results here (merged with it when --student is given)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="students graded in parallel (default: CPU count)")
    parser.add_argument("--gradebook", type=Path, default=None,
                        help="nbgrader gradebook (SQLite; default COURSE/gradebook.db)")
    parser.add_argument("--no-gradebook", action="store_true",
                        help="record nothing in an nbgrader gradebook (JSON and feedback only)")
    parser.add_argument("--autograded", type=Path, default=None,
                        help="where the formgrader looks for graded submissions (default: "
                             "autograded/ beside the gradebook)")
    parser.add_argument("--course-dir", type=Path, default=None,
                        help="course root (default: nearest folder with nbgrader_config.py)")
    parser.add_argument("--feedback", type=Path, default=None,
                        help="feedback folder (default COURSE/feedback)")
    parser.add_argument("--student", action="append", default=None,
                        help="grade only this student (repeatable)")
    parser.add_argument("--force", action="store_true", help="regrade cached students too")
    parser.add_argument("--due", default=None,
                        help="due date, e.g. '2026-12-01 17:00:00 UTC' (default: the "
                             "gradebook's due date of the assignment, if any)")
    parser.add_argument("--late-penalty", default="none",
                        help="what lateness costs: 'none' (recorded only), 'zero', or the "
                             "fraction of a notebook's points lost per started day late")
    parser.add_argument("--timeout-call", type=float, default=20.0,
                        help="seconds one call into student code may take (default 20)")
    parser.add_argument("--timeout-load", type=float, default=60.0,
                        help="seconds the notebook's code may take to run (default 60)")
    parser.add_argument("--timeout-notebook", type=float, default=120.0,
                        help="seconds one notebook may take in all, loading and every test; "
                             "tests left when it runs out are 'timeout' (default 120)")
    parser.add_argument("--memory-mb", type=int, default=2048,
                        help="address-space limit of the sandbox (default 2048)")
    parser.add_argument("--cpu-seconds", type=int, default=120,
                        help="CPU-time limit of one sandbox (default 120)")
    parser.add_argument("--seed", default=None,
                        help="seed of the hidden tests' random inputs: an integer, or 'new'; "
                             "default: the seed of this gradebook's earlier runs of the "
                             "assignment, else a new one (recorded in the JSON report)")
    parser.add_argument("--visible-checks", action="store_true",
                        help="also run each notebook's visible test cells (no points; the "
                             "Gradescope bundle shows them to students at once)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or table")


class UsageError(ValueError):
    """The command cannot run with these arguments; the message says why."""


def choose_seed(requested: str | None, stored: Path) -> int:
    """The run's seed: ``requested``, else the one ``stored`` from an earlier run, else new.

    Reusing the stored seed keeps a class on one set of inputs across resumed runs and
    one-student regrades; 'new' draws another (a fresh set of hidden inputs).
    """
    import secrets

    if requested not in (None, "new"):
        try:
            return int(requested)
        except ValueError:
            raise UsageError(f"--seed must be an integer or 'new', not {requested!r}") from None
    if requested is None and stored.is_file():
        try:
            return int(stored.read_text().strip())
        except ValueError:
            pass
    return secrets.randbelow(2**31)


def _grade_in_worker(job: Job) -> StudentResult | str:
    try:
        return grade_student(job)
    except Exception as error:  # noqa: BLE001 - one student's failure must not stop the class
        return f"{type(error).__name__}: {one_line(str(error), 300)}"


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by its owner only."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def _say(text: str) -> None:
    print(f"cnn-course grade: {text}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    try:
        return GradingRun(args).run()
    except (LayoutError, UsageError) as error:
        _say(str(error))
        return 2


class _Gradebook:
    """The nbgrader gradebook, opened in a thread while the workers grade (importing
    nbgrader and SQLAlchemy takes seconds); ``get`` waits for it."""

    def __init__(self, open_it) -> None:
        self._opened: dict = {}
        self._open = open_it
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self._opened["writer"] = self._open()
        except Exception as error:  # noqa: BLE001 - re-raised in the main thread
            self._opened["error"] = error

    def start(self) -> None:
        if not self.thread.is_alive() and not self._opened:
            self.thread.start()

    def settle(self) -> None:
        """Before a replacement worker is forked: no thread of ours may be running."""
        if self.thread.is_alive():
            self.thread.join()

    def get(self) -> GradebookWriter | NoGradebook:
        self.start()
        self.thread.join()
        if "error" in self._opened:
            raise self._opened["error"]
        return self._opened["writer"]


class GradingRun:
    """One `cnn-course grade`: find, build, grade (cache first), record, report."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.course = find_course_dir(args.course_dir)
        known = assignment_names(self.course)
        if args.assignment not in known:
            raise UsageError(f"unknown assignment {args.assignment!r}; the course has: "
                             f"{', '.join(known)}")
        if not args.submitted.is_dir():
            raise UsageError(f"no such directory: {args.submitted}")
        self.notebooks = [p.stem for p in source_notebooks(self.course, args.assignment)]
        self.sources = load_sources(self.course, args.assignment, self.notebooks)
        self.students = check_requested(
            args.student, find_students(args.submitted, args.assignment, self.notebooks))
        try:
            self.due = parse_time(args.due) if args.due else None
            LatePolicy.parse(None, args.late_penalty)
        except (ValueError, OverflowError) as error:
            raise UsageError(str(error)) from None
        self.limits = Limits(cpu_seconds=args.cpu_seconds, memory_mb=args.memory_mb,
                             call_seconds=args.timeout_call, load_seconds=args.timeout_load,
                             notebook_seconds=args.timeout_notebook)
        self.gradebook_path = args.gradebook or self.course / "gradebook.db"
        self.feedback_dir = args.feedback or self.course / "feedback"
        self.autograded_dir = args.autograded or self.gradebook_path.parent / "autograded"
        self.cache_dir = Path(f"{self.gradebook_path}.cache") / args.assignment
        self.gradebook = _Gradebook(lambda: NoGradebook() if args.no_gradebook else
                                    GradebookWriter(self.gradebook_path, args.assignment,
                                                    self.sources, duedate=self.due))
        self.results: dict[str, StudentResult] = {}
        self.recorded: set[str] = set()
        self.policy: LatePolicy | None = None

    # -- steps ----------------------------------------------------------------------------
    def run(self) -> int:
        args, start = self.args, time.perf_counter()
        warn_if_fallback()
        if not args.quiet:
            print(f"grading {len(self.students)} submission(s) of {args.assignment} with "
                  f"{args.workers} worker(s); sandbox: {isolation()}", file=sys.stderr)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.cache_dir.parent, 0o700)
        self.seed = choose_seed(args.seed, self.cache_dir / "seed")
        _write_private(self.cache_dir / "seed", f"{self.seed}\n")
        with tempfile.TemporaryDirectory(prefix="cnn-course-lib-") as lib_root:
            build_student_cnnlib(args.assignment, Path(lib_root), course_dir=self.course)
            os.chmod(lib_root, 0o755)
            self.jobs = self._jobs(Path(lib_root))
            pending = self._from_cache()
            interrupted = self._grade(pending)
        for student, result in sorted(self.results.items()):  # cached: recorded again,
            if student not in self.recorded:  # as manual scores and lateness may have moved
                self._record(self.jobs[student], result)
        self.gradebook.get().close()
        self._write_report()
        if interrupted:
            print(f"interrupted: {len(self.results)} of {len(self.students)} submission(s) "
                  "graded and recorded; run the same command again to grade the rest.",
                  file=sys.stderr)
            return 130
        if not args.quiet and self.results:
            self._summary(len(self.students) - len(pending), time.perf_counter() - start)
        return 0

    def _jobs(self, student_lib: Path) -> dict[str, Job]:
        args, course_key = self.args, course_fingerprint(self.sources)
        return {s: Job(s, args.assignment, args.submitted, self.notebooks, self.sources,
                       student_lib, self.limits, self.seed, course_key,
                       match_notebooks(args.submitted / s / args.assignment, self.notebooks),
                       self.course if args.visible_checks else None)
                for s in self.students}

    def _from_cache(self) -> list[Job]:
        """Fill ``results`` from the cache where its key still matches; the rest to grade."""
        pending, self.keys = [], {}
        for student, job in self.jobs.items():
            self.keys[student] = key = fingerprint(job)
            cached = self.cache_dir / f"{student}.json"
            if self.args.force or not cached.is_file() or cached.is_symlink():
                pending.append(job)
                continue
            try:
                entry = json.loads(cached.read_text())
                if entry.get("key") == key:
                    self.results[student] = StudentResult.from_json(student, entry["result"])
                    continue
            except (ValueError, KeyError, TypeError):
                pass
            pending.append(job)
        return pending

    def _grade(self, pending: list[Job]) -> bool:
        """Grade ``pending`` in worker processes; True if interrupted."""
        from tqdm.auto import tqdm

        tqdm.monitor_interval = 0  # no monitor thread: replacement workers fork safely
        pool = WorkerPool(min(self.args.workers, max(1, len(pending))), _grade_in_worker,
                          before_fork=self.gradebook.settle) if pending else None
        self.gradebook.start()  # after the workers are forked: no thread is ever forked
        bar = tqdm(total=len(self.students), initial=len(self.students) - len(pending),
                   desc=f"grading {self.args.assignment}", unit="student",
                   disable=self.args.quiet, file=sys.stderr)
        interrupted = False
        try:
            for job, result in pool.results(pending) if pool else ():
                self._finish(job, result)
                bar.update()
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if pool is not None:
                pool.close(cancel=interrupted)
            bar.close()
        return interrupted

    def _finish(self, job: Job, result: StudentResult | str | WorkerDied) -> None:
        if isinstance(result, WorkerDied):
            result = result.sentence()
        if isinstance(result, str):
            result = crashed(job, result)
        self.results[job.student] = result
        self._record(job, result)
        self.recorded.add(job.student)
        # last: a killed run redoes this student, and re-records those before it
        _write_private(self.cache_dir / f"{job.student}.json",
                       json.dumps({"key": self.keys[job.student], "result": result.to_json()}))

    def _record(self, job: Job, result: StudentResult) -> None:
        """Gradebook (which reads back manual scores), lateness, feedback, autograded copy."""
        writer = self.gradebook.get()
        if self.policy is None:
            self.policy = LatePolicy.parse(self.due or writer.duedate, self.args.late_penalty)
        folder = self.args.submitted / job.student / job.assignment
        when, stamp = submission_time(folder, [f.filename for f in job.files.values()])
        self.policy.apply(result, when)
        writer.record(result, timestamp=parse_time(stamp) if stamp else None, commit=False)
        result.write_feedback(self.feedback_dir, job.assignment)
        write_autograded(self.autograded_dir, job, stamp, result)

    def _write_report(self) -> None:
        if not self.args.json:
            return
        report = ClassResults(self.args.assignment, self.seed, self.results)
        if self.args.student:
            report = report.merged_into(self.args.json)
        report.write_json(self.args.json)

    def _summary(self, cached: int, seconds: float) -> None:
        print(ClassResults(self.args.assignment, self.seed, self.results)
              .class_table(self.notebooks))
        print(f"graded {len(self.students)} student(s) in {seconds:.1f} s ({cached} from the "
              "cache of an earlier run; --force regrades them); feedback in "
              f"{self.feedback_dir}; gradebook {self.gradebook_path}")
        for student, result in sorted(self.results.items()):
            for nb in result.notebooks.values():
                if nb.warning:
                    _say(f"{for_terminal(student, 40)}: {for_terminal(nb.warning, 160)}")
