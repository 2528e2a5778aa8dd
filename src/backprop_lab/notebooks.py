"""Maintainer tools for the book's notebooks: the setup cell and re-execution.

Re-executing a notebook replaces its stored outputs, which are what the book shows
and what nbval checks, so it only ever happens on purpose (``make refresh``).
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat

from .colab import SETUP_TAGS, setup_cell_source

BOOK_GLOBS = ["book/en/*.ipynb", "book/bn/*.ipynb"]
MASTER_GLOBS = ["solutions/en/*.ipynb", "solutions/bn/*.ipynb"]
EXERCISE_GLOBS = ["exercises/en/*.ipynb", "exercises/bn/*.ipynb"]


def book_notebooks(root: Path) -> list[Path]:
    """The chapters: stored with outputs, executed by nbval and `make refresh`."""
    return sorted(p for pattern in BOOK_GLOBS for p in root.glob(pattern))


def master_notebooks(root: Path) -> list[Path]:
    """The instructors' exercise masters in solutions/ (stored without outputs)."""
    return sorted(p for pattern in MASTER_GLOBS for p in root.glob(pattern))


def exercise_notebooks(root: Path) -> list[Path]:
    """The student notebooks, generated from the masters."""
    return sorted(p for pattern in EXERCISE_GLOBS for p in root.glob(pattern))


def repo_url(root: Path) -> str:
    """``repository.url`` from ``_config.yml``: the one place the URL is written."""
    import yaml

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    try:
        return config["repository"]["url"]
    except (KeyError, TypeError) as exc:
        raise ValueError("_config.yml has no repository.url") from exc


def setup_cell(root: Path):
    cell = nbformat.v4.new_code_cell(setup_cell_source(repo_url(root)))
    cell.metadata["tags"] = list(SETUP_TAGS)
    return cell


def sync_setup_cell(path: Path, cell) -> bool:
    """Make ``cell`` the first cell of the notebook at ``path``; True if the file changed."""
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0] if nb.cells else None
    if first is not None and first.cell_type == "code" and "remove-cell" in first.metadata.get("tags", []) \
            and "Colab setup" in first.source:
        if first.source == cell.source and first.metadata.get("tags") == cell.metadata["tags"]:
            return False
        first.source = cell.source
        first.metadata["tags"] = list(cell.metadata["tags"])
    else:
        nb.cells.insert(0, nbformat.from_dict(dict(cell)))
    nbformat.write(nb, path)
    return True


def execute(path: Path, timeout: int = 900, store: bool = True) -> float:
    """Run a notebook top to bottom in its own folder; returns seconds.

    With ``store`` the new outputs replace the stored ones in the file."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
        record_timing=False,
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    if store:
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = merge_streams(cell.outputs)
        nbformat.write(nb, path)
    return elapsed


def merge_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) pieces, which the kernel may split at any
    point, so that the book shows one block per stream (nbval joins them too)."""
    merged = []
    for out in outputs:
        last = merged[-1] if merged else None
        if out.get("output_type") == "stream" and last is not None and last.get("output_type") == "stream" \
                and last.get("name") == out.get("name"):
            last["text"] = last["text"] + out["text"]
        else:
            merged.append(out)
    return merged
