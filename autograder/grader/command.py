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
        return _run(args)
    except (LayoutError, UsageError) as error:
        _say(str(error))
        return 2


def _run(args: argparse.Namespace) -> int:
    course = find_course_dir(args.course_dir)
    if args.assignment not in assignment_names(course):
        raise UsageError(f"unknown assignment {args.assignment!r}; the course has: "
                         f"{', '.join(assignment_names(course))}")
    submitted = args.submitted
    if not submitted.is_dir():
        raise UsageError(f"no such directory: {submitted}")
    notebooks = [p.stem for p in source_notebooks(course, args.assignment)]
    sources = load_sources(course, args.assignment, notebooks)
    students = check_requested(args.student,
                               find_students(submitted, args.assignment, notebooks))
    try:
        policy_due = parse_time(args.due) if args.due else None
        late_text = args.late_penalty
        LatePolicy.parse(None, late_text)
    except (ValueError, OverflowError) as error:
        raise UsageError(str(error)) from None
    limits = Limits(cpu_seconds=args.cpu_seconds, memory_mb=args.memory_mb,
                    call_seconds=args.timeout_call, load_seconds=args.timeout_load,
                    notebook_seconds=args.timeout_notebook)
    warn_if_fallback()
    if not args.quiet:
        print(f"grading {len(students)} submission(s) of {args.assignment} with "
              f"{args.workers} worker(s); sandbox: {isolation()}", file=sys.stderr)
    gradebook_path = args.gradebook or course / "gradebook.db"
    feedback_dir = args.feedback or course / "feedback"
    autograded_dir = args.autograded or gradebook_path.parent / "autograded"
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
                                GradebookWriter(gradebook_path, args.assignment, sources,
                                                duedate=policy_due))
        except Exception as error:  # noqa: BLE001 - re-raised in the main thread
            opened["error"] = error

    opener = threading.Thread(target=open_gradebook, daemon=True)

    def gradebook() -> GradebookWriter | NoGradebook:
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

    policies: list[LatePolicy] = []

    def record(job: Job, result: StudentResult) -> None:
        """Gradebook (which reads back manual scores), lateness, feedback, autograded copy."""
        writer = gradebook()
        if not policies:
            policies.append(LatePolicy.parse(policy_due or writer.duedate, late_text))
        folder = submitted / job.student / args.assignment
        when, stamp = submission_time(folder, [f.filename for f in job.files.values()])
        policies[0].apply(result, when)
        writer.record(result, timestamp=parse_time(stamp) if stamp else None, commit=False)
        result.write_feedback(feedback_dir, args.assignment)
        write_autograded(autograded_dir, job, stamp, result)

    results: dict[str, StudentResult] = {}
    recorded: set[str] = set()
    start = time.perf_counter()
    interrupted = False
    with tempfile.TemporaryDirectory(prefix="cnn-course-lib-") as lib_root:
        student_lib = Path(lib_root)
        build_student_cnnlib(args.assignment, student_lib, course_dir=course)
        os.chmod(lib_root, 0o755)
        course_key = course_fingerprint(sources)
        jobs = {s: Job(s, args.assignment, submitted, notebooks, sources, student_lib, limits,
                       seed, course_key,
                       match_notebooks(submitted / s / args.assignment, notebooks),
                       course if args.visible_checks else None)
                for s in students}
        pending, keys = [], {}
        for student, job in jobs.items():
            keys[student] = key = fingerprint(job)
            cached = cache_dir / f"{student}.json"
            if not args.force and cached.is_file() and not cached.is_symlink():
                try:
                    entry = json.loads(cached.read_text())
                    if entry.get("key") == key:
                        results[student] = StudentResult.from_json(student, entry["result"])
                        continue
                except (ValueError, KeyError, TypeError):
                    pass
            pending.append(job)

        def finish(job: Job, result: StudentResult | str | WorkerDied) -> None:
            if isinstance(result, WorkerDied):
                result = result.sentence()
            if isinstance(result, str):
                result = crashed(job, result)
            results[job.student] = result
            record(job, result)
            recorded.add(job.student)
            # last: a killed run redoes this student, and re-records those before it
            _write_private(cache_dir / f"{job.student}.json",
                           json.dumps({"key": keys[job.student], "result": result.to_json()}))

        from tqdm.auto import tqdm

        tqdm.monitor_interval = 0  # no monitor thread: replacement workers fork safely
        pool = WorkerPool(min(args.workers, max(1, len(pending))), _grade_in_worker,
                          before_fork=no_thread_running) if pending else None
        opener.start()  # after the workers are forked: no thread is ever forked
        bar = tqdm(total=len(students), initial=len(students) - len(pending),
                   desc=f"grading {args.assignment}", unit="student",
                   disable=args.quiet, file=sys.stderr)
        try:
            if pool is not None:
                for job, result in pool.results(pending):
                    finish(job, result)
                    bar.update()
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if pool is not None:
                pool.close(cancel=interrupted)
            bar.close()

    # Students from the cache: recorded again, since manual scores and lateness can have
    # changed since the cache was written.
    for student, result in sorted(results.items()):
        if student not in recorded:
            record(jobs[student], result)
    gradebook().close()
    report = ClassResults(args.assignment, seed, results)
    if args.json:
        if args.student:
            report = report.merged_into(args.json)
        report.write_json(args.json)
    if interrupted:
        print(f"interrupted: {len(results)} of {len(students)} submission(s) graded and "
              "recorded; run the same command again to grade the rest.", file=sys.stderr)
        return 130
    if not args.quiet and results:
        print(ClassResults(args.assignment, seed, results).class_table(notebooks))
        cached = len(students) - len(pending)
        print(f"graded {len(students)} student(s) in {time.perf_counter() - start:.1f} s"
              f" ({cached} from the cache of an earlier run; --force regrades them); "
              f"feedback in {feedback_dir}; gradebook {gradebook_path}")
        for student, result in sorted(results.items()):
            for nb in result.notebooks.values():
                if nb.warning:
                    _say(f"{for_terminal(student, 40)}: {for_terminal(nb.warning, 160)}")
    return 0

