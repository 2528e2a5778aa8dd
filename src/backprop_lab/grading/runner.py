"""Runs inside the sandbox: builds the judged program from the instructor's harness and
the student's solutions, then calls the judged functions on the inputs the grader sent,
and streams back only values.

Reads a job (data-only JSON) on stdin; writes one JSON line per question to the file
descriptor given as ``--result-fd``. The student's own printing goes to stdout/stderr,
which the grader discards. Nothing here is trusted by the grader: it checks every value
itself. This module sees only the standard library (it runs beside NumPy and, where
allowed, PyTorch, and nothing else).

The judged program (see :func:`assemble`):

* the *template* is the student notebook as the course generates it from the master:
  every top-level function or class holding a solution stub is a *solution name*;
  everything else in it (the wrappers that turn a student's Function into numbers,
  imports) is the instructor's harness;
* from the submission only definitions are taken, never statements: imports, function
  and class definitions, and assignments to plain names (constants of the student's
  helpers); loops, calls, ``check(...)`` cells and assignments to attributes
  (monkeypatching) are not run;
* the program runs the student's definitions first, then the template's cells with
  each solution name replaced by the student's definition of it, so every harness
  name is bound to the instructor's code, whatever the submission defined.
"""

from __future__ import annotations

import ast
import builtins
import os
import sys
import traceback

from backprop_lab.grading.datafmt import TEXT_CHARS

STUBS = ("# YOUR CODE HERE", "# তোমার কোড এখানে লেখো")
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_IMPORTS = (ast.Import, ast.ImportFrom)


class _NoTorch:
    """Import hook that refuses PyTorch in questions that forbid it (the sandbox does not
    even contain it there; this records that it was asked for, for the feedback)."""

    attempted = False

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            _NoTorch.attempted = True
            raise ImportError("PyTorch is not available in this exercise (NumPy only)")
        return None


