"""Keep the Bengali edition a cell-for-cell translation of the English one.

Rules (checked by tests/test_parity.py, reported for translators by ``backprop-lab drift``):

* the same number of cells, of the same types, with the same tags;
* code cells equal as programs: the same AST once comments and string literals
  are set aside (a translated comment or message is fine, a changed number is not);
* the same display math, character for character;
* every Bengali cell records, in ``metadata.translation.en_sha``, the hash of the
  English cell it translates. When the English cell changes, the hash no longer
  matches and the Bengali cell is *stale* until a translator updates it and runs
  ``backprop-lab stamp``.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from pathlib import Path

import nbformat
from markdown_it import MarkdownIt
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.colon_fence import colon_fence_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin

from . import i18n

# Pairs of folders whose notebooks are translations of each other (English first).
EDITION_DIRS = [
    ("book/en", "book/bn"),
    ("solutions/en", "solutions/bn"),
    ("exercises/en", "exercises/bn"),
]

# MyST's own parser settings for math: $$...$$, \begin{env}...\end{env}, ```{math} and
# :::{math} blocks. A parser, not a pattern, so that "$$" inside code is not math.
_MARKDOWN = (MarkdownIt("commonmark").use(dollarmath_plugin, double_inline=True)
             .use(amsmath_plugin).use(colon_fence_plugin))
_MATH_TOKENS = {"math_block", "math_block_label", "math_inline_double", "amsmath"}


def cell_hash(cell) -> str:
    """A short, stable hash of an English cell: its type and its source."""
    text = cell["cell_type"] + "\n" + cell["source"].strip()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class _BlankStrings(ast.NodeTransformer):
    """Replace every string literal (f-strings included) by an empty one, except where a
    string names the edition's language (``lang="bn"``, ``setup("bn")``, ``LANG = "bn"``):
    there the edition's own language becomes one marker, so that a Bengali cell asking
    for English output differs from its English twin."""

    def __init__(self, lang: str | None):
        self.lang = lang

    def _language(self, node):
        if self.lang and isinstance(node, ast.Constant) and node.value in i18n.LANGS:
            value = "<edition>" if node.value == self.lang else node.value
            return ast.copy_location(ast.Constant(value=value), node)
        return self.visit(node)

    def visit_Call(self, node):
        node.func = self.visit(node.func)
        named_setup = isinstance(node.func, (ast.Name, ast.Attribute)) and \
            getattr(node.func, "id", getattr(node.func, "attr", None)) == "setup"
        node.args = [self._language(a) if named_setup and i == 0 else self.visit(a) for i, a in enumerate(node.args)]
        for kw in node.keywords:
            kw.value = self._language(kw.value) if kw.arg == "lang" else self.visit(kw.value)
        return node

    def visit_Assign(self, node):
        if all(isinstance(t, ast.Name) and t.id.lower() == "lang" for t in node.targets):
            node.value = self._language(node.value)
            return node
        return self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, (str, bytes)):
            return ast.copy_location(ast.Constant(value=""), node)
        return node

    def visit_JoinedStr(self, node):
        return ast.copy_location(ast.Constant(value=""), node)


def program_signature(source: str, lang: str | None = None) -> str:
    """The code's AST with comments and string literals removed, as text; with ``lang``,
    the strings that name the edition's language are kept (see :class:`_BlankStrings`)."""
    tree = ast.parse(source)
    return ast.dump(_BlankStrings(lang).visit(tree), include_attributes=False)


def display_math(markdown: str) -> list[str]:
    """Every display equation in a markdown cell, whitespace-normalised."""
    found = []
    tokens = _MARKDOWN.parse(markdown)
    for token in (t for block in tokens for t in [block, *(block.children or [])]):
        if token.type in _MATH_TOKENS or (token.type in ("fence", "colon_fence") and token.info.strip() == "{math}"):
            found.append(" ".join(token.content.split()))
    return found


def _tags(cell) -> list[str]:
    return sorted(cell.get("metadata", {}).get("tags", []))


