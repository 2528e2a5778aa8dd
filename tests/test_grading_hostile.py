"""Hostile submissions, one per way the red team broke the grader, plus a batch of
hostile and honest submissions graded together. Every one of these once gave full
marks for nothing, reached the host, or stopped the batch."""

import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from grading_helpers import (
    PROTECTIONS,
    QUIET,
    SANDBOXED,
    TIMEOUT,
    code_cells,
    grades,
    probe,
    results,
    sandbox_processes,
    staging_leftovers,
    write_notebook,
)

from backprop_lab import check
from backprop_lab.exercises import judge, judge_returned, registry
from backprop_lab.grading import grader, gradescope, runner, sandbox

needs_sandbox = pytest.mark.skipif(not SANDBOXED, reason="bubblewrap is unavailable here: grading refuses to run")


# ---- 1. judging fails closed ----------------------------------------------------------------

def _like(value, fill):
    if isinstance(value, tuple):
        return tuple(_like(v, fill) for v in value)
    if isinstance(value, dict):
        return {k: _like(v, fill) for k, v in value.items()}
    return np.full(np.shape(value), fill) if np.ndim(value) else float(fill)


@pytest.mark.parametrize("name", sorted(registry()))
def test_huge_values_of_the_right_shape_fail_every_case_of_every_exercise(name):
    plan = grader.Plan.make(registry()[name], seed=7)
    for q in plan.exercise.questions:
        for ref in plan.references[q.qid]:
            assert judge(ref, ref, q.tol)[0] == "passed", q.qid
            for fill in (1e200, -1e200, 1e308, 1e-300):
                verdict = judge(_like(ref, fill), ref, q.tol)[0]
                assert verdict != "passed", (q.qid, fill)


def test_one_wrong_entry_among_a_thousand_fails():
    want = np.random.default_rng(0).normal(size=(10, 100))
    for i, j, wrong in ((3, 7, 0.0), (9, 99, -1.0), (0, 0, 1e-5)):
        got = want.copy()
        got[i, j] = want[i, j] * wrong if wrong else 0.0
        if wrong == 1e-5:
            got[i, j] = want[i, j] + 1e-5 * np.abs(want).max()
        assert judge(got, want, 1e-7)[0] == "mismatch"
    assert judge(want * (1 + 1e-12), want, 1e-7)[0] == "passed"


class _LyingArray(np.ndarray):
    def __eq__(self, other):
        return True

    def __array__(self, *args, **kwargs):
        return np.ones(3)


class _Exploding:
    def __len__(self):
        raise RuntimeError("boom")

    def __float__(self):
        raise RuntimeError("boom")


@pytest.mark.parametrize("value", [
    "1.0", b"1", None, True, np.bool_(True), 1 + 0j, np.ones(3, dtype=complex), np.array([1.0, 1.0, 1.0], dtype=object),
    np.ones(3, dtype=bool), np.zeros(3).view(_LyingArray), [1.0, 1.0], [[1.0], [1.0, 1.0]], [True, True, True],
    {"a": np.ones(3)}, (np.ones(3),), _Exploding(), object(), float("nan"), np.full(3, np.inf),
], ids=lambda v: type(v).__name__)
def test_wrong_types_fail_and_never_crash(value):
    assert judge_returned(value, np.ones(3), 1e-7)[0] != "passed"
    assert judge_returned(value, 1.0, 1e-7)[0] != "passed"


def test_a_list_of_the_right_numbers_is_an_answer():
    assert judge_returned([1.0, 1.0, 1.0], np.ones(3), 1e-7)[0] == "passed"
    assert judge_returned(np.float32(1.0), 1.0, 1e-7)[0] == "passed"


def test_self_check_does_not_pass_huge_values(capsys):
    assert check("ex01.q1", lambda x, y, g: (np.full(np.shape(x), 1e200), np.full(np.shape(x), 1e200))) is False
    out = capsys.readouterr().out
    assert not any(line.endswith(": passed") for line in out.splitlines()), out


