"""Keeps nbgrader's own autograde from running in this course.

`cnn-course grade` grades: students' code in a sandbox, hidden tests judged outside it.
nbgrader's autograde (the formgrader's "autograde" button, `nbgrader autograde`) would run
the same code unsandboxed and overwrite those grades. ``nbgrader_config.py`` names
``autograder.nbgrader_guard.refuse`` as autograde's pre-convert hook; nbgrader resolves that
name as it builds its autograder, before it touches any file, and resolving it raises the
sentence below. So the button fails at once, saying what to run, and nothing changes: not
the gradebook, not autograded/.
"""

MESSAGE = ("this course grades with `cnn-course grade ASSIGNMENT --submitted submitted/` "
           "(students' code runs in a sandbox); nbgrader's autograde would run it "
           "unsandboxed and replace those grades. To regrade one student: cnn-course grade "
           "ASSIGNMENT --submitted submitted/ --student ID --force")


class UseCnnCourseGrade(RuntimeError):
    """nbgrader's autograde was asked to run in a course graded by cnn-course."""


def __getattr__(name: str):
    if name == "refuse":
        raise UseCnnCourseGrade(MESSAGE)
    raise AttributeError(name)
