"""The ``cnn-course`` command: every subcommand is wired here, the same way.

Each subcommand lives in a module that exposes ``add_arguments(parser)`` and
``run(args) -> int``; its docstring is the subcommand's ``--help``. Exit codes: 0 done,
1 refused (a release that would leak or fails its own checks), 2 cannot run (bad
arguments, unknown assignment or student, missing files), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass

# jsonschema builds a grammar for its IRI formats at import (about 1 s of every command)
# when rfc3987_syntax is installed; nbformat's schema uses no IRI format, so skip it.
sys.modules.setdefault("rfc3987_syntax", None)

from .assignments import UnknownAssignment  # noqa: E402


@dataclass(frozen=True)
class Command:
    name: str
    module: str
    help: str


COMMANDS = (
    Command("release", "autograder.release",
            "release an assignment: solutions/A -> notebooks/A and the student bundle"),
    Command("grade", "autograder.grader.command",
            "grade a class's submissions (nbgrader's layout) in a sandbox"),
    Command("export", "autograder.export",
            "grades as CSV for an LMS gradebook (Canvas, Moodle) or a spreadsheet"),
    Command("report", "autograder.report",
            "an HTML class report: scores, pass rates, common misconceptions"),
    Command("gradescope", "autograder.gradescope", "build a Gradescope autograder zip"),
    Command("prepare-lab", "autograder.lab",
            "put each released assignment's student cnnlib beside its notebooks"),
    Command("demo", "autograder.demo",
            "the whole workflow on the sample class: release, grade, export, train a CNN"),
)


def version() -> str:
    from importlib import metadata

    try:
        return metadata.version("cnn-course")
    except metadata.PackageNotFoundError:  # pragma: no cover - a source tree without install
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnn-course",
        description="A course on convolutional networks and backpropagation: release "
                    "assignments, grade a class in a sandbox, export grades.",
        epilog="`cnn-course COMMAND --help` describes a command and all its options.",
    )
    parser.add_argument("--version", action="version", version=f"cnn-course {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        module = importlib.import_module(command.module)
        child = sub.add_parser(command.name, help=command.help, description=module.__doc__,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(child)
        child.set_defaults(func=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (UnknownAssignment, FileNotFoundError) as error:
        print(f"cnn-course {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"cnn-course {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
