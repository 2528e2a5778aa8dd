"""The notebooks of the book: in the toc, stored executed, and opened by the same setup cell."""

import subprocess
import sys
import types

import nbformat
import pytest
import yaml

from backprop_lab import colab, notebooks


def _toc_files(root):
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    stack = list(toc.get("chapters", []))
    while stack:
        entry = stack.pop()
        files.append(entry["file"])
        stack.extend(entry.get("sections", []))
    return files


def test_toc_and_notebooks_agree(root):
    listed = set(_toc_files(root))
    for entry in listed:
        assert any((root / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), f"{entry} is in _toc.yml but missing"
    for path in notebooks.book_notebooks(root) + notebooks.exercise_notebooks(root):
        assert str(path.relative_to(root).with_suffix("")) in listed, f"{path} is not in _toc.yml"
    assert not [f for f in listed if f.startswith("solutions/")], "solutions must never be built into the book"


def test_both_editions_list_the_same_chapters_in_the_same_order(root):
    files = _toc_files(root)
    en = [f.split("/", 1)[1] for f in files if f.startswith(("book/en/", "exercises/en/"))]
    bn = [f.split("/", 1)[1] for f in files if f.startswith(("book/bn/", "exercises/bn/"))]
    en = [f.replace("en/", "", 1) for f in en]
    bn = [f.replace("bn/", "", 1) for f in bn]
    assert en == bn and len(en) >= 3


@pytest.fixture(scope="module")
def book(root):
    paths = notebooks.book_notebooks(root)
    assert paths, "no notebooks found under book/"
    return {p: nbformat.read(p, as_version=4) for p in paths}


def test_every_notebook_starts_with_the_identical_setup_cell(root, book):
    expected = colab.setup_cell_source(notebooks.repo_url(root))
    for path, nb in book.items():
        first = nb.cells[0]
        assert first.cell_type == "code" and first.source == expected, f"{path}: run `make setup-cells`"
        assert first.metadata.get("tags") == ["remove-cell"], f"{path}: the setup cell must be hidden in the book"


def test_every_notebook_is_stored_with_its_outputs(book):
    for path, nb in book.items():
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.execution_count is not None for c in code), f"{path}: run `make refresh`"
        assert not any(o.get("output_type") == "error" for c in code for o in c.outputs), f"{path} stored an error"
        assert nb.metadata["kernelspec"]["name"] == "python3"


def _run_setup_cell(source, monkeypatch, in_colab):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: calls.append(cmd))
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(compile(source, "<setup cell>", "exec"), {})
    return calls


def test_setup_cell_installs_the_package_from_the_configured_repository_in_colab(root, monkeypatch):
    url = notebooks.repo_url(root)
    calls = _run_setup_cell(colab.setup_cell_source(url), monkeypatch, in_colab=True)
    assert len(calls) == 1
    assert calls[0][1:5] == ["-m", "pip", "install", "-q"]
    # the `notebooks` extra brings what the notebooks import beyond the core (torch, tqdm)
    assert calls[0][-1] == f"backprop-lab[notebooks] @ git+{url}"


def test_setup_cell_does_nothing_outside_colab(root, monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert _run_setup_cell(colab.setup_cell_source(notebooks.repo_url(root)), monkeypatch, in_colab=False) == []


def test_repository_url_must_be_https():
    with pytest.raises(ValueError, match="https"):
        colab.setup_cell_source("git@example.org:x/y")


def test_every_notebook_checks_its_results_and_every_stored_check_passed(book):
    for path, nb in book.items():
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert any("compare(" in c.source for c in code) and any("assert" in c.source for c in code), path
        printed = "".join(o.get("text", "") for c in code for o in c.outputs if o.get("output_type") == "stream")
        assert ("PASS" in printed) or ("মিলেছে" in printed), f"{path}: no passing check in the stored outputs"
        assert "FAIL" not in printed and "মেলেনি" not in printed, f"{path}: a stored check failed"


def test_unchecked_outputs_say_why(book):
    for path, nb in book.items():
        for i, cell in enumerate(nb.cells):
            if "nbval-ignore-output" in cell.metadata.get("tags", []):
                assert "# Output not compared:" in cell.source, f"{path} cell {i}: say why its output is not compared"
