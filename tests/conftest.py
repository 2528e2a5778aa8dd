from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def site(root) -> Path:
    html = root / "_build" / "html"
    assert (html / "index.html").exists(), "the book is not built: run `make book` (make test does it)"
    return html


# The longest test files, longest first. With `make test`'s two workers (pytest-xdist,
# --dist loadfile: one file or notebook per worker at a time) they must start early, or
# one worker is still running them long after the other has finished everything else.
LONGEST_FIRST = [
    "tests/test_environments.py",  # two fresh venvs, every notebook run in each
    "tests/test_portability.py",  # strict nbval of the whole book in a second numeric environment
    "tests/test_build.py",  # a full book build
    "tests/test_grading_hostile.py",
    "tests/test_grading.py",
    "tests/test_html.py",
]


def pytest_collection_modifyitems(items):
    def rank(item):
        path = item.nodeid.split("::")[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order inside each file, and of the other files, is kept
