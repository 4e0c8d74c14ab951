"""cnn-course grade ASSIGNMENT --submitted DIR [--json OUT] [--workers N] [--gradebook DB]

Grades every student found in DIR (nbgrader's layout: DIR/<student>/ASSIGNMENT/<nb>.ipynb):
each notebook's code runs in a sandbox, its hidden tests are judged here, scores go to the
nbgrader gradebook, feedback to FEEDBACK/<student>/ASSIGNMENT/, and a class table to the
terminal. A student's finished result is cached (keyed by a hash of their files and the
hidden tests), so a run that was killed resumes where it stopped; --force regrades all.
Exits 0 when it graded what it found, whatever the scores; 2 when it cannot run at all.
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

from ..assignments import ASSIGNMENTS, find_course_dir, source_notebooks
from ..student_edition import build_student_cnnlib
from .escape import one_line
from .grading import Job, course_fingerprint, fingerprint, grade_student, load_sources
from .pool import WorkerDied, WorkerPool
from .record import GradebookWriter, NoGradebook, class_table, write_feedback, write_json
from .sandbox import Limits, isolation, warn_if_fallback


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", choices=ASSIGNMENTS, help="the assignment to grade")
    parser.add_argument("--submitted", type=Path, required=True,
                        help="submissions in nbgrader's layout: DIR/<student>/ASSIGNMENT/*.ipynb")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="students graded in parallel (default: CPU count)")
    parser.add_argument("--gradebook", type=Path, default=None,
                        help="nbgrader gradebook (SQLite; default COURSE/gradebook.db)")
    parser.add_argument("--no-gradebook", action="store_true",
                        help="record nothing in an nbgrader gradebook (JSON and feedback only)")
    parser.add_argument("--course-dir", type=Path, default=None,
                        help="course root (default: nearest folder with nbgrader_config.py)")
    parser.add_argument("--feedback", type=Path, default=None,
                        help="feedback folder (default COURSE/feedback)")
    parser.add_argument("--student", action="append", default=None,
                        help="grade only this student (repeatable)")
    parser.add_argument("--force", action="store_true", help="regrade cached students too")
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
    parser.add_argument("--quiet", action="store_true", help="no progress bar or table")


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
            raise SystemExit(f"cnn-course grade: --seed must be an integer or 'new', "
                             f"not {requested!r}") from None
    if requested is None and stored.is_file():
        try:
            return int(stored.read_text().strip())
        except ValueError:
            pass
    return secrets.randbelow(2**31)


def find_students(submitted: Path, assignment: str, only: list[str] | None) -> list[str]:
    """Folder names under ``submitted`` that hold ``assignment`` (links are listed too: the
    grader reports them as errors instead of following them)."""
    students = []
    for entry in sorted(os.scandir(submitted), key=lambda e: e.name):
        if entry.is_symlink():
            students.append(entry.name)
        elif entry.is_dir(follow_symlinks=False) and os.path.lexists(
                os.path.join(entry.path, assignment)):
            students.append(entry.name)
    return [s for s in students if only is None or s in only]


def _grade_in_worker(job: Job) -> dict:
    try:
        return grade_student(job)
    except Exception as error:  # noqa: BLE001 - one student's failure must not stop the class
        return {"_crash": f"{type(error).__name__}: {one_line(str(error), 300)}"}


def _crash_result(job: Job, message: str) -> dict:
    from .grading import _zero_tests

    notebooks = {}
    for nb in job.notebooks:
        tests = [t.as_dict() for t in _zero_tests(nb)]
        notebooks[nb] = {"score": 0.0, "max_score": sum(t["max_score"] for t in tests),
                         "error": f"the grader failed on this submission: {message}",
                         "tests": tests}
    return {"score": 0.0, "max_score": sum(n["max_score"] for n in notebooks.values()),
            "notebooks": notebooks}


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by its owner only."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def run(args: argparse.Namespace) -> int:
    course = find_course_dir(args.course_dir)
    submitted = args.submitted
    if not submitted.is_dir():
        print(f"cnn-course grade: no such directory: {submitted}", file=sys.stderr)
        return 2
    notebooks = [p.stem for p in source_notebooks(course, args.assignment)]
    sources = load_sources(course, args.assignment, notebooks)
    students = find_students(submitted, args.assignment, args.student)
    if not students:
        print(f"no submissions of {args.assignment} in {submitted}", file=sys.stderr)
    limits = Limits(cpu_seconds=args.cpu_seconds, memory_mb=args.memory_mb,
                    call_seconds=args.timeout_call, load_seconds=args.timeout_load,
                    notebook_seconds=args.timeout_notebook)
    warn_if_fallback()
    if not args.quiet:
        print(f"grading {len(students)} submission(s) of {args.assignment} with "
              f"{args.workers} worker(s); sandbox: {isolation()}", file=sys.stderr)
    gradebook_path = args.gradebook or course / "gradebook.db"
    feedback_dir = args.feedback or course / "feedback"
    cache_dir = Path(f"{gradebook_path}.cache") / args.assignment
    cache_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(cache_dir.parent, 0o700)
    seed = choose_seed(args.seed, cache_dir / "seed")
    _write_private(cache_dir / "seed", f"{seed}\n")
    # Opening an nbgrader gradebook takes seconds (importing nbgrader and SQLAlchemy): do
    # it while the workers grade.
    opened: dict = {}

    def open_gradebook() -> None:
        try:
            opened["writer"] = (NoGradebook() if args.no_gradebook else
                                GradebookWriter(gradebook_path, args.assignment, sources))
        except Exception as error:  # noqa: BLE001 - re-raised in the main thread
            opened["error"] = error

    opener = threading.Thread(target=open_gradebook, daemon=True)

    def gradebook() -> GradebookWriter:
        if not opener.is_alive() and not opened:
            opener.start()
        opener.join()
        if "error" in opened:
            raise opened["error"]
        return opened["writer"]

    def no_thread_running() -> None:
        """Before a replacement worker is forked: the opener thread must be done."""
        if opener.is_alive():
            opener.join()

    results: dict[str, dict] = {}
    start = time.perf_counter()
    interrupted = False
    with tempfile.TemporaryDirectory(prefix="cnn-course-lib-") as lib_root:
        student_lib = Path(lib_root)
        build_student_cnnlib(args.assignment, student_lib, course_dir=course)
        os.chmod(lib_root, 0o755)
        course_key = course_fingerprint(sources)
        jobs = {s: Job(s, args.assignment, submitted, notebooks, sources, student_lib, limits,
                       seed, course_key) for s in students}
        pending = []
        for student, job in jobs.items():
            cached = cache_dir / f"{student}.json"
            key = fingerprint(job)
            if not args.force and cached.is_file() and not cached.is_symlink():
                try:
                    entry = json.loads(cached.read_text())
                except ValueError:
                    entry = {}
                if entry.get("key") == key:
                    results[student] = entry["result"]
                    continue
            pending.append((job, key))

        def finish(student: str, result: dict, key: str) -> None:
            if "_crash" in result:
                result = _crash_result(jobs[student], result["_crash"])
            results[student] = result
            # committed once at the end: a killed run re-records finished students from
            # the cache below, so nothing already graded is lost
            gradebook().record(student, result, commit=False)
            write_feedback(feedback_dir, student, args.assignment, result)
            _write_private(cache_dir / f"{student}.json",
                           json.dumps({"key": key, "result": result}))  # last: see above

        from tqdm.auto import tqdm

        tqdm.monitor_interval = 0  # no monitor thread: replacement workers fork safely
        keys = {job.student: key for job, key in pending}
        pool = WorkerPool(min(args.workers, max(1, len(pending))), _grade_in_worker,
                          before_fork=no_thread_running) if pending else None
        opener.start()  # after the workers are forked: no thread is ever forked
        bar = tqdm(total=len(students), initial=len(students) - len(pending),
                   desc=f"grading {args.assignment}", unit="student",
                   disable=args.quiet, file=sys.stderr)
        try:
            if pool is not None:
                for job, result in pool.results([job for job, _ in pending]):
                    if isinstance(result, WorkerDied):
                        result = {"_crash": result.sentence()}
                    finish(job.student, result, keys[job.student])
                    bar.update()
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if pool is not None:
                pool.close(cancel=interrupted)
            bar.close()
    writer = gradebook()
    for student in students:  # cached students: make sure gradebook and feedback exist
        if student not in keys and student in results:
            writer.record(student, results[student], commit=False)
            write_feedback(feedback_dir, student, args.assignment, results[student])
    writer.close()
    if args.json:
        write_json(args.json, args.assignment, results, seed)
    if interrupted:
        print(f"interrupted: {len(results)} of {len(students)} submission(s) graded and "
              "recorded; run the same command again to grade the rest.", file=sys.stderr)
        return 130
    if not args.quiet and results:
        print(class_table(notebooks, results))
        cached = len(students) - len(pending)
        print(f"graded {len(students)} student(s) in {time.perf_counter() - start:.1f} s"
              f" ({cached} from the cache of an earlier run; --force regrades them); "
              f"feedback in {feedback_dir}; gradebook {gradebook_path}")
    return 0
