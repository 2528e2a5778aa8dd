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