class _Shell:
    """Enough of get_ipython() for cells with magics to run as no-ops."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def python_source(cell: str) -> str:
    """A cell as Python: IPython magics and shell escapes (``%pip``, ``!ls``) become ``pass``."""
    if cell.lstrip().startswith("%%"):
        return ""
    lines = []
    for line in cell.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = line[: len(line) - len(stripped)] + "pass"
        lines.append(line)
    return "\n".join(lines)


def _parse(cell: str, label: str):
    try:
        try:
            return ast.parse(cell, label), None
        except SyntaxError:  # perhaps only because of magics: the cell without them
            return ast.parse(python_source(cell), label), None
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as exc:
        return None, f"{label.strip('<>')}: {type(exc).__name__}: {str(exc)[:TEXT_CHARS]}"


def solution_names(tree: ast.Module, source: str) -> set[str]:
    """Top-level definitions of a template cell that hold a solution stub."""
    lines = source.split("\n")
    names = set()
    for node in tree.body:
        if isinstance(node, _DEFINITIONS):
            span = lines[node.lineno - 1 : node.end_lineno]
            if any(line.strip() in STUBS for line in span):
                names.add(node.name)
    return names


def _is_definition(node) -> bool:
    if isinstance(node, _DEFINITIONS + _IMPORTS):
        return True
    if isinstance(node, ast.Assign):
        return all(_plain_names(t) for t in node.targets)
    if isinstance(node, ast.AnnAssign):
        return node.value is not None and isinstance(node.target, ast.Name)
    return False


def _plain_names(target) -> bool:
    if isinstance(target, ast.Name):
        return True
    return isinstance(target, (ast.Tuple, ast.List)) and all(_plain_names(t) for t in target.elts)


def assemble(template: list[str], cells: list[str]):
    """The judged program: a list of (label, statement) to run in order, the names the
    submission defines, the solution names, and the cells of the submission that did not parse."""
    errors, student, defined = [], [], {}
    for i, cell in enumerate(cells):
        tree, error = _parse(cell, f"<cell {i}>")
        if error:
            errors.append(error)
            continue
        for node in tree.body:
            if _is_definition(node):
                student.append((f"<cell {i}>", node))
                if isinstance(node, _DEFINITIONS):
                    defined[node.name] = (f"<cell {i}>", node)  # the last one wins, as in the notebook
    solutions, harness = set(), []
    for j, cell in enumerate(template):
        tree, error = _parse(cell, f"<harness {j}>")
        if error:
            continue
        names = solution_names(tree, cell)
        solutions |= names
        for node in tree.body:
            if isinstance(node, _DEFINITIONS) and node.name in names:
                harness.append(defined.get(node.name, (f"<harness {j}>", node)))
            elif isinstance(node, _DEFINITIONS + _IMPORTS):
                harness.append((f"<harness {j}>", node))
    student = [(label, node) for label, node in student
               if not (isinstance(node, _DEFINITIONS) and node.name in solutions)]
    return student, harness, set(defined), solutions, errors


def _exit_refused(*args, **kwargs):
    raise SystemExit("exit is not allowed while grading")


class _Snapshot:
    """The attributes of the modules (and the names of the judged program) that the harness
    and the runner rely on, restored after every piece of student code, so that
    monkeypatching them can only affect the student. An honesty check, not isolation:
    code in the same process can always reach further."""

    def __init__(self, *namespaces):
        self.saved = [(ns, dict(ns)) for ns in namespaces]

    def restore(self):
        for current, attrs in self.saved:
            for name in [n for n in current if n not in attrs]:
                del current[name]
            current.update(attrs)


def _run(statements, namespace, errors):
    for label, node in statements:
        try:
            exec(compile(ast.Module(body=[node], type_ignores=[]), label, "exec"), namespace)
        except BaseException as exc:  # a broken statement must not stop the others
            if errors is not None:
                errors.append(f"{label.strip('<>')}: {type(exc).__name__}: {str(exc)[:TEXT_CHARS]}")


def main() -> None:
    from backprop_lab.grading import datafmt

    result_fd = int(sys.argv[sys.argv.index("--result-fd") + 1])
    job = datafmt.loads(sys.stdin.read())
    sys.stdin.close()
    out = os.fdopen(result_fd, "w", encoding="utf-8")
    if job.get("no_torch"):
        sys.meta_path.insert(0, _NoTorch())

    def send(record):
        out.write(datafmt.dumps(record) + "\n")
        out.flush()

    # The submission must not end the run before its functions are called.
    import posix

    os._exit = posix._exit = _exit_refused
    import json
    import math

    import numpy  # noqa: F401 (imported before any student code, so the snapshot holds the real one)

    student, harness, defined, solutions, cell_errors = assemble(job.get("template") or [], job["cells"])
    namespace = {"__name__": "__main__", "get_ipython": lambda: _Shell(), "__builtins__": builtins}
    # What the harness imports is imported before any student code, so that the snapshot
    # holds the real torch.autograd.gradcheck (say), not one a submission replaced.
    imports = [(label, node) for label, node in harness if isinstance(node, _IMPORTS)]
    _run(imports, {"__builtins__": builtins}, None)
    _NoTorch.attempted = False  # only the student's own attempts count
    roots = {"numpy"} | {alias.name.split(".")[0] for _, node in imports if isinstance(node, ast.Import)
                         for alias in node.names} | {node.module.split(".")[0] for _, node in imports
                                                     if isinstance(node, ast.ImportFrom) and node.module}
    guarded = [m for name, m in list(sys.modules.items())
               if m is not None and name.split(".")[0] in roots and name.count(".") <= 1]
    modules = [builtins, json, math, os, posix, datafmt, *guarded]
    snapshot = _Snapshot(*(vars(m) for m in modules))
    _run(student, namespace, cell_errors)
    snapshot.restore()
    attempted = _NoTorch.attempted
    _run(harness, namespace, None)  # the instructor's code; its own failures are not the student's
    _NoTorch.attempted = attempted
    snapshot = _Snapshot(namespace, *(vars(m) for m in modules))
    send({"cell_errors": cell_errors[:20]})

    judged = {call["function"]: namespace.get(call["function"]) for call in job["calls"]}
    for call in job["calls"]:
        fn = judged[call["function"]]
        missing = not callable(fn) or (call["function"] in solutions and call["function"] not in defined)
        outcomes = []
        for encoded_args in call["cases"]:
            if missing:
                outcomes.append({"status": "missing"})
                continue
            try:
                returned = fn(*datafmt.decode(encoded_args))
                snapshot.restore()  # before encoding: the codec is the runner's, not as patched
                outcomes.append({"status": "returned", "value": datafmt.encode(returned)})
            except NotImplementedError:
                outcomes.append({"status": "not_implemented"})
            except BaseException as exc:
                last = traceback.extract_tb(exc.__traceback__)[-1:]
                where = f" (line {last[0].lineno})" if last else ""
                outcomes.append({"status": "raised", "error": f"{type(exc).__name__}: {str(exc)[:TEXT_CHARS]}{where}"})
            snapshot.restore()
        send({"qid": call["qid"], "outcomes": outcomes, "torch_attempted": _NoTorch.attempted})
    send({"done": True})


if __name__ == "__main__":
    main()
