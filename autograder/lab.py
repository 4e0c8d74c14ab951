"""cnn-course prepare-lab: put each released assignment's student cnnlib beside its notebooks.

`make lab` runs this before it opens JupyterLab on notebooks/, so that `import cnnlib` in a
notebook finds the student edition of that assignment (stubs for what it teaches), as it
would in the student's own bundle.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .assignments import find_course_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course-dir", type=Path, default=None,
                        help="course root (default: nearest folder with nbgrader_config.py)")


def run(args: argparse.Namespace) -> int:
    from .release import prepare_lab

    for path in prepare_lab(find_course_dir(args.course_dir)):
        print(f"student cnnlib: {path}")
    return 0
