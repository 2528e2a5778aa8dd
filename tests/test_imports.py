"""The package's import graph: no cycle, and the data codec a leaf.

Read from the source (every ``import`` statement, at any depth, so a deferred import
counts too): a cycle is what forced imports into function bodies before, and the
codec is copied into the grader's sandbox, where it may lean on nothing but the test
functions.
"""

import ast
from pathlib import Path

import backprop_lab

PACKAGE = Path(backprop_lab.__file__).parent


def module_name(path: Path) -> str:
    parts = ("backprop_lab", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The package's modules that ``path`` imports (``from . import x`` names ``x``
    when ``x`` is a module, the package itself otherwise)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            target = ".".join(p for p in (base, node.module) if p)
            for a in node.names:
                found.add(f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target)
    return {m for m in found if m in modules and m != name}


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def find_cycle(edges: dict[str, set[str]]) -> list[str]:
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(edges.get(m, ())):
            if state.get(n) == "open":
                return stack[stack.index(n):] + [n]
            if n not in state and (cycle := visit(n)):
                return cycle
        state[m] = "done"
        stack.pop()
        return []

    for m in sorted(edges):
        if m not in state and (cycle := visit(m)):
            return cycle
    return []


def test_the_package_has_no_import_cycle():
    assert find_cycle(graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    edges = graph()
    edges["backprop_lab.testfns"] = {"backprop_lab.exercises"}  # as if the test functions used the registry
    assert find_cycle(edges)


def test_the_data_codec_imports_only_the_test_functions():
    assert imports_of(PACKAGE / "grading" / "datafmt.py") == {"backprop_lab.testfns"}
    assert imports_of(PACKAGE / "testfns.py") == set()


def test_the_languages_module_is_a_leaf():
    # The grader's sandbox carries it (the feedback of compare), so it may lean on nothing.
    assert imports_of(PACKAGE / "i18n.py") == set()

