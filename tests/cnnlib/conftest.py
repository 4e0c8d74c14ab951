"""Each notebook marker also selects its assignment: ``-m a2_convolution`` runs the cnnlib
tests of notebooks 03 and 04, as it runs the grader's tests of that assignment."""

import pytest

ASSIGNMENT_OF = {
    "nb01_computational_graphs": "a1_backprop",
    "nb02_vector_backprop": "a1_backprop",
    "nb03_convolution": "a2_convolution",
    "nb04_pooling": "a2_convolution",
    "nb05_training_a_cnn": "a3_cnns",
    "nb06_architectures": "a3_cnns",
    "nb07_tuning_and_transfer": "a3_cnns",
}


def pytest_collection_modifyitems(items):
    for item in items:
        for notebook, assignment in ASSIGNMENT_OF.items():
            if item.get_closest_marker(notebook) and not item.get_closest_marker(assignment):
                item.add_marker(getattr(pytest.mark, assignment))
