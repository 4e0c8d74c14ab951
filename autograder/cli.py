"""The ``cnn-course`` command: release assignments, grade a class, build Gradescope bundles."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

# jsonschema builds a grammar for its IRI formats at import (about 1 s of every command)
# when rfc3987_syntax is installed; nbformat's schema uses no IRI format, so skip it.
sys.modules.setdefault("rfc3987_syntax", None)

from .assignments import ASSIGNMENTS, UnknownAssignment, find_course_dir  # noqa: E402

DESCRIPTION = """\
cnn-course: a course on convolutional networks and backpropagation.

  release      turn solutions/ASSIGNMENT into notebooks/ASSIGNMENT and dist/student/ASSIGNMENT
  grade        grade a class's submissions (nbgrader layout) in a sandbox
  gradescope   build a Gradescope autograder zip for an assignment
  prepare-lab  put each released assignment's student cnnlib beside its notebooks
"""


def _release(args: argparse.Namespace) -> int:
    from .release import LeakError, release

    course = find_course_dir(args.course_dir)
    try:
        result = release(args.assignment, course, args.dist, use_db=not args.no_db)
    except LeakError as error:
        print(f"release refused: {error}", file=sys.stderr)
        return 1
    for path in result.notebooks:
        print(f"released {path.relative_to(course)}")
    print(f"student bundle: {result.bundle}")
    print(f"student bundle zipped (for an LMS): {result.bundle.with_suffix('.zip')}")
    return 0


def _prepare_lab(args: argparse.Namespace) -> int:
    from .release import prepare_lab

    for path in prepare_lab(find_course_dir(args.course_dir)):
        print(f"student cnnlib: {path}")
    return 0


def _add_release(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "release", help="release an assignment to students",
        description="Run nbgrader generate_assignment on solutions/ASSIGNMENT into "
        "notebooks/ASSIGNMENT and build dist/student/ASSIGNMENT (notebooks, the student "
        "edition of cnnlib, requirements.txt). Refuses if solution code would leak.",
    )
    parser.add_argument("assignment", choices=ASSIGNMENTS)
    parser.add_argument("--course-dir", type=Path, default=None,
                        help="course root (default: nearest folder with nbgrader_config.py)")
    parser.add_argument("--dist", type=Path, default=None,
                        help="where student bundles go (default: COURSE/dist/student)")
    parser.add_argument("--no-db", action="store_true",
                        help="do not record the assignment in the nbgrader gradebook")
    parser.set_defaults(func=_release)

    lab = sub.add_parser("prepare-lab", help="student cnnlib beside each released notebook")
    lab.add_argument("--course-dir", type=Path, default=None)
    lab.set_defaults(func=_prepare_lab)


def _add_optional(sub: argparse._SubParsersAction, name: str, module: str, help_: str) -> None:
    """Subcommands whose module may be absent in a partial install."""
    try:
        mod = importlib.import_module(f"autograder.{module}")
    except ImportError as error:  # pragma: no cover - only in a broken install
        reason = str(error)
        parser = sub.add_parser(name, help=f"{help_} (unavailable: {reason})")
        parser.set_defaults(func=lambda _args: _unavailable(name, reason))
        return
    parser = sub.add_parser(name, help=help_, description=mod.__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    mod.add_arguments(parser)
    parser.set_defaults(func=mod.run)


def _unavailable(name: str, reason: str) -> int:
    print(f"cnn-course {name} is unavailable: {reason}", file=sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnn-course", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_release(sub)
    _add_optional(sub, "grade", "grade", "grade a class's submissions")
    _add_optional(sub, "gradescope", "gradescope", "build a Gradescope autograder zip")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (UnknownAssignment, FileNotFoundError) as error:
        print(f"cnn-course {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
