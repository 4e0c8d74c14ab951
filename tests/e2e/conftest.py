"""Browser tests: JupyterLab started as students start it, driven in headless Chromium.

They need Debian's Chromium (/usr/bin/chromium) and Playwright's Python package, which
`make browser-tools` installs (`make test` does it first), and, for the bundle, PyPI.
Without them the tests skip and say what is missing; CNN_COURSE_E2E_REQUIRED=1 (set by
.ci/run) turns such a skip into a failure, so CI cannot go green without running them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from labdriver import CHROMIUM, CHROMIUM_ARGS, FIGURE_PREFIX, unavailable  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "e2e: end-to-end browser tests of JupyterLab as students start it (slow)")


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright's Python package is missing: run `make browser-tools`")
    if not CHROMIUM.is_file():
        unavailable(f"{CHROMIUM} is missing: `apt-get install chromium` (make browser-tools "
                    "does it as root)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def context(browser):
    """One browser profile per test module (per server): each test opens its own tab, and
    JupyterLab's scripts come from the browser's cache after the first."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.set_default_timeout(60_000)
    yield ctx
    ctx.close()


def pytest_terminal_summary(terminalreporter):
    """The figures the browser tests measured (recorded as user properties, so they reach
    the summary from pytest-xdist workers too)."""
    figures = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            for name, value in getattr(report, "user_properties", []):
                if str(name).startswith(FIGURE_PREFIX) and getattr(report, "when", "") == "call":
                    figures.append((name[len(FIGURE_PREFIX):], value))
    if figures:
        terminalreporter.section("browser test figures (seconds)")
        for name, value in sorted(figures):
            terminalreporter.write_line(f"{name}: {value:.1f}")
