"""`backprop-lab drift`, `stamp` and `setup-cells` as a translator or maintainer uses them."""

import nbformat

from backprop_lab import notebooks
from backprop_lab.cli import main


def _write(path, *sources):
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(s) for s in sources]
    nbformat.write(nb, path)


def test_drift_reports_stale_cells_until_they_are_stamped(tmp_path, capsys):
    en, bn = tmp_path / "book/en/a.ipynb", tmp_path / "book/bn/a.ipynb"
    _write(en, "# One", "Two")
    _write(bn, "# এক", "দুই")
    assert main(["--root", str(tmp_path), "stamp", str(bn), "--all"]) == 0
    assert main(["--root", str(tmp_path), "drift"]) == 0
    assert "current" in capsys.readouterr().out

    _write(en, "# One", "Two, revised")
    assert main(["--root", str(tmp_path), "drift"]) == 1
    out = capsys.readouterr().out
    assert "a.ipynb cell 1: stale" in out and "Two, revised" in out

    assert main(["--root", str(tmp_path), "stamp", str(bn), "--cells", "1"]) == 0
    assert main(["--root", str(tmp_path), "drift"]) == 0


def test_stamp_refuses_unclear_requests(tmp_path, capsys):
    en, bn = tmp_path / "book/en/a.ipynb", tmp_path / "book/bn/a.ipynb"
    _write(en, "# One")
    _write(bn, "# এক")
    assert main(["--root", str(tmp_path), "stamp", str(en), "--all"]) == 2  # not a Bengali notebook
    assert main(["--root", str(tmp_path), "stamp", str(bn)]) == 2  # which cells?
    assert main(["--root", str(tmp_path), "stamp", str(bn), "--cells", "5"]) == 2  # no such cell
    assert "no cell 5" in capsys.readouterr().err


def test_setup_cells_inserts_then_updates_the_first_cell(tmp_path):
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://example.org/a/b\n", encoding="utf-8")
    path = tmp_path / "book/en/a.ipynb"
    _write(path, "# One")
    assert main(["--root", str(tmp_path), "setup-cells"]) == 0
    cells = nbformat.read(path, as_version=4).cells
    assert len(cells) == 2 and "git+https://example.org/a/b" in cells[0].source

    (tmp_path / "_config.yml").write_text("repository:\n  url: https://example.org/c/d\n", encoding="utf-8")
    main(["--root", str(tmp_path), "setup-cells"])
    cells = nbformat.read(path, as_version=4).cells
    assert len(cells) == 2 and "git+https://example.org/c/d" in cells[0].source
    assert notebooks.repo_url(tmp_path) == "https://example.org/c/d"
