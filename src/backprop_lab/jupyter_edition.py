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
import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import nbformat

from .notebooks import BOOK_GLOBS, book_notebooks

GLOSSARY = "book/glossary.md"
OUT = "jupyter"
# The book's MyST extensions plus the other block syntaxes MyST may be told to
# parse; the union with _config.yml's list is what the parser sees.
MYST_EXTENSIONS = frozenset({"amsmath", "colon_fence", "deflist", "dollarmath", "fieldlist", "substitution"})
CONVERTED_ROLES = ("term", "footcite:p")
CONVERTED_DIRECTIVES = ("footbibliography",)
_MARKUP_CHARS = re.compile(r"[`*_\[\]{}<>\\|]")


class BookOnlyMarkup(ValueError):
    """Markup that only the book understands, which the conversion cannot turn into plain markdown."""


# ---- finding book-only markup with MyST's own parser ------------------------------------

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


def _is_page_link(href: str) -> bool:
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
            elif token.type == "link_open" and _is_page_link(token.attrs.get("href", "")):
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


# ---- what the conversion needs from the book ------------------------------------------

def _glossary_ids(text: str) -> dict[str, str]:
    """Each term of the ``{glossary}`` in ``text`` -> the id of its entry's first term.

    Follows Sphinx 7.4: the Glossary directive groups consecutive unindented lines
    into one entry, ``make_glossary_term`` gives each term the id
    ``make_id(env, document, "term", text)``, i.e. ``_make_id("term-" + text)``, or
    the next free ``term-N`` when that leaves nothing but "term" (as for a Bengali
    term, which has no ASCII letters)."""
    from sphinx.util.nodes import _make_id

    fence = re.search(r"^(`{3,}|~{3,}|:{3,})\{glossary\}[^\n]*\n(.*?)^\1[ \t]*$", text, re.MULTILINE | re.DOTALL)
    if fence is None:
        raise BookOnlyMarkup(f"{GLOSSARY} has no ```{{glossary}} fence")
    lines = fence.group(2).splitlines()
    while lines and re.match(r"^:[\w-]+:", lines[0]):  # directive options such as :sorted:
        lines.pop(0)
    entries: list[list[str]] = []
    in_definition, in_comment = True, False
    for line in lines:
        if not line.strip():
            continue
        if not line[0].isspace():
            in_comment = line.startswith(".. ")
            if in_comment:
                continue
            term = re.split(" +: +", line)[0]  # "term : classifier"
            if _MARKUP_CHARS.search(term):
                raise BookOnlyMarkup(f"{GLOSSARY}: the term {term!r} holds markup; its id cannot be predicted")
            if in_definition:
                entries.append([term])
                in_definition = False
            elif entries:
                entries[-1].append(term)
        elif not in_comment:
            in_definition = True

    ids, serial, anchors = set(), 0, {}
    for entry in entries:
        entry_ids = []
        for term in entry:
            node_id = _make_id(f"term-{term}")
            if node_id == "term":
                node_id = None
            while node_id is None or node_id in ids:
                node_id, serial = f"term-{serial}", serial + 1
            ids.add(node_id)
            entry_ids.append(node_id)
        for term in entry:
            anchors[term] = entry_ids[0]
    return anchors


def _person_surname(person) -> str:
    from pybtex.backends.plaintext import Backend
    from pybtex.richtext import Text

    # An explicit backend: render_as("text") looks the plugin up among all entry points, every time.
    return Text.from_latex(" ".join(person.prelast_names + person.last_names)).render(Backend())


def _author_year(entry) -> str:
    people = entry.persons.get("author") or entry.persons.get("editor")
    if not people:
        raise BookOnlyMarkup(f"references: {entry.key} has neither author nor editor, so no author-year citation")
    names = [_person_surname(p) for p in people]
    others = names[-1] == "others"  # "A and others"
    names = names[:-1] if others else names
    if len(names) >= 3 or others:
        who = f"{names[0]} et al."
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = names[0]
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


def _plain_urls(bib) -> None:
    """``howpublished = {\\url{X}}`` -> ``url = {X}`` (pybtex would print "\\url X")."""
    for entry in bib.entries.values():
        for name, value in list(entry.fields.items()):
            whole = re.fullmatch(r"\s*\\url\{([^{}]*)\}\s*", value)
            if whole and name.lower() != "url" and "url" not in entry.fields:
                entry.fields["url"] = whole.group(1)
                del entry.fields[name]
            else:
                entry.fields[name] = re.sub(r"\\url\{([^{}]*)\}", r"\1", value)


