"""Exercises: generated from the masters, no solution leaks, and the public self-check."""

import json

import nbformat
import numpy as np
import pytest

from backprop_lab import authoring, check, notebooks
from backprop_lab.exercises import GRADING_ENV, registry
from backprop_lab.grading import datafmt


def test_committed_exercises_are_exactly_what_the_masters_generate(root):
    expected = authoring.generate(root)
    assert expected, "no masters in solutions/"
    on_disk = set(notebooks.exercise_notebooks(root))
    assert on_disk == set(expected), "exercises/ and solutions/ disagree: run `make exercises`"
    for path, text in expected.items():
        assert path.read_text(encoding="utf-8") == text, f"{path} differs from its master: run `make exercises`"


def test_every_registered_exercise_has_masters_in_both_languages(root):
    for exercise in registry().values():
        for lang in ("en", "bn"):
            assert (root / "solutions" / lang / exercise.notebook).exists(), (exercise.name, lang)


def test_every_case_has_a_bengali_label():
    # A label missing from the table would reach a Bengali reader in English.
    from backprop_lab.exercises import CASE_LABELS_BN

    exercises = registry()  # finding the exercises also gathers their LABELS_BN
    missing = sorted({(exercise.name, case.label) for exercise in exercises.values()
                      for question in exercise.questions
                      for case in question.cases(np.random.default_rng(0))
                      if case.label not in CASE_LABELS_BN})
    assert not missing, f"case labels without a Bengali label (add them to LABELS_BN): {missing}"


def _solution_text(root):
    blocks = []
    for path in notebooks.master_notebooks(root):
        for cell in nbformat.read(path, as_version=4).cells:
            blocks += authoring.solution_blocks(cell.source)
    assert blocks
    return blocks


def _significant_lines(blocks):
    lines = {line.strip() for block in blocks for line in block.splitlines()}
    return {line for line in lines if len(line) >= 16 and not line.startswith("#")}


def test_no_solution_text_in_the_student_notebooks(root):
    lines = _significant_lines(_solution_text(root))
    for path in notebooks.exercise_notebooks(root):
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
        assert "BEGIN SOLUTION" not in text
        leaked = [line for line in lines if line in text]
        assert not leaked, f"{path} contains solution lines: {leaked[:3]}"


def test_no_solution_in_the_built_book(root, site):
    assert not (site / "solutions").exists() and not (site / "_sources" / "solutions").exists()
    lines = _significant_lines(_solution_text(root))
    for page in (site / "exercises").rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        leaked = [line for line in lines if line in text]
        assert not leaked, f"{page} shows solution lines: {leaked[:3]}"
    blocks = [" ".join(b.split()) for b in _solution_text(root) if len(b.strip()) > 80]
    for page in site.rglob("*.html"):
        text = " ".join(page.read_text(encoding="utf-8").split())
        assert not [b for b in blocks if b in text], f"{page} contains a whole solution"


def test_solution_markers_become_stubs():
    src = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n"
    out = authoring.strip_solutions(src, "code", "bn")
    assert out == "def f(x):\n    y = 1\n    # তোমার কোড এখানে লেখো\n    raise NotImplementedError()\n"
    md = "### BEGIN SOLUTION\nThe answer.\n### END SOLUTION"
    assert authoring.strip_solutions(md, "markdown", "en") == "*Write your answer here.*"
    with pytest.raises(ValueError, match="unbalanced"):
        authoring.strip_solutions("### BEGIN SOLUTION\nx = 1\n", "code", "en")


@pytest.mark.parametrize("source, why", [
    ("### BEGIN SOLUTION\na = 1\n### BEGIN SOLUTION\nsecret = 2\n### END SOLUTION\nleak = 3\n### END SOLUTION\n", "nested"),
    ("x = 1\n### END SOLUTION\nleak = 3\n", "unbalanced"),
    ("### BEGIN SOLUTION\nleak = 3\n", "unbalanced"),
    ("x = 1  ### BEGIN SOLUTION\nleak = 3\n### END SOLUTION\n", "own"),
])
def test_broken_markers_are_an_error_naming_notebook_and_cell(source, why):
    master = nbformat.v4.new_notebook()
    master.cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell(source)]
    with pytest.raises(ValueError, match=f"solutions/en/exNN.ipynb, cell 1: line \\d+: .*{why}"):
        authoring.student_version(master, "en", "solutions/en/exNN.ipynb")


def test_self_check_reports_in_the_notebooks_language(capsys):
    def mul_backward(x, y, g):
        return g * y, g * x

    assert check("ex01.q1", mul_backward, lang="bn") is True
    out = capsys.readouterr().out
    assert "মিলেছে" in out and "ex01.q1" in out

    def wrong(x, y, g):
        return g * x, g * y

    assert check("ex01.q1", wrong, lang="en") is False
    out = capsys.readouterr().out
    assert "relative error" in out and "passed" not in out.splitlines()[0]


def _all_questions():
    return [q for exercise in registry().values() for q in exercise.questions]


def _nudged(value):
    """The same structure with every number moved by about 1 %: a wrong answer of the right shape."""
    if isinstance(value, dict):
        return {k: _nudged(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_nudged(v) for v in value)
    return np.asarray(value) * 1.01 + 0.01


@pytest.mark.parametrize("qid", [q.qid for q in _all_questions()])
def test_every_public_self_check_accepts_the_reference_and_rejects_a_nudged_answer(qid, capsys):
    from backprop_lab.exercises import question

    q = question(qid)
    n_cases = len(q.cases(np.random.default_rng(0)))
    for lang in ("en", "bn"):
        assert check(qid, q.reference, lang=lang) is True, capsys.readouterr().out
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == n_cases + 1, lines  # a line per case and the summary
    assert check(qid, lambda *args: _nudged(q.reference(*args))) is False
    assert f"0/{n_cases}" in capsys.readouterr().out.splitlines()[-1]


def test_self_check_says_what_is_missing_and_never_shows_expected_values(capsys):
    def stub(x, params):
        raise NotImplementedError()

    assert check("ex08.q1", stub) is False
    assert "not answered yet" in capsys.readouterr().out

    def wrong_shape(x, params):
        return np.zeros(3)

    check("ex08.q1", wrong_shape)
    out = capsys.readouterr().out
    assert "returned shape (3,), expected shape (2,)" in out
    assert "[" not in out  # no arrays of expected numbers are printed


def test_self_check_is_silent_inside_the_grader(monkeypatch, capsys):
    monkeypatch.setenv(GRADING_ENV, "1")
    assert check("ex01.q1", lambda x, y, g: (g * y, g * x)) is False
    assert capsys.readouterr().out == ""


def test_unknown_question_is_a_clear_error():
    with pytest.raises(KeyError, match="ex01.q1"):
        check("ex99.q1", lambda: None)


def test_data_format_round_trip_and_refusals():
    value = (np.arange(6.0).reshape(2, 3), {"W": np.ones(2), "n": 3}, float("nan"), [1.0, -np.inf])
    back = datafmt.decode(datafmt.loads(datafmt.dumps(datafmt.encode(value))))
    np.testing.assert_array_equal(back[0], value[0])
    assert back[1]["n"] == 3.0 and np.isnan(back[2]) and back[3][1] == -np.inf
    for bad in ('{"__array__": [1, 2], "shape": [3]}', '{"__function__": "os.system"}', '{"x": 1}', '"rm -rf"'):
        with pytest.raises(datafmt.DataError):
            datafmt.decode(json.loads(bad))
    with pytest.raises(datafmt.DataError):
        datafmt.loads("NaN")
    with pytest.raises(datafmt.DataError):
        datafmt.encode(object())
