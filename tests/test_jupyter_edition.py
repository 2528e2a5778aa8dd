"""The Jupyter editions in jupyter/: current, free of book-only markup, linked from the
built book. (tests/test_environments.py opens them in the Binder environment's JupyterLab.)

The conversion itself is tested on a small book of its own (`tiny`), so that the
tests do not change when the glossary or the bibliography grows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup

from backprop_lab import jupyter_edition as je
from backprop_lab import notebooks

# ---- the committed copies ----------------------------------------------------------------


def test_the_committed_copies_are_exactly_what_the_chapters_generate(root):
    expected = je.generate(root)
    chapters = notebooks.book_notebooks(root)
    assert chapters and len(expected) == len(chapters)
    for chapter in chapters:
        assert root / je.jupyter_path(chapter, root) in expected
    missing = [p for p in expected if not p.exists()]
    assert not missing, f"no Jupyter edition {missing[:3]}: run `make jupyter`"
    assert set(je.stored(root)) == set(expected), "jupyter/ holds copies of chapters that are gone: run `make jupyter`"
    for path, text in expected.items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run `make jupyter`"


def test_the_copies_keep_code_outputs_and_metadata_as_stored(root):
    for chapter in notebooks.book_notebooks(root):
        book = json.loads(chapter.read_text(encoding="utf-8"))
        copy = json.loads((root / je.jupyter_path(chapter, root)).read_text(encoding="utf-8"))
        assert {k: v for k, v in copy.items() if k != "cells"} == {k: v for k, v in book.items() if k != "cells"}
        assert len(copy["cells"]) == len(book["cells"]), chapter
        for ours, theirs in zip(copy["cells"], book["cells"]):
            if theirs["cell_type"] == "markdown":
                ours, theirs = dict(ours, source=""), dict(theirs, source="")
            assert ours == theirs, f"{chapter}: cell {theirs.get('id')} differs outside its markdown"


def test_no_book_only_markup_outside_the_book_and_some_inside(root):
    outside = je.stored(root) + notebooks.exercise_notebooks(root)
    assert len(outside) > 20
    for path in outside:
        found = je.book_markup(nbformat.read(path, as_version=4))
        assert not found, f"{path}: {found[:3]}"
    for path in notebooks.book_notebooks(root):
        assert je.count_book_markup(nbformat.read(path, as_version=4)) > 0, f"{path}: the counter sees nothing"


# ---- the conversion, on a tiny book -----------------------------------------------------------

BASE = "https://example.org/course/"
GLOSSARY = BASE + "book/glossary.html"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> je.Book:
    root = tmp_path_factory.mktemp("tiny")
    (root / "book").mkdir()
    (root / "_config.yml").write_text(
        f"bibtex_bibfiles: [book/refs.bib]\nhtml:\n  baseurl: {BASE}\n", encoding="utf-8")
    (root / "book" / "glossary.md").write_text("""# Glossary

```{glossary}
:sorted:

chain rule
চেইন রুল
  The derivative of a composition.

  যৌগিক ফাংশনের অন্তরজ।

Jacobian matrix
জ্যাকোবিয়ান ম্যাট্রিক্স
  All first partial derivatives.

weight : parameter
ওজন
  A parameter that multiplies.
```
""", encoding="utf-8")
    (root / "book" / "refs.bib").write_text(r"""
