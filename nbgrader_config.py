"""nbgrader configuration: solutions/ is the source, notebooks/ the release directory."""

from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import ClearSolutions

from autograder.stubs import NamedStubs

c = get_config()  # noqa: F821  (nbgrader injects get_config)

c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
# Instructor notebooks carry the reference solutions; students get stubs. NamedStubs (a
# ClearSolutions) makes each stub's raise name its function:
#   raise NotImplementedError("write conv2d_forward: replace this line with your code")
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.GenerateAssignment.preprocessors = [
    NamedStubs if step is ClearSolutions else step
    for step in GenerateAssignment.class_traits()["preprocessors"].default()
]


# This course grades with `cnn-course grade` (students' code in a sandbox, hidden tests
# judged outside it). nbgrader's own autograde, the formgrader's button included, would
# run students' code unsandboxed and replace those grades: resolving this hook refuses it,
# with a sentence saying what to run, before nbgrader touches anything.
c.Autograde.pre_convert_hook = "autograder.nbgrader_guard.refuse"
