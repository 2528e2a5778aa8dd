"""Jupyter editions of the chapters: the book's notebooks, readable outside the book.

Why this exists. A chapter, ``book/<lang>/NN_topic.ipynb``, is written for the book:
``{term}`` roles link to the glossary, ``{footcite:p}`` roles and a
``{footbibliography}`` fence cite the primary sources, and links to ``.md`` pages
are resolved by Sphinx. Jupyter, JupyterLab and Colab, where the book's launch
buttons and its ``.ipynb`` download take a learner, understand none of that and
show it raw. So, as QuantEcon does for its lectures, every chapter gets a
generated copy, ``jupyter/<lang>/NN_topic.ipynb``, with the same code cells,
outputs and metadata, and markdown that any Jupyter front-end renders:

- ``{term}`text``` and ``{term}`text <target>``` become a link to the term's entry
  in the *published* glossary (``html.baseurl`` in ``_config.yml``). Sphinx gives
  Bengali terms serial ids (``term-0``), so every term links to the id of its
  entry's English term, computed as Sphinx computes it;
- ``{footcite:p}`a,b``` becomes an author-year citation, "(Rumelhart et al., 1986;
  Baydin et al., 2018)", each work linked to its DOI or URL when it has one;
- the ``{footbibliography}`` fence becomes the list of the works cited since the
  previous one, formatted by pybtex (the book's style, markdown backend) and
  sorted by author, the order a reader of an author-year citation looks in;
- relative links to ``.md``/``.html`` pages become absolute links to the
  published book; other relative links are kept when they name the same file
  from ``jupyter/<lang>/`` as from ``book/<lang>/`` (``jupyter`` sits at the same
  depth as ``book``), or a chapter's own Jupyter edition.

Math is left alone (Jupyter renders it). Any other book-only markup (another
role or directive, a target, a comment, a substitution, a definition list, a
footnote, ...) is an error naming the notebook and cell, so none can slip
through. What counts as markup is decided by MyST's own parser
(:func:`book_markup`), with the book's extensions: the conversion itself works
on the text, and the parser checks it both ways, before (it must have converted
exactly the roles and directives MyST sees) and after (nothing may be left).

``make jupyter`` (``backprop-lab jupyter``) writes the copies; ``make refresh``
rewrites them after re-executing; a test regenerates them and fails on any
difference. The input is only the chapters, ``book/glossary.md``, the
bibliography and ``_config.yml``.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import nbformat

from .book_index import GLOSSARY, Book  # noqa: F401 (part of this module's interface)
from .myst_markup import (  # noqa: F401 (part of this module's interface)
    MYST_EXTENSIONS,
    BookOnlyMarkup,
    book_markup,
    count_book_markup,
    is_page_link,
    markdown_markup,
)
from .notebooks import BOOK_GLOBS, book_notebooks

OUT = "jupyter"
CONVERTED_ROLES = ("term", "footcite:p")
CONVERTED_DIRECTIVES = ("footbibliography",)


# ---- converting markdown ------------------------------------------------------------------

_FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
# A role, a code span, math (both left alone), an inline link's target, a reference definition's target.
_INLINE = re.compile(
    r"(?P<role>\{(?P<name>[A-Za-z][\w:+.-]*)\}(?P<rt>`+)(?!`)(?P<body>.+?)(?<!`)(?P=rt)(?!`))"
    r"|(?P<code>(?<!`)(?P<ct>`+)(?!`).+?(?<!`)(?P=ct)(?!`))"
    r"|(?P<math>\$\$.+?\$\$|(?<![\\$])\$(?![\s$])(?:\\.|[^$\\])*?(?<![\s\\])\$)"
    r"|(?P<link>\]\(\s*)(?P<target><[^>\n]*>|[^\s)]+)"
    r"|(?P<refdef>^[ ]{0,3}\[(?!\^)[^\]\n]+\]:[ \t]*)(?P<reftarget><[^>\n]*>|\S+)",  # not a footnote [^1]:
    re.DOTALL | re.MULTILINE,
)


def jupyter_path(path: Path | PurePosixPath, root: Path | None = None) -> PurePosixPath:
    """``book/en/X.ipynb`` -> ``jupyter/en/X.ipynb`` (paths relative to the root)."""
    rel = PurePosixPath(Path(path).relative_to(root).as_posix() if root else PurePosixPath(path))
    if len(rel.parts) != 3 or rel.parts[0] != "book":
        raise ValueError(f"{path} is not a chapter (book/<lang>/NAME.ipynb)")
    return PurePosixPath(OUT, *rel.parts[1:])


def _resolve(folder: PurePosixPath, target: str) -> PurePosixPath | None:
    parts = []
    for part in (folder / target).parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part != ".":
            parts.append(part)
    return PurePosixPath(*parts)


class _Converter:
    def __init__(self, book: Book, source: PurePosixPath, dest: PurePosixPath):
        self.book, self.source, self.dest = book, source, dest
        self.cited: list[str] = []
        self.converted: Counter = Counter()

    def link(self, target: str) -> str:
        bracketed = target.startswith("<")
        bare = target[1:-1] if bracketed else target
        parts = urlsplit(bare)
        if parts.scheme or parts.netloc or bare.startswith("#") or not parts.path:
            return target
        from_source = _resolve(self.source.parent, parts.path)
        if from_source is None:
            raise BookOnlyMarkup(f"the link {bare!r} leaves the repository")
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        if is_page_link(bare):
            url = self.book.page_url(from_source) + fragment
        else:
            from_dest = _resolve(self.dest.parent, parts.path)
            chapter = from_source.parts[:1] == ("book",) and len(from_source.parts) == 3 and from_source.suffix == ".ipynb"
            if from_dest != from_source and not (chapter and from_dest == jupyter_path(from_source)):
                raise BookOnlyMarkup(f"the link {bare!r} of {self.source} would not lead to the same file from {self.dest}")
            return target
        return f"<{url}>" if bracketed else url

    def inline(self, text: str) -> str:
        def replace(m: re.Match) -> str:
            if m.group("role"):
                name, body = m.group("name"), m.group("body")
                self.converted["role", name] += 1
                if name == "term":
                    return self.book.glossary_link(body)
                if name == "footcite:p":
                    label, keys = self.book.citation(body)
                    self.cited += keys
                    return label
                raise BookOnlyMarkup(f"the role {{{name}}} has no Jupyter form (known: {', '.join(CONVERTED_ROLES)})")
            if m.group("link"):
                return m.group("link") + self.link(m.group("target"))
            if m.group("refdef"):
                return m.group("refdef") + self.link(m.group("reftarget"))
            return m.group(0)  # code span or math: literal

        return _INLINE.sub(replace, text)

    def markdown(self, source: str) -> str:
        """Convert one markdown text: fenced blocks as a whole, the text between them inline."""
        out, text, lines, i = [], [], source.split("\n"), 0
        while i < len(lines):
            opening = _FENCE.match(lines[i])
            fence, info = (opening["fence"], opening["info"].strip()) if opening else ("", "")
            if not opening or (fence[0] == ":" and not info.startswith("{")) or (fence[0] == "`" and "`" in info):
                text.append(lines[i])
                i += 1
                continue
            end = i + 1
            closing = re.compile(rf"[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*")
            while end < len(lines) and not closing.fullmatch(lines[end]):
                end += 1
            if text:
                out.append(self.inline("\n".join(text)))
                text = []
            block = lines[i:end + 1]
            if info.startswith("{"):
                block = self.directive(info, block)
            out += block
            i = end + 1
        if text:
            out.append(self.inline("\n".join(text)))
        return "\n".join(out)

    def directive(self, info: str, block: list[str]) -> list[str]:
        name = info[1:].split("}", 1)[0]
        self.converted["directive", name] += 1
        if name not in CONVERTED_DIRECTIVES:
            raise BookOnlyMarkup(f"the directive {{{name}}} has no Jupyter form (known: {', '.join(CONVERTED_DIRECTIVES)})")
        if info != "{footbibliography}" or any(line.strip() for line in block[1:-1]):
            raise BookOnlyMarkup("a {footbibliography} with arguments or options has no Jupyter form")
        cited, self.cited = self.cited, []
        return [self.book.bibliography(cited)] if cited else []

    def cell(self, source: str) -> str:
        """Convert one markdown cell, checked against MyST's reading of it both ways."""
        self.converted = Counter()
        converted = self.markdown(source)
        seen = Counter((kind, name) for kind, name, _ in markdown_markup(source, self.book.extensions)
                       if kind in ("role", "directive"))
        if seen != self.converted:
            raise BookOnlyMarkup(f"MyST reads {dict(seen)} here but the conversion found {dict(self.converted)}: "
                                 "write the markup in a simpler way")
        left = markdown_markup(converted, self.book.extensions)
        if left:
            kind, name, line = left[0]
            raise BookOnlyMarkup(f"line {line}: {kind} {name!r} has no Jupyter form")
        return converted