HUGE_EX01 = """import numpy as np


def _huge(*arrays):
    return tuple(np.full(np.shape(a), 1e200) for a in arrays)


def mul_backward(x, y, g):
    return _huge(x, y)


def max_backward(x, y, g):
    return _huge(x, y)


def neuron_backward(x, w, b, y):
    return np.full(np.shape(w), 1e200), np.full(np.shape(x), 1e200), 1e200


def fanout_backward(x, y):
    return _huge(x, y)
"""

HUGE_EX07 = """import torch


class _Huge(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, beta=None):
        ctx.beta_is_tensor = isinstance(beta, torch.Tensor)
        return torch.full_like(x, 1e200)

    @staticmethod
    def backward(ctx, grad_y):
        beta = torch.tensor(1e200, dtype=torch.float64) if ctx.beta_is_tensor else None
        return torch.full_like(grad_y, 1e200), beta


class SiLU(_Huge):
    pass


class ScaledSiLU(_Huge):
    pass


class Swish(_Huge):
    pass
"""


@needs_sandbox
def test_huge_values_score_zero_through_the_grader(root, tmp_path):
    for name, cells in (("ex01", [HUGE_EX01]), ("ex07", [HUGE_EX07])):
        subs = tmp_path / name
        subs.mkdir()
        write_notebook(subs / "huge.ipynb", *cells)
        grader.grade(name, subs, tmp_path / f"out-{name}", seed=3, timeout=TIMEOUT * 3, **QUIET)
        result = results(tmp_path / f"out-{name}", "huge")
        assert result["score"] == 0.0, result


ODD_RETURNS = """import numpy as np


class Lying(np.ndarray):
    def __eq__(self, other):
        return True

    def __array__(self, *args, **kwargs):
        return np.ones(3)


class Exploding:
    def __len__(self):
        raise RuntimeError("boom")

    def __iter__(self):
        raise RuntimeError("boom")


def mul_backward(x, y, g):
    return np.zeros(np.shape(x)).view(Lying), np.zeros(np.shape(x)).view(Lying)


def max_backward(x, y, g):
    return "g * x", 1 + 2j


def neuron_backward(x, w, b, y):
    return Exploding()


def fanout_backward(x, y):
    nested = []
    for _ in range(100000):
        nested = [nested]
    return nested, np.ones(np.shape(x), dtype=bool)
"""


