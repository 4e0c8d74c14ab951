"""The grading pipeline: load -> build -> sandbox -> judge -> record.

Each step is a small module: ``submission`` (read and validate), ``program`` (the student's
code without test and skip-grading cells), ``sandbox`` + ``child`` + ``wire`` (run it in
a confined process and talk to it without pickle), ``proxy`` (the ``student`` object the
hidden tests call), ``judge`` (pytest in the trusted process), ``record`` (gradebook, JSON,
feedback, class table) and ``command`` (``cnn-course grade``).
"""
