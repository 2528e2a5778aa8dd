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

from . import i18n, jupyter_edition, parity

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
WORDS = i18n.table("student notebooks", {
    "stub": {"en": "# YOUR CODE HERE", "bn": "# তোমার কোড এখানে লেখো"},
    "answer_prompt": {"en": "*Write your answer here.*", "bn": "*তোমার উত্তর এখানে লেখো।*"},
})
_BLOCK = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*(\n|$)", re.MULTILINE | re.DOTALL)


def solution_blocks(source: str) -> list[str]:
    """The text of every solution block in a cell (markers excluded)."""
    return [m.group(0).split("\n", 1)[1].rsplit(END, 1)[0] for m in _BLOCK.finditer(source)]


def check_markers(source: str) -> None:
    """Raise ValueError unless every BEGIN has its END, on lines of their own, never nested
    (the regular expression below would otherwise leave solution lines in the output)."""
    depth, begin_line = 0, None
    for n, line in enumerate(source.split("\n"), 1):
        stripped = line.strip()
        begin, end = stripped.startswith(BEGIN), stripped.startswith(END)
        if not (begin or end) and (BEGIN in line or END in line):
            raise ValueError(f"line {n}: a solution marker must be on a line of its own")
        if begin:
            if depth:
                raise ValueError(f"line {n}: nested solution markers (a BEGIN inside the block opened on line {begin_line})")
            depth, begin_line = 1, n
        elif end:
            if not depth:
                raise ValueError(f"line {n}: unbalanced solution markers (an END without a BEGIN)")
            depth = 0
    if depth:
        raise ValueError(f"line {begin_line}: unbalanced solution markers (a BEGIN without an END)")


def strip_solutions(source: str, cell_type: str, lang: str) -> str:
    if BEGIN not in source and END not in source:
        return source
    check_markers(source)

    def stub(match: re.Match) -> str:
        indent, newline = match.group(1), match.group(2)
        if cell_type == "code":
            return f"{indent}{i18n.say(WORDS, 'stub', lang)}\n{indent}raise NotImplementedError(){newline}"
        return f"{i18n.say(WORDS, 'answer_prompt', lang)}{newline}"

    return _BLOCK.sub(stub, source)


def student_version(master, lang: str, name: str = "the notebook"):
    """A copy of the master notebook with every solution replaced and outputs cleared;
    a ValueError names the notebook and the cell of a broken marker."""
    nb = copy.deepcopy(master)
    for i, cell in enumerate(nb.cells):
        try:
            cell.source = strip_solutions(cell.source, cell.cell_type, lang)
        except ValueError as exc:
            raise ValueError(f"{name}, cell {i}: {exc}") from None
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
    students = {lang: {name: jupyter_edition.convert(student_version(nb, lang, f"solutions/{lang}/{name}"), root,
                                                     root / "exercises" / lang / name)
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