@dataclass(frozen=True)
class Problem:
    path: str  # the Bengali notebook
    cell: int | None  # index, or None for the whole notebook
    kind: str  # "structure", "stale", "unstamped"
    message: str

    def __str__(self) -> str:
        where = f"{self.path}" + (f" cell {self.cell}" if self.cell is not None else "")
        return f"{where}: {self.kind}: {self.message}"


def _first_line(cell) -> str:
    lines = cell["source"].strip().splitlines()
    return lines[0][:70] if lines else "(empty)"


def check_pair(en_path: Path, bn_path: Path) -> list[Problem]:
    """Every way in which ``bn_path`` is not a faithful, current translation of ``en_path``."""
    en = nbformat.read(en_path, as_version=4)
    bn = nbformat.read(bn_path, as_version=4)
    name = str(bn_path)
    if len(en.cells) != len(bn.cells):
        return [Problem(name, None, "structure", f"{len(bn.cells)} cells, English has {len(en.cells)}")]
    problems = []
    for i, (e, b) in enumerate(zip(en.cells, bn.cells)):
        if e.cell_type != b.cell_type:
            problems.append(Problem(name, i, "structure", f"{b.cell_type} cell, English has {e.cell_type}"))
            continue
        if _tags(e) != _tags(b):
            problems.append(Problem(name, i, "structure", f"tags {_tags(b)}, English has {_tags(e)}"))
        if e.cell_type == "code":
            try:
                same = program_signature(e.source, "en") == program_signature(b.source, "bn")
            except SyntaxError as exc:
                problems.append(Problem(name, i, "structure", f"does not parse: {exc}"))
                continue
            if not same:
                problems.append(Problem(name, i, "structure", "code differs from the English cell as a program"))
        elif e.cell_type == "markdown" and display_math(e.source) != display_math(b.source):
            problems.append(Problem(name, i, "structure", "display math differs from the English cell"))
        recorded = b.get("metadata", {}).get("translation", {}).get("en_sha")
        if recorded is None:
            problems.append(Problem(name, i, "unstamped", f"records no English hash ({_first_line(e)})"))
        elif recorded != cell_hash(e):
            problems.append(Problem(name, i, "stale", f"English cell changed since translation ({_first_line(e)})"))
    return problems


def edition_pairs(root: Path) -> list[tuple[Path, Path]]:
    """(English, Bengali) notebook pairs under ``root``; a missing twin is paired with its expected path."""
    pairs = []
    for en_dir, bn_dir in EDITION_DIRS:
        en_files = {p.name for p in (root / en_dir).glob("*.ipynb")}
        bn_files = {p.name for p in (root / bn_dir).glob("*.ipynb")}
        for fname in sorted(en_files | bn_files):
            pairs.append((root / en_dir / fname, root / bn_dir / fname))
    return pairs


def check_all(root: Path) -> list[Problem]:
    problems = []
    for en_path, bn_path in edition_pairs(root):
        if not en_path.exists() or not bn_path.exists():
            missing = en_path if not en_path.exists() else bn_path
            problems.append(Problem(str(missing), None, "structure", "missing: every notebook needs a twin in the other edition"))
            continue
        problems.extend(check_pair(en_path, bn_path))
    return problems


def stamp(en_path: Path, bn_path: Path, cells: list[int] | None = None) -> list[int]:
    """Record the current English hashes in the Bengali notebook; returns the cells stamped.

    Run it after translating (or re-translating) cells. With ``cells=None`` every
    cell is stamped: only do that when the whole notebook was checked.
    """
    en = nbformat.read(en_path, as_version=4)
    bn = nbformat.read(bn_path, as_version=4)
    if len(en.cells) != len(bn.cells):
        raise ValueError(f"{bn_path} has {len(bn.cells)} cells, {en_path} has {len(en.cells)}: fix the structure first")
    chosen = range(len(en.cells)) if cells is None else cells
    for i in chosen:
        if not 0 <= i < len(en.cells):
            raise ValueError(f"no cell {i} in {bn_path} (it has {len(en.cells)})")
        bn.cells[i].metadata.setdefault("translation", {})["en_sha"] = cell_hash(en.cells[i])
    nbformat.write(bn, bn_path)
    return list(chosen)
