"""cnn-course grade: see autograder/grader/command.py (this module is the CLI's entry)."""

from .grader.command import __doc__, add_arguments, run  # noqa: F401