@article{solo2000, author = {M{\"u}ller, Anna}, title = {Alone}, journal = {J}, year = {2000}, doi = {10.1/solo}}
@article{pair2001, author = {Ng, Bo and Ode, Cy}, title = {Two}, journal = {J}, year = {2001}}
@article{many2002, author = {Zed, Al and Yu, Bo and Xu, Cy}, title = {Many}, journal = {Nature}, year = {2002}}
@misc{web2003, author = {Ab, Di and others}, title = {Web}, year = {2003}, howpublished = {\url{https://example.org/web}}}
@article{twin2004b, author = {Ng, Bo and Ode, Cy}, title = {Zeta}, journal = {J}, year = {2004}}
@article{twin2004a, author = {Ng, Bo and Ode, Cy}, title = {Alpha}, journal = {J}, year = {2004}}
""", encoding="utf-8")
    return je.Book.load(root)


def _md(book, source, notebook="book/en/01_x.ipynb"):
    return je.convert_markdown(source, book, PurePosixPath(notebook))


def test_glossary_ids_are_sphinxs(tiny):
    assert tiny.anchors == {
        "chain rule": "term-chain-rule", "চেইন রুল": "term-chain-rule",
        "Jacobian matrix": "term-Jacobian-matrix", "জ্যাকোবিয়ান ম্যাট্রিক্স": "term-Jacobian-matrix",
        "weight": "term-weight", "ওজন": "term-weight",
    }


def test_a_term_becomes_a_link_to_its_english_entry_in_the_published_glossary(tiny):
    assert _md(tiny, "The {term}`chain rule` multiplies.") == f"The [chain rule]({GLOSSARY}#term-chain-rule) multiplies."
    assert _md(tiny, "{term}`weights <weight>`") == f"[weights]({GLOSSARY}#term-weight)"
    assert _md(tiny, "{term}`ওজনগুলো <ওজন>`, {term}`চেইন রুল`") == \
        f"[ওজনগুলো]({GLOSSARY}#term-weight), [চেইন রুল]({GLOSSARY}#term-chain-rule)"
    # Sphinx finds a term as written, then in lower case; whitespace in a target is one space.
    assert _md(tiny, "{term}`Chain rule`") == f"[Chain rule]({GLOSSARY}#term-chain-rule)"
    assert _md(tiny, "{term}`the\nJacobian <Jacobian\nmatrix>`") == f"[the\nJacobian]({GLOSSARY}#term-Jacobian-matrix)"


def test_a_term_not_in_the_glossary_is_an_error(tiny):
    with pytest.raises(je.BookOnlyMarkup, match="'gradient' is not a term of book/glossary.md"):
        _md(tiny, "the {term}`gradient`")


def test_citations_become_author_year(tiny):
    assert _md(tiny, "Shown {footcite:p}`solo2000`.") == "Shown ([Müller, 2000](https://doi.org/10.1/solo))."
    assert _md(tiny, "{footcite:p}`pair2001`") == "(Ng and Ode, 2001)"
    assert _md(tiny, "{footcite:p}`many2002, web2003`") == \
        "(Zed et al., 2002; [Ab et al., 2003](https://example.org/web))"
    assert _md(tiny, "{footcite:p}`twin2004b,twin2004a`") == "(Ng and Ode, 2004b; Ng and Ode, 2004a)"
    with pytest.raises(je.BookOnlyMarkup, match="'nobody1999' is not in the bibliography"):
        _md(tiny, "{footcite:p}`solo2000,nobody1999`")


def test_the_bibliography_lists_the_works_cited_before_it_by_author(tiny):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("First {footcite:p}`many2002,solo2000`."),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_markdown_cell("Again {footcite:p}`solo2000`."),
        nbformat.v4.new_markdown_cell("## References\n\n```{footbibliography}\n```\n"),
    ]
    out = je.edition(nb, tiny, PurePosixPath("book/en/01_x.ipynb"))
    refs = out.cells[3].source
    assert refs.startswith("## References\n\n- ") and refs.endswith("\n")
    items = [line for line in refs.splitlines() if line.startswith("- ")]
    assert len(items) == 2  # each work once, nothing uncited
    assert "Anna Müller" in items[0] and "Al Zed" in items[1]  # by author, not in order of citation
    assert "*Nature*" in items[1] and "[doi:10\\.1/solo](https://doi.org/10.1/solo)" in items[0]
    assert out.cells[1] == nb.cells[1]
    assert je.count_book_markup(out) == 0 and je.count_book_markup(nb) == 3


@pytest.mark.parametrize("source,what", [
    ("See {ref}`a-label`.", r"role \{ref\}"),
    ("```{note}\nCareful.\n```", r"directive \{note\}"),
    (":::{tip}\nCareful.\n:::", r"directive \{tip\}"),
    ("(my-target)=\n# Heading", "target"),
    ("A footnote[^1].\n\n[^1]: Here.", "footnote"),
    ("```{footbibliography}\n:style: plain\n```", "arguments or options"),
])
def test_other_book_markup_is_an_error_naming_the_notebook_and_cell(tiny, source, what):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_markdown_cell(source)]
    with pytest.raises(je.BookOnlyMarkup, match=rf"^book/bn/02_y.ipynb cell 1: .*{what}"):
        je.edition(nb, tiny, PurePosixPath("book/bn/02_y.ipynb"))
    assert je.count_book_markup(nb) >= 1


def test_math_code_and_plain_braces_are_left_alone(tiny):
    source = (
        "Rows: $\\text{row}_{ij}$, $x_{i}$ and $\\text{a}`$ are math; `{term}` and `` {term}`x` `` are code.\n\n"
        "$$\\frac{\\partial L}{\\partial W_{ij}} = \\delta_{i} a_{j}$$\n\n"
        "\\begin{aligned} a_{ij} &= \\sum_{k} b_{ik} c_{kj} \\end{aligned}\n\n"
        "```python\nprint({term}`x`)  # not markup in a code block\n```\n\n"
        "A set {1, 2} and a dict {a: 1}."
    )
    assert _md(tiny, source) == source


def test_links_to_pages_become_absolute_and_links_to_notebooks_stay(tiny):
    assert _md(tiny, "the [first page](../index.md)") == f"the [first page]({BASE}book/index.html)"
    assert _md(tiny, "[term](../glossary.md#term-weight)") == f"[term]({BASE}book/glossary.html#term-weight)"
    assert _md(tiny, "[bn](../bn/index.html)") == f"[bn]({BASE}book/bn/index.html)"
    assert _md(tiny, "[x]: ../index.md") == f"[x]: {BASE}book/index.html"
    kept = ("[next](02_y.ipynb) [twin](../bn/01_x.ipynb) [ex](../../exercises/en/ex01_chain_rule.ipynb) "
            "[web](https://example.org/a.md) [here](#goals) `[no](link.md)`")
    assert _md(tiny, kept) == kept
    with pytest.raises(je.BookOnlyMarkup, match="would not lead to the same file"):
        _md(tiny, "![graph](graph.png)")


def test_exercises_keep_their_relative_links(tiny):
    source = "[chapter](../../book/en/01_chain_rule.md) and [ex02](ex02_jacobians.ipynb)"
    converted = je.convert_markdown(source, tiny, PurePosixPath("exercises/en/ex01.ipynb"),
                                    PurePosixPath("exercises/en/ex01.ipynb"))
    assert converted == f"[chapter]({BASE}book/en/01_chain_rule.html) and [ex02](ex02_jacobians.ipynb)"


# ---- the built book ---------------------------------------------------------------------------

def _header(page: Path) -> BeautifulSoup:
    """The page above its article, where the launch and download buttons are (parsing all of it is slow)."""
    return BeautifulSoup(page.read_text(encoding="utf-8").split('<article class="bd-article"', 1)[0], "html.parser")


def _chapter_pages(site):
    pages = sorted(p for ed in ("en", "bn") for p in (site / "book" / ed).glob("*.html") if p.name != "index.html")
    assert pages
    return pages


def test_every_glossary_anchor_used_in_jupyter_exists_in_the_built_glossary(root, site):
    baseurl = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))["html"]["baseurl"]
    ids = {t["id"] for t in BeautifulSoup((site / "book/glossary.html").read_text(encoding="utf-8"), "html.parser").find_all(id=True)}
    used = set()
    for path in je.stored(root):
        used |= set(re.findall(re.escape(baseurl + "book/glossary.html#") + r"([\w.-]+)", path.read_text(encoding="utf-8")))
    assert len(used) > 20
    assert not used - ids, f"not in the built glossary: {sorted(used - ids)}"


def test_chapter_pages_launch_and_download_their_jupyter_edition(root, site):
    for page in _chapter_pages(site):
        soup = _header(page)
        rel = page.relative_to(site).with_suffix(".ipynb").as_posix()  # book/en/01_chain_rule.ipynb
        copy = je.jupyter_path(rel).as_posix()
        launch = [a["href"] for a in soup.select(".dropdown-launch-buttons a[href]")]
        assert any("colab.research.google.com" in h for h in launch) and any("mybinder.org" in h for h in launch), page
        for href in launch:
            assert href.endswith(copy) and rel not in href, f"{page.name}: {href}"
        _assert_download(page, root / copy)
    for page in sorted((site / "exercises").glob("*/ex*.html")):
        soup = _header(page)
        colab = [a["href"] for a in soup.select(".dropdown-launch-buttons a[href*='colab']")]
        assert colab and colab[0].endswith(page.relative_to(site).with_suffix(".ipynb").as_posix())
        _assert_download(page, root / page.relative_to(site).with_suffix(".ipynb"))


def _assert_download(page: Path, notebook: Path):
    """The page's one .ipynb download serves `notebook`, named by its edition (the two editions'
    files would overwrite each other in a Downloads folder)."""
    download = [a["href"] for a in _header(page).select(".dropdown-download-buttons a[href$='.ipynb']")]
    assert len(download) == 1, page
    edition = page.parent.name
    assert download[0].endswith(f"/{page.stem}-{edition}.ipynb"), download[0]
    served = (page.parent / download[0]).resolve()
    assert served.read_bytes() == notebook.read_bytes(), f"{page.name}: the .ipynb download is not {notebook}"
