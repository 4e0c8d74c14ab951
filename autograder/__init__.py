"""The trusted side of grading: release, sandbox, hidden tests, gradebook."""
