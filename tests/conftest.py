"""Shared test settings: hypothesis runs derandomized so every run checks the same cases."""

import pytest
from hypothesis import settings

settings.register_profile("course", derandomize=True, deadline=None, max_examples=60)
settings.load_profile("course")


def pytest_collection_modifyitems(items):
    """The ``grader`` marker on every test of the autograder and the release."""
    for item in items:
        if {"autograder", "release"} & set(item.path.parts[-3:-1]):
            item.add_marker(pytest.mark.grader)
