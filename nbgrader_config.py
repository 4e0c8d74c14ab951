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