def _escape(text: str) -> str:
    """Text safe inside a markdown link's brackets."""
    return re.sub(r"([\\`*_\[\]<>])", r"\\\1", text)


@dataclass
class Book:
    """What the conversion reads from the repository: the published address, the
    glossary's anchors and the bibliography."""

    root: Path
    baseurl: str
    anchors: dict[str, str]
    bib: object
    style: str = "alpha"
    extensions: frozenset[str] = MYST_EXTENSIONS
    labels: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path) -> Book:
        import yaml
        from pybtex.database import BibliographyData, parse_file

        root = Path(root)
        config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
        baseurl = (config.get("html") or {}).get("baseurl")
        if not baseurl:
            raise BookOnlyMarkup("_config.yml has no html.baseurl: the Jupyter editions link to the published book")
        bib = BibliographyData()
        for name in config.get("bibtex_bibfiles") or []:
            for key, entry in parse_file(str(root / name)).entries.items():
                bib.add_entry(key, entry)
        _plain_urls(bib)
        sphinx_config = (config.get("sphinx") or {}).get("config") or {}
        extensions = MYST_EXTENSIONS | set((config.get("parse") or {}).get("myst_enable_extensions") or [])
        book = cls(root, baseurl.rstrip("/") + "/", _glossary_ids((root / GLOSSARY).read_text(encoding="utf-8")),
                   bib, sphinx_config.get("bibtex_default_style", "alpha"), frozenset(extensions))
        book.labels = book._labels()
        return book

    def _labels(self) -> dict[str, str]:
        """key -> "Surname et al., 1986", with a, b, ... where two works would read alike."""
        labels = {key: _author_year(entry) for key, entry in self.bib.entries.items()}
        alike = Counter(labels.values())
        for label in (label for label, n in alike.items() if n > 1):
            keys = sorted((k for k, v in labels.items() if v == label), key=lambda k: self.bib.entries[k].fields.get("title", "").lower())
            for letter, key in zip("abcdefghijklmnopqrstuvwxyz", keys):
                labels[key] = label + letter
        return labels

    # -- the pieces of converted markdown --

    def glossary_link(self, content: str) -> str:
        from sphinx.util.nodes import split_explicit_title

        _, text, target = split_explicit_title(content)
        target = " ".join(target.split())
        anchor = self.anchors.get(target) or self._lowercase_anchors.get(target.lower())
        if anchor is None:
            raise BookOnlyMarkup(f"{{term}}`{content}`: {target!r} is not a term of {GLOSSARY}")
        return f"[{_escape(text)}]({self.page_url(GLOSSARY)}#{anchor})"

    @functools.cached_property
    def _lowercase_anchors(self) -> dict[str, str]:
        """Sphinx looks a term up as written, then in lower case."""
        return {term.lower(): anchor for term, anchor in self.anchors.items()}

    def citation(self, content: str) -> tuple[str, list[str]]:
        keys = [key.strip() for key in content.split(",") if key.strip()]
        parts = []
        for key in keys:
            if key not in self.bib.entries:
                raise BookOnlyMarkup(f"{{footcite:p}}`{content}`: {key!r} is not in the bibliography")
            label, url = _escape(self.labels[key]), self.work_url(key)
            parts.append(f"[{label}]({url})" if url else label)
        return f"({'; '.join(parts)})", keys

    def work_url(self, key: str) -> str | None:
        fields = self.bib.entries[key].fields
        if fields.get("doi"):
            return "https://doi.org/" + fields["doi"]
        return fields.get("url")

    def bibliography(self, keys: list[str]) -> str:
        """The works ``keys``, formatted by pybtex in the book's style, as a markdown list sorted by author."""
        from pybtex.backends.markdown import Backend

        backend = Backend()
        entries = self._formatter.format_entries([self.bib.entries[key] for key in dict.fromkeys(keys)])
        return "\n".join("- " + " ".join(entry.text.render(backend).split()) for entry in entries)

    @functools.cached_property
    def _formatter(self):
        from pybtex.plugin import find_plugin

        return find_plugin("pybtex.style.formatting", self.style)()

    def page_url(self, path: str | PurePosixPath) -> str:
        """The published address of a page of the book, from its source path relative to the root."""
        return self.baseurl + str(PurePosixPath(path).with_suffix(".html"))


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
        if _is_page_link(bare):
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