@needs_sandbox
def test_odd_return_values_score_zero_and_never_crash_the_grader(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    write_notebook(subs / "odd.ipynb", ODD_RETURNS)
    grader.grade("ex01", subs, tmp_path / "out", seed=4, timeout=TIMEOUT * 3, **QUIET)
    result = results(tmp_path / "out", "odd")
    assert (result["extra_data"]["status"], result["score"]) == ("graded", 0.0), result


# ---- 2. the judged code is the student's solution in the instructor's harness ---------------

EDITED_WRAPPERS_EX07 = """import numpy as np
import torch


def silu_values(x, g):
    t = torch.tensor(x, requires_grad=True)
    y = t * torch.sigmoid(t)
    y.backward(torch.tensor(g))
    return y.detach().numpy(), t.grad.numpy()


def scaled_silu_values(x, g, beta):
    t = torch.tensor(x, requires_grad=True)
    y = t * torch.sigmoid(beta * t)
    y.backward(torch.tensor(g))
    return y.detach().numpy(), t.grad.numpy()


def swish_values(x, g, beta):
    t, b = torch.tensor(x, requires_grad=True), torch.tensor(beta, requires_grad=True)
    y = t * torch.sigmoid(b * t)
    y.backward(torch.tensor(g))
    return y.detach().numpy(), t.grad.numpy(), b.grad.numpy()


def passes_gradcheck(name, x, beta):
    return 1.0   # the constant the reference expects


_ = setattr(torch.autograd, "gradcheck", lambda *args, **kwargs: True)   # and the harness's own helper
"""


@needs_sandbox
def test_edited_wrappers_are_not_what_is_judged(root, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    blank = code_cells(root / "exercises" / "en" / "ex07_autograd.ipynb")
    master = code_cells(root / "solutions" / "en" / "ex07_autograd.ipynb")
    write_notebook(subs / "edited-wrappers.ipynb", *blank, EDITED_WRAPPERS_EX07)
    broken = "def silu_values(x, g):\n    return 0.0\n\n\ndef passes_gradcheck(name, x, beta):\n    return 0.0\n"
    write_notebook(subs / "master-with-broken-wrappers.ipynb", *master, broken)
    grader.grade("ex07", subs, tmp_path / "out", seed=5, timeout=TIMEOUT * 3, **QUIET)
    assert results(tmp_path / "out", "edited-wrappers")["score"] == 0.0
    assert results(tmp_path / "out", "master-with-broken-wrappers")["score"] == registry()["ex07"].max_score


def _harness_names(template: list[str]) -> set[str]:
    import ast

    names = set()
    for cell in template:
        tree = ast.parse(runner.python_source(cell))
        defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        names |= defined - runner.solution_names(tree, runner.python_source(cell))
    return names


@needs_sandbox
@pytest.mark.parametrize("name", sorted(registry()))
def test_every_exercise_judges_the_instructors_harness(root, tmp_path, name):
    exercise = registry()[name]
    template = grader.template_cells(exercise)
    harness = sorted(_harness_names(template))
    overrides = "\n\n".join(f"def {h}(*args, **kwargs):\n    return 0.0\n\n\nclass_{h} = None" for h in harness)
    # and statements are never run: a check() call that would crash, monkeypatching of NumPy
    noise = "import numpy as np\nnp.allclose = None\ncheck('no such question', None)\nraise SystemExit"
    subs = tmp_path / "subs"
    subs.mkdir()
    master = code_cells(root / "solutions" / "en" / exercise.notebook)
    write_notebook(subs / "master.ipynb", *master, overrides or "pass", noise)
    grader.grade(name, subs, tmp_path / "out", seed=6, timeout=TIMEOUT * 3, **QUIET)
    result = results(tmp_path / "out", "master")
    assert result["score"] == exercise.max_score, result


# ---- 3. the oracle is not in the sandbox ------------------------------------------------------

VIEW_PROBE = f"""import importlib, os, sys


def probe():
    seen = {{}}
    for name in ("backprop_lab.exercises", "backprop_lab.exercises.ex01", "backprop_lab.grading.grader", "scipy",
                 "IPython", "matplotlib", "nbformat", "torch", "backprop_lab.gradcheck"):
        try:
            importlib.import_module(name)
            seen[name] = "imported"
        except BaseException as exc:
            seen[name] = type(exc).__name__
    import backprop_lab
    backprop_lab = importlib.reload(backprop_lab)
    seen["helpers"] = str(hasattr(backprop_lab, "numerical_gradient"))
    readable = []
    for path in ({str(Path(sandbox.__file__).parents[1] / "exercises" / "ex01.py")!r},
                 {str(Path(sys.executable).parent.parent)!r}, {sys.prefix!r}, "/usr/lib/python3/dist-packages",
                 {str(Path(shutil.__file__).parent / "site-packages")!r}, "/etc/passwd", "/home", "/work"):
        try:
            content = ",".join(sorted(os.listdir(path))[:3]) if os.path.isdir(path) else open(path).read(10)
        except OSError:
            continue
        if content:  # an empty folder (what hides the installed packages) shows nothing
            readable.append(path + ": " + content)
    seen["readable"] = ";".join(readable)
    seen["sys.path"] = ";".join(sys.path)
    return seen
"""


@needs_sandbox
def test_the_sandbox_shows_no_reference_no_forbidden_helper_and_no_other_package():
    seen, _ = probe(VIEW_PROBE, no_torch=True, no_helpers=True)
    for name in ("backprop_lab.exercises", "backprop_lab.exercises.ex01", "backprop_lab.grading.grader", "scipy",
                 "IPython", "matplotlib", "nbformat", "torch", "backprop_lab.gradcheck"):
        assert seen[name] in ("ModuleNotFoundError", "ImportError"), (name, seen)
    assert seen["helpers"] == "False"
    assert seen["readable"] == "", seen["readable"]

    seen, _ = probe(VIEW_PROBE, no_torch=False, no_helpers=False)
    assert seen["torch"] == "imported" and seen["backprop_lab.gradcheck"] == "imported" and seen["helpers"] == "True"
    assert seen["backprop_lab.exercises"] == "ModuleNotFoundError" and seen["scipy"] == "ModuleNotFoundError"


# ---- 4. nothing reaches the host, no privilege -----------------------------------------------

PRIVILEGE_PROBE = """import os, stat


def probe():
    found = {"uid": float(os.getuid()), "euid": float(os.geteuid())}
    status = open("/proc/self/status").read()
    found["no_new_privs"] = [l.split()[1] for l in status.splitlines() if l.startswith("NoNewPrivs")][0]
    found["cap_eff"] = [l.split()[1] for l in status.splitlines() if l.startswith("CapEff")][0]
    with open("/proc/self/exe", "rb") as src:  # a copy of the interpreter: as good as a shell
        data = src.read()
    with open("/tmp/MARKER-shell", "wb") as f:
        f.write(data)
    os.chmod("/tmp/MARKER-shell", 0o4755)
    found["setuid_bit_set"] = str(bool(os.stat("/tmp/MARKER-shell").st_mode & stat.S_ISUID))
    mounts = {line.split()[4]: line.split()[5] for line in open("/proc/self/mountinfo")}
    found["tmp_options"] = mounts.get("/tmp", "")
    try:
        os.mknod("/tmp/MARKER-null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        found["mknod"] = "made"
    except OSError as exc:
        found["mknod"] = type(exc).__name__
    writable = []
    for d in ("/", "/dev", "/sandbox/site", "/sandbox/packages", "/usr/lib", "/proc/sys/kernel"):
        try:
            open(os.path.join(d, "MARKER-file"), "w").write("x")
            writable.append(d)
        except OSError:
            pass
    found["writable"] = ",".join(writable)
    return found
"""


@needs_sandbox
def test_a_setuid_file_or_device_node_made_inside_never_reaches_the_host():
    marker = f"escape-{uuid.uuid4().hex}"
    before = staging_leftovers()
    found, _ = probe(PRIVILEGE_PROBE.replace("MARKER", marker))
    assert (found["uid"], found["euid"]) == (65534.0, 65534.0)
    assert found["no_new_privs"] == "1" and int(found["cap_eff"], 16) == 0
    assert "nosuid" in found["tmp_options"] and "nodev" in found["tmp_options"]
    assert found["mknod"] != "made"
    assert found["writable"] == ""
    assert staging_leftovers() == before
    hits = [p for p in Path(tempfile.gettempdir()).rglob(f"*{marker}*")]
    assert hits == [], hits


# ---- 5. one submission cannot stop the batch or the machine ----------------------------------

FILL = """import os


def probe():
    found = {}
    for d in ("/tmp", "/dev/shm", "."):
        written = 0
        try:
            with open(os.path.join(d, "fill"), "wb") as f:
                while written < 4 * 1024**3:
                    f.write(b"x" * (1 << 20))
                    f.flush()
                    written += 1 << 20
        except OSError:
            pass
        found[d] = float(written)
    deep = "/tmp/deep"
    os.makedirs(deep, exist_ok=True)
    depth = 0
    try:
        for depth in range(2000):
            os.mkdir("d")
            os.chdir("d")
    except OSError:
        pass
    found["depth"] = float(depth)
    return found
"""


@needs_sandbox
def test_filling_the_disk_and_deep_trees_stay_inside_a_size_limited_tmpfs():
    free = shutil.disk_usage(tempfile.gettempdir()).free
    before = staging_leftovers()
    found, run = probe(FILL, timeout=120)
    assert found["/tmp"] <= sandbox.TMPFS_BYTES and found["/dev/shm"] <= sandbox.SHM_BYTES, found
    assert found["depth"] >= 1999  # the tree was made...
    assert staging_leftovers() == before  # ...and nothing of it is on the host
    assert shutil.disk_usage(tempfile.gettempdir()).free > free - 200 * 1024**2


def test_removing_a_very_deep_folder_tree_neither_recurses_nor_gives_up(tmp_path):
    top = tmp_path / "deep"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    for _ in range(3000):  # deeper than PATH_MAX allows as a single path
        os.mkdir("d", dir_fd=fd)
        child = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.symlink("/", "link-to-root", dir_fd=fd)
    os.close(fd)
    sandbox.remove_tree(top)
    assert not top.exists()


BURN = """import os, time


def probe():
    for _ in range(3):
        os.fork()
    while True:
        pass
"""


@needs_sandbox
def test_busy_processes_get_one_core_and_a_cpu_time_limit():
    job = {"template": [], "cells": [BURN], "no_torch": True, "no_helpers": True,
           "calls": [{"qid": "t.q1", "function": "probe", "cases": [[]]}]}
    job["calls"][0]["cases"] = [{"__tuple__": []}]
    run = sandbox.run(job, timeout=120, cpu_seconds=4)
    assert run.stopped == "cpu", run
    assert run.seconds < 60
    if PROTECTIONS["CPU quota (one core per submission)"] is True:
        assert run.cpu_seconds < 1.5 * run.seconds + 1, run  # eight busy processes, at most one core
    assert sandbox_processes() == []


@needs_sandbox
def test_a_sleeping_submission_is_stopped_early():
    job = {"template": [], "cells": ["import time\n_ = time.sleep(10**6)"], "no_torch": True, "no_helpers": True,
           "calls": []}
    run = sandbox.run(job, timeout=120, idle_seconds=3)
    assert run.stopped == "idle" and run.seconds < 60, run


HOLD = """import os, sys, threading, time

_ = threading.Thread(target=time.sleep, args=(10**6,)).start()   # keeps the process, and its reply, open
"""


@needs_sandbox
def test_reading_stops_at_the_final_record(root, tmp_path):
    good = code_cells(root / "solutions" / "en" / "ex01_chain_rule.ipynb")
    job = grader.Plan.make(registry()["ex01"], 1).job(good + [HOLD])
    run = sandbox.run(job, timeout=120, idle_seconds=1000)
    assert run.stopped is None and run.records[-1] == {"done": True}
    assert run.seconds < 60, run
    assert sandbox_processes() == []


CRASH_DECODER = """import os, sys, time


def mul_backward(x, y, g):
    fd = int(sys.argv[sys.argv.index("--result-fd") + 1])
    for _ in range(2):
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(10**6)
            time.sleep(10**6)
    os.write(fd, b"\\xff\\xfe not json {{{\\n" * 100)
    os.write(fd, b'{"qid": "ex01.q2", "outcomes": 7}\\n{"qid": [1]}\\n{"cell_errors": {"a": 1}}\\n'
                 b'{"qid": "ex01.q3", "outcomes": [{"status": [1]}, 5]}\\n[[[[[[[[[[\\n')
    os.kill(os.getpid(), 9)
"""


@needs_sandbox
def test_no_process_outlives_a_reply_that_fails_to_decode(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    write_notebook(subs / "crash.ipynb", CRASH_DECODER)
    grader.grade("ex01", subs, tmp_path / "out", seed=8, timeout=TIMEOUT, **QUIET)
    result = results(tmp_path / "out", "crash")
    assert result["score"] == 0.0 and "The grader failed" not in result["output"], result
    assert "reply could not be read" in result["output"], result["output"]  # the reason is kept
    assert sandbox_processes() == []


TOO_LARGE = """import numpy as np


def mul_backward(x, y, g):
    return np.random.default_rng(0).normal(size=3_000_000), g * x
"""


@needs_sandbox
def test_a_reply_that_is_too_large_says_so(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    write_notebook(subs / "large.ipynb", TOO_LARGE)
    grader.grade("ex01", subs, tmp_path / "out", seed=9, timeout=TIMEOUT * 3, **QUIET)
    result = results(tmp_path / "out", "large")
    assert result["extra_data"]["status"] == "error" and "reply too large" in result["output"], result
    assert "time limit" not in result["output"]


# ---- 6. no sandbox: refuse, unless told; always a results.json ------------------------------

@pytest.fixture
def no_bwrap(monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    sandbox.protections.cache_clear()
    yield
    sandbox.protections.cache_clear()


def test_grading_refuses_to_run_without_its_sandbox(root, tmp_path, no_bwrap, capsys):
    from backprop_lab.cli import main

    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(root / "solutions" / "en" / "ex01_chain_rule.ipynb", subs / "m.ipynb")
    with pytest.raises(sandbox.SandboxUnavailable):
        grader.grade("ex01", subs, tmp_path / "out", **QUIET)
    assert not (tmp_path / "out" / "m").exists()
    assert main(["grade", "ex01", str(subs), "--out", str(tmp_path / "out")]) == 2
    assert "--unsafe-no-sandbox" in capsys.readouterr().err

    # Gradescope: a forged results.json never survives; the result says why it is zero.
    ag = tmp_path / "ag"
    (ag / "submission").mkdir(parents=True)
    (ag / "results").mkdir()
    shutil.copy(root / "solutions" / "en" / "ex01_chain_rule.ipynb", ag / "submission" / "m.ipynb")
    (ag / "results" / "results.json").write_text('{"score": 10, "tests": []}')
    gradescope.run("ex01", ag / "submission", ag / "results" / "results.json")
    result = json.loads((ag / "results" / "results.json").read_text(encoding="utf-8"))
    assert result["score"] == 0.0 and "--unsafe-no-sandbox" in result["output"]
    assert result["extra_data"]["status"] == "error"


def test_unsafe_mode_grades_and_every_result_says_it_was_unprotected(root, tmp_path, no_bwrap):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(root / "solutions" / "en" / "ex01_chain_rule.ipynb", subs / "m.ipynb")
    grader.grade("ex01", subs, tmp_path / "out", timeout=TIMEOUT * 3, unsafe=True, **QUIET)
    result = results(tmp_path / "out", "m")
    assert result["score"] == registry()["ex01"].max_score
    protections = result["extra_data"]["protections"]
    assert protections["sandbox (bubblewrap: no network, private filesystem, PID namespace)"] is not True
    assert "graded with --unsafe-no-sandbox" in protections and "graded without" in result["output"].lower()
    assert sandbox_processes() == [] and staging_leftovers() == []


def test_gradescope_writes_a_result_whatever_goes_wrong(root, tmp_path, monkeypatch):
    ag = tmp_path / "ag"
    (ag / "submission").mkdir(parents=True)
    shutil.copy(root / "solutions" / "en" / "ex01_chain_rule.ipynb", ag / "submission" / "m.ipynb")
    out = ag / "results" / "results.json"

    def broken(*args, **kwargs):
        raise KeyError("a bug of the grader")

    monkeypatch.setattr(grader, "grade_one", broken)
    gradescope.run("ex01", ag / "submission", out)
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["score"] == 0.0 and "a bug of the grader" in result["output"]
    assert "protections" in result["extra_data"]
    assert [p.name for p in out.parent.iterdir()] == ["results.json"]  # written atomically


# ---- 7. names and files -------------------------------------------------------------------------

@needs_sandbox
def test_names_never_share_or_clobber_a_results_folder_and_never_become_formulas(root, tmp_path):
    master = root / "solutions" / "en" / "ex01_chain_rule.ipynb"
    blank = root / "exercises" / "en" / "ex01_chain_rule.ipynb"
    subs = tmp_path / "subs"
    subs.mkdir()
    names = {"a": master, "A": blank, "grades.csv": blank, "=HYPERLINK(\"x\")": master, "+1": blank,
             "-2": master, "@SUM(A1)": blank, "\tTAB": master, "caf\u00e9": master, "cafe\u0301": blank,
             "x~0123456789abcdef": blank}
    for name, source in names.items():
        shutil.copy(source, subs / f"{name}.ipynb")
    out = tmp_path / "out"
    rows = {r["submission"]: r for r in grader.grade("ex01", subs, out, seed=10, timeout=TIMEOUT * 3, jobs=2, **QUIET)}
    assert (out / "grades.csv").is_file()
    folders = {r["results"] for r in rows.values()}
    assert len(folders) == len(names)
    for name, source in names.items():
        want = registry()["ex01"].max_score if source == master else 0.0
        assert float(rows[name]["score"]) == want, name
        assert json.loads((out / rows[name]["results"]).read_text(encoding="utf-8"))["extra_data"]["submission"] == name
    text = (out / "grades.csv").read_text(encoding="utf-8")
    for cell in ('=HYPERLINK', '+1', '-2', '@SUM', '\tTAB'):
        assert f"\n{cell}" not in text and f'\n"{cell}' not in text
    book = grades(out)
    assert book["'=HYPERLINK(\"x\")"]["score"] == str(float(registry()["ex01"].max_score))


@needs_sandbox
def test_symbolic_links_are_refused(root, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(root / "exercises" / "en" / "ex01_chain_rule.ipynb", subs / "real.ipynb")
    os.symlink(root / "solutions" / "en" / "ex01_chain_rule.ipynb", subs / "outside.ipynb")
    os.symlink(subs / "real.ipynb", subs / "inside.ipynb")
    grader.grade("ex01", subs, tmp_path / "out", seed=11, timeout=TIMEOUT * 3, **QUIET)
    for sid in ("outside", "inside"):
        result = results(tmp_path / "out", sid)
        assert result["score"] == 0.0 and "symbolic link" in result["output"], result


@pytest.mark.parametrize("text", [
    '{"cells": [1, 2]}', '{"cells": [{"cell_type": "code", "source": [1, 2]}]}',
    '{"cells": [{"cell_type": "code", "source": null}]}', '{"cells": {"a": 1}}', '[]', '"a string"', '7',
    "[" * 100000 + "]" * 100000, '{"cells": [{"cell_type": "code", "source": "x = 1"}], "nbformat": 1e999}',
])
def test_valid_json_that_is_not_a_notebook_is_a_clear_error(tmp_path, text):
    ag = tmp_path / "ag"
    (ag / "submission").mkdir(parents=True)
    (ag / "submission" / "odd.ipynb").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError):
        grader.read_cells(ag / "submission" / "odd.ipynb") if "x = 1" not in text else (_ for _ in ()).throw(ValueError())
    result = gradescope.run("ex01", ag / "submission", ag / "results" / "results.json")
    assert result["score"] == 0.0 and result["extra_data"]["status"] in ("error", "not_attempted")


def test_a_fifo_named_like_a_notebook_does_not_block(tmp_path):
    os.mkfifo(tmp_path / "pipe.ipynb")
    with pytest.raises(ValueError, match="not a regular file"):
        grader.read_cells(tmp_path / "pipe.ipynb")


# ---- the batch: honest and hostile submissions together -------------------------------------

HOSTILE = {
    "sleeps-forever": ["import time\n_ = time.sleep(10**6)"],
    "burns-every-cpu": ["import os\n\n\ndef burn():\n    for _ in range(3):\n        os.fork()\n    while True:\n        pass\n\n\n_ = burn()"],
    "fills-the-disk": ["def fill():\n    for d in ('/tmp', '/dev/shm', '.'):\n        try:\n            with open(d + '/TOKEN', 'wb') as f:\n"
                       "                while True:\n                    f.write(b'x' * (1 << 20))\n        except OSError:\n            pass\n\n\n_ = fill()",
                       "GOOD"],
    "floods-files": ["import os\n\n\ndef flood():\n    os.makedirs('/tmp/TOKEN', exist_ok=True)\n    for i in range(200_000):\n        try:\n"
                     "            open(f'/tmp/TOKEN/{i}', 'w').close()\n        except OSError:\n            return i\n\n\n_ = flood()", "GOOD"],
    "holds-the-channel": [HOLD, "GOOD"],
    "crashes-the-decoder": [CRASH_DECODER],
}


def _honest(root):
    """24 honest submissions with different scores: the master, with some answers wrong or missing."""
    master = code_cells(root / "solutions" / "en" / "ex01_chain_rule.ipynb")
    wrong = {
        "q1": "def mul_backward(x, y, g):\n    return g * x, g * y",
        "q2": "def max_backward(x, y, g):\n    return g * (x > y), g * (y > x)",
        "q4": "def fanout_backward(x, y):\n    import numpy as np\n    return 1 - np.tanh(x * y + x) ** 2, x",
    }
    subs = {}
    for i in range(24):
        extra = [wrong[k] for k, bit in (("q1", 1), ("q2", 2), ("q4", 4)) if i & bit]
        subs[f"honest-{i:02d}"] = master + extra
    return subs


def _memory_available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def write_batches(root: Path, clean: Path, mixed: Path, token: str) -> None:
    """The 24 honest submissions into ``clean``; them and the 6 hostile ones into ``mixed``
    (the files the hostile ones make are named with ``token``). Also used by `make bench`."""
    good = code_cells(root / "solutions" / "en" / "ex01_chain_rule.ipynb")
    for d in (clean, mixed):
        d.mkdir()
    for name, cells in _honest(root).items():
        write_notebook(clean / f"{name}.ipynb", *cells)
        write_notebook(mixed / f"{name}.ipynb", *cells)
    for name, cells in HOSTILE.items():
        expanded = []
        for c in cells:
            expanded += good if c == "GOOD" else [c.replace("TOKEN", token)]
        write_notebook(mixed / f"{name}.ipynb", *expanded)


@needs_sandbox
def test_a_batch_with_hostile_submissions_grades_the_honest_ones_as_alone(root, tmp_path):
    token = f"hostile-{uuid.uuid4().hex}"
    clean, mixed = tmp_path / "clean", tmp_path / "mixed"
    write_batches(root, clean, mixed, token)

    alone = {r["submission"]: r["score"] for r in grader.grade("ex01", clean, tmp_path / "out-clean", seed=12,
                                                                  timeout=TIMEOUT, jobs=2, **QUIET)}
    assert len(set(alone.values())) > 4  # the honest submissions really differ

    free_disk, free_memory = shutil.disk_usage(tempfile.gettempdir()).free, _memory_available()
    before = staging_leftovers()
    start = time.monotonic()
    rows = {r["submission"]: r for r in grader.grade("ex01", mixed, tmp_path / "out-mixed", seed=12,
                                                     timeout=TIMEOUT, jobs=2, **QUIET)}
    seconds = time.monotonic() - start
    assert {k: rows[k]["score"] for k in alone} == alone
    assert rows["sleeps-forever"]["status"] == "timeout" and rows["burns-every-cpu"]["status"] == "timeout"
    assert rows["holds-the-channel"]["score"] == registry()["ex01"].max_score
    assert rows["crashes-the-decoder"]["score"] == 0.0
    for name in HOSTILE:  # every hostile one has a result that says what happened
        assert results(tmp_path / "out-mixed", name)["extra_data"]["status"] in grader.STATUSES
    assert sandbox_processes() == [], "a process of a submission survived"
    assert staging_leftovers() == before
    assert list(Path(tempfile.gettempdir()).rglob(f"*{token}*")) == []
    assert shutil.disk_usage(tempfile.gettempdir()).free > free_disk - 200 * 1024**2
    assert _memory_available() > free_memory - 1024**3  # other jobs share this machine: a loose bound
    assert seconds < 24 * TIMEOUT  # nowhere near one time limit per submission
    print(f"batch of {len(rows)}: {seconds:.0f} s", file=sys.stderr)
