"""Parity and drift between the English and Bengali editions."""

import nbformat
import pytest

from backprop_lab import parity


def test_every_bengali_notebook_is_a_current_faithful_translation(root):
    problems = parity.check_all(root)
    assert not problems, "run `make drift` for this list:\n" + "\n".join(map(str, problems))


def test_there_is_something_to_compare(root):
    assert len(parity.edition_pairs(root)) >= 2


# The rules themselves, on small notebooks made here.

def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) if kind == "code" else nbformat.v4.new_markdown_cell(src) for kind, src in cells]
    return nb


@pytest.fixture
def pair(tmp_path):
    en_dir, bn_dir = tmp_path / "book/en", tmp_path / "book/bn"
    en_dir.mkdir(parents=True)
    bn_dir.mkdir(parents=True)

    def make(en_cells, bn_cells, stamp=True):
        nbformat.write(_nb(*en_cells), en_dir / "x.ipynb")
        nbformat.write(_nb(*bn_cells), bn_dir / "x.ipynb")
        if stamp:
            parity.stamp(en_dir / "x.ipynb", bn_dir / "x.ipynb")
        return tmp_path

    return make


EN = [("markdown", "# Title\n$$a = b^2$$"), ("code", "x = 2  # two\nprint(f'x is {x}', 'done')")]
BN = [("markdown", "# শিরোনাম\n$$a = b^2$$"), ("code", "x = 2  # দুই\nprint(f'x হলো {x}', 'শেষ')")]


def test_translated_comments_and_strings_are_fine(pair):
    assert parity.check_all(pair(EN, BN)) == []


def test_a_changed_number_is_a_different_program(pair):
    bn = [BN[0], ("code", "x = 3\nprint(f'x হলো {x}', 'শেষ')")]
    problems = parity.check_all(pair(EN, bn))
    assert [p.kind for p in problems] == ["structure"] and "as a program" in problems[0].message


def test_display_math_must_be_identical(pair):
    bn = [("markdown", "# শিরোনাম\n$$a = b^3$$"), BN[1]]
    problems = parity.check_all(pair(EN, bn))
    assert len(problems) == 1 and "display math" in problems[0].message


def test_cell_count_and_types_must_match(pair):
    assert "cells" in parity.check_all(pair(EN, BN[:1], stamp=False))[0].message
    problems = parity.check_all(pair(EN, [BN[0], ("markdown", "x = 2")], stamp=False))
    assert any("markdown cell, English has code" in p.message for p in problems)


def test_an_edited_english_cell_makes_its_twin_stale(pair):
    root = pair(EN, BN)
    en_path = root / "book/en/x.ipynb"
    nb = nbformat.read(en_path, as_version=4)
    nb.cells[0].source = "# Title, now longer\n$$a = b^2$$"
    nbformat.write(nb, en_path)
    problems = parity.check_all(root)
    assert [(p.cell, p.kind) for p in problems] == [(0, "stale")]
    parity.stamp(en_path, root / "book/bn/x.ipynb", cells=[0])
    assert parity.check_all(root) == []


def test_unstamped_cells_and_missing_twins_are_reported(pair):
    root = pair(EN, BN, stamp=False)
    assert {p.kind for p in parity.check_all(root)} == {"unstamped"}
    (root / "book/bn/x.ipynb").unlink()
    assert "missing" in parity.check_all(root)[0].message


def test_display_math_forms():
    md = ("Text $x$ inline.\n$$\n a  =  b\n$$\n\\begin{align} c &= d \\end{align}\n```{math}\ne = f\n```\n\n"
          ":::{math}\ng = h\n:::\n\n```python\nprint('$$ not math $$')\n```\n\nand `$$ code $$` too")
    assert parity.display_math(md) == ["a = b", "\\begin{align} c &= d \\end{align}", "e = f", "g = h"]


def test_a_bengali_cell_asking_for_english_output_is_a_difference(pair):
    en = [("code", 'setup("en")\ncheck("ex01.q1", f, lang="en")')]
    assert parity.check_all(pair(en, [("code", 'setup("bn")\ncheck("ex01.q1", f, lang="bn")')])) == []
    for wrong in ('setup("bn")\ncheck("ex01.q1", f, lang="en")', 'setup("en")\ncheck("ex01.q1", f, lang="bn")'):
        problems = parity.check_all(pair(en, [("code", wrong)]))
        assert [(p.cell, p.kind) for p in problems] == [(0, "structure")], wrong