def convert_markdown(source: str, book: Book, notebook: PurePosixPath, dest: PurePosixPath | None = None) -> str:
    """The Jupyter form of one markdown cell of ``notebook`` (its path relative to the
    root), to be stored at ``dest`` (default: its Jupyter edition)."""
    return _Converter(book, PurePosixPath(notebook), PurePosixPath(dest or jupyter_path(notebook))).cell(source)


def edition(nb, book: Book, notebook: PurePosixPath, dest: PurePosixPath | None = None):
    """A copy of ``nb`` whose markdown cells are converted; code cells, outputs and metadata unchanged.

    One converter goes through the cells in order, so that a {footbibliography}
    lists the works cited in the cells before it."""
    out = copy.deepcopy(nb)
    converter = _Converter(book, PurePosixPath(notebook), PurePosixPath(dest or jupyter_path(notebook)))
    for index, cell in enumerate(out.cells):
        if cell.cell_type == "markdown":
            try:
                cell.source = converter.cell(cell.source)
            except BookOnlyMarkup as exc:
                raise BookOnlyMarkup(f"{notebook} cell {index}: {exc}") from None
    return out


def convert(nb, root: Path, path: Path):
    """The Jupyter form of a notebook that will be stored at ``path`` (e.g. an exercise)."""
    rel = PurePosixPath(Path(path).relative_to(root).as_posix())
    return edition(nb, Book.load(root), rel, rel)


# ---- the files ------------------------------------------------------------------------

def generate(root: Path) -> dict[Path, str]:
    """Every Jupyter edition as it should be on disk: path -> file text."""
    book = Book.load(root)
    files = {}
    for path in book_notebooks(root):
        rel = PurePosixPath(path.relative_to(root).as_posix())
        nb = edition(nbformat.read(path, as_version=4), book, rel)
        files[root / jupyter_path(rel)] = _text(nb)
    return files


def _text(nb) -> str:
    """The file text ``nbformat.write`` would write."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def stored(root: Path) -> list[Path]:
    """The Jupyter editions on disk."""
    return sorted(p for pattern in BOOK_GLOBS for p in root.glob(pattern.replace("book/", f"{OUT}/", 1)))


def write(root: Path) -> tuple[list[Path], list[Path]]:
    """Write every Jupyter edition that changed and remove those whose chapter is gone."""
    files = generate(root)
    written, removed = [], []
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    for path in stored(root):
        if path not in files:
            path.unlink()
            removed.append(path)
    return written, removed
