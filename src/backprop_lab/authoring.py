"""Student notebooks from instructor masters: one source, two outputs.

In a master (``solutions/<lang>/exNN_*.ipynb``) the solution sits between
nbgrader-style markers::

    ### BEGIN SOLUTION
    ...
    ### END SOLUTION

In a code cell the block becomes a stub that raises NotImplementedError; in a
markdown cell (a model answer to an interview question) it becomes a short
prompt. Outputs are cleared. ``make exercises`` writes ``exercises/<lang>/``;
nobody edits those by hand, and a test regenerates them to compare.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from . import jupyter_edition, parity

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = {"en": "# YOUR CODE HERE", "bn": "# তোমার কোড এখানে লেখো"}
ANSWER_PROMPT = {"en": "*Write your answer here.*", "bn": "*তোমার উত্তর এখানে লেখো।*"}
_BLOCK = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*(\n|$)", re.MULTILINE | re.DOTALL)


def solution_blocks(source: str) -> list[str]:
    """The text of every solution block in a cell (markers excluded)."""
    return [m.group(0).split("\n", 1)[1].rsplit(END, 1)[0] for m in _BLOCK.finditer(source)]


def strip_solutions(source: str, cell_type: str, lang: str) -> str:
    if BEGIN not in source:
        return source
    if source.count(BEGIN) != source.count(END):
        raise ValueError(f"unbalanced solution markers in:\n{source[:200]}")

    def stub(match: re.Match) -> str:
        indent, newline = match.group(1), match.group(2)
        if cell_type == "code":
            return f"{indent}{STUB[lang]}\n{indent}raise NotImplementedError(){newline}"
        return f"{ANSWER_PROMPT[lang]}{newline}"

    return _BLOCK.sub(stub, source)


def student_version(master, lang: str):
    """A copy of the master notebook with every solution replaced and outputs cleared."""
    nb = copy.deepcopy(master)
    for cell in nb.cells:
        cell.source = strip_solutions(cell.source, cell.cell_type, lang)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def generate(root: Path) -> dict[Path, str]:
    """Every exercise notebook as it should be on disk: path -> file text.

    A Bengali exercise cell records the hash of the English *exercise* cell, as long
    as its master recorded the current English master cell; otherwise it stays
    stale, so the drift report still points at it.
    """
    files = {}
    masters = {lang: {p.name: nbformat.read(p, as_version=4) for p in sorted((root / "solutions" / lang).glob("*.ipynb"))}
               for lang in ("en", "bn")}
    # Student notebooks open in Jupyter and Colab: no book-only markup (see jupyter_edition).
    students = {lang: {name: jupyter_edition.convert(student_version(nb, lang), root, root / "exercises" / lang / name)
                       for name, nb in masters[lang].items()} for lang in masters}
    for name, bn_student in students["bn"].items():
        en_master, en_student = masters["en"].get(name), students["en"].get(name)
        if en_master is None or len(en_master.cells) != len(bn_student.cells):
            continue  # the parity test reports this pair
        for en_m, en_s, bn_m, bn_s in zip(en_master.cells, en_student.cells, masters["bn"][name].cells, bn_student.cells):
            recorded = bn_m.get("metadata", {}).get("translation", {}).get("en_sha")
            if recorded == parity.cell_hash(en_m):
                bn_s.metadata.setdefault("translation", {})["en_sha"] = parity.cell_hash(en_s)
    for lang, notebooks in students.items():
        for name, nb in notebooks.items():
            files[root / "exercises" / lang / name] = nbformat.writes(nb) + "\n"
    return files


def write(root: Path) -> list[Path]:
    written = []
    for path, text in generate(root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written
