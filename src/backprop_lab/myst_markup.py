"""Book-only markup, found with MyST's own parser and the book's extensions: the roles,
directives, targets, comments and other syntax that only the built book understands
(what the Jupyter editions must convert, or refuse)."""

from __future__ import annotations

import functools
from pathlib import PurePosixPath
from urllib.parse import urlsplit

# The book's MyST extensions plus the other block syntaxes MyST may be told to
# parse; the union with _config.yml's list is what the parser sees.
MYST_EXTENSIONS = frozenset({"amsmath", "colon_fence", "deflist", "dollarmath", "fieldlist", "substitution"})


class BookOnlyMarkup(ValueError):
    """Markup that only the book understands, which the conversion cannot turn into plain markdown."""


@functools.lru_cache(maxsize=4)
def _parser(extensions: frozenset[str]):
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    return create_md_parser(MdParserConfig(enable_extensions=set(extensions)), RendererHTML)


_BLOCK_KINDS = {
    "myst_target": "target",
    "myst_line_comment": "comment",
    "myst_block_break": "block break",
    "substitution_block": "substitution",
    "substitution_inline": "substitution",
    "dl_open": "definition list",
    "field_list_open": "field list",
    "footnote_ref": "footnote",
    "footnote_reference_open": "footnote",
}


def is_page_link(href: str) -> bool:
    """A relative link to a page of the book (``.md`` source or built ``.html``)."""
    parts = urlsplit(href)
    return not parts.scheme and not parts.netloc and PurePosixPath(parts.path).suffix in (".md", ".html")


def markdown_markup(source: str, extensions: frozenset[str] = MYST_EXTENSIONS) -> list[tuple[str, str, int | None]]:
    """The book-only markup in one markdown text: ``(kind, name, line)`` triples, as MyST parses it."""
    found = []

    def walk(tokens, line):
        for token in tokens:
            here = token.map[0] + 1 if token.map else line
            info = token.info.strip()
            if token.type == "myst_role":
                found.append(("role", token.meta["name"], here))
            elif token.type in ("fence", "colon_fence") and info.startswith("{"):
                found.append(("directive", info[1:].split("}", 1)[0], here))
            elif token.type in _BLOCK_KINDS:
                found.append((_BLOCK_KINDS[token.type], token.content.strip()[:40], here))
            elif token.type == "link_open" and is_page_link(token.attrs.get("href", "")):
                found.append(("page link", token.attrs["href"], here))
            if token.children:
                walk(token.children, here)

    walk(_parser(frozenset(extensions)).parse(source), None)
    return found


def book_markup(nb, extensions: frozenset[str] = MYST_EXTENSIONS) -> list[str]:
    """Every piece of book-only markup in a notebook's markdown cells, described."""
    return [
        f"cell {index}" + (f" line {line}" if line else "") + f": {kind} {name}"
        for index, cell in enumerate(nb.cells) if cell.cell_type == "markdown"
        for kind, name, line in markdown_markup(cell.source, extensions)
    ]


def count_book_markup(nb, extensions: frozenset[str] = MYST_EXTENSIONS) -> int:
    """How much book-only markup a notebook's markdown holds (0 for a Jupyter edition)."""
    return len(book_markup(nb, extensions))
