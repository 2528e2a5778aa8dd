"""What the Jupyter editions need from the book: the glossary's entries and their ids as
Sphinx computes them, the bibliography (author-year labels, links, formatted entries), the
published address and the chapters' titles."""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .myst_markup import MYST_EXTENSIONS, BookOnlyMarkup

GLOSSARY = "book/glossary.md"
_MARKUP_CHARS = re.compile(r"[`*_\[\]{}<>\\|]")


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
