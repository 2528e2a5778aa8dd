"""Lesson code reused by later chapters: the package's copy is the chapter's, to the character."""

import ast
import inspect

import nbformat
import pytest

from backprop_lab import lessons


def _definitions(path):
    found = {}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.FunctionDef):
                    found[node.name] = ast.get_source_segment(cell.source, node)
    return found


@pytest.mark.parametrize("name", sorted(lessons.TAUGHT_IN))
@pytest.mark.parametrize("lang", ["en", "bn"])
def test_the_package_copy_is_the_lesson_itself(root, name, lang):
    taught = _definitions(root / "book" / lang / f"{lessons.TAUGHT_IN[name]}.ipynb")
    assert taught.get(name) == inspect.getsource(getattr(lessons, name)).rstrip(), (
        f"{name} in backprop_lab/lessons.py differs from chapter {lessons.TAUGHT_IN[name]}: copy the lesson's")


def test_no_later_chapter_defines_a_lesson_function_again(root):
    for lang in ("en", "bn"):
        for path in sorted((root / "book" / lang).glob("*.ipynb")):
            again = {name for name in _definitions(path) if name in lessons.TAUGHT_IN
                     and path.stem != lessons.TAUGHT_IN[name]}
            assert not again, f"{path.name} defines {sorted(again)} again: import it from backprop_lab.lessons"
