"""The grader: masters score full marks, student versions zero, and hostile submissions are
graded correctly without affecting each other, the grader or the machine."""

import hashlib
import json
import os
import shutil
import socket
import threading
import uuid
import zipfile
from pathlib import Path

import nbformat
import pytest
from grading_helpers import PROTECTIONS, SANDBOXED, TIMEOUT, code_cells, grades, results, sandbox_processes, write_notebook

from backprop_lab import notebooks
from backprop_lab.exercises import registry
from backprop_lab.grading import grader, gradescope

_write = write_notebook
_grades = grades
_results = results


def _solution_cells(root, exercise="ex01_chain_rule.ipynb"):
    return code_cells(root / "solutions" / "en" / exercise)


def _runner_processes() -> list[int]:
    """Sandbox processes still alive (their environment marks them, wherever they went)."""
    return sandbox_processes()


def test_the_machine_offers_the_sandbox_or_says_so():
    report = PROTECTIONS
    assert report and all(v is True or (isinstance(v, str) and v) for v in report.values()), report
    missing = {k: v for k, v in report.items() if v is not True}
    if missing and not os.environ.get("CI"):
        pytest.skip(f"this machine lacks protections (CI requires them): {missing}")
    # .ci/run installs bubblewrap: in CI every protection must be there.
    assert not missing, missing


@pytest.mark.parametrize("name", sorted(registry()))
def test_masters_score_full_marks_and_student_notebooks_zero(root, tmp_path, name):
    exercise = registry()[name]
    subs = tmp_path / "subs"
    subs.mkdir()
    for lang in ("en", "bn"):
        shutil.copy(root / "solutions" / lang / exercise.notebook, subs / f"master-{lang}.ipynb")
        shutil.copy(root / "exercises" / lang / exercise.notebook, subs / f"student-{lang}.ipynb")
    grader.grade(name, subs, tmp_path / "out", timeout=TIMEOUT * 3, jobs=2, log=lambda *a: None)
    grades = _grades(tmp_path / "out")
    for lang in ("en", "bn"):
        master, student = grades[f"master-{lang}"], grades[f"student-{lang}"]
        assert (master["status"], float(master["score"])) == ("graded", exercise.max_score), _results(tmp_path / "out", f"master-{lang}")
        assert (student["status"], float(student["score"])) == ("not_attempted", 0.0)


@pytest.fixture(scope="module")
def hostile(root, tmp_path_factory):
    """Grade a batch of hostile and broken submissions together with one good one."""
    base = tmp_path_factory.mktemp("hostile")
    subs, out = base / "submissions", base / "out"
    subs.mkdir()
    good = _solution_cells(root)
    marker = Path("/tmp") / f"backprop-lab-escape-{uuid.uuid4().hex}"
    inside_marker = subs / "written-by-a-submission.txt"
    master_path = root / "solutions" / "en" / "ex01_chain_rule.ipynb"

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    connections = []

    def accept():
        while not stop.is_set():
            try:
                connections.append(listener.accept())
            except OSError:
                pass

    stop = threading.Event()
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()

    (subs / "malformed.ipynb").write_text('{"cells": [', encoding="utf-8")
    (subs / "not-a-notebook.ipynb").write_text('["just", "a", "list"]', encoding="utf-8")
    _write(subs / "syntax-error.ipynb", "def mul_backward(x, y, g)\n    return g * y, g * x")
    _write(subs / "missing-function.ipynb", *[c for c in good if "def mul_backward" not in c])
    _write(subs / "wrong-shape.ipynb", *good, "def mul_backward(x, y, g):\n    return (g * y)[..., None], g * x")
    _write(subs / "nan-inf.ipynb", *good, "def mul_backward(x, y, g):\n    return g * np.nan, g * np.inf")
    _write(subs / "infinite-loop.ipynb", *good, "def forever():\n    while True:\n        pass\n\n\n_ = forever()")
    _write(subs / "memory-bomb.ipynb", "hog = bytearray(50 * 1024**3)", "hog = [bytearray(10**8) for _ in range(100)]", *good)
    if PROTECTIONS["process-count limit"] is True:  # never fork-bomb a machine that cannot contain it
        _write(subs / "fork-bomb.ipynb", *good, "import os\n\n\ndef bomb():\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass\n\n\n_ = bomb()")
    _write(
        subs / "monkeypatch.ipynb",
        "import builtins, numpy as np\nnp.allclose = lambda *a, **k: True\nnp.linalg.norm = lambda *a, **k: 0.0\n"
        "builtins.abs = lambda v: 0\nbuiltins.isinstance = lambda *a: True",
        "def mul_backward(x, y, g):\n    return g * x, g * y   # wrong on purpose",
    )
    _write(
        subs / "files-and-network.ipynb",
        f"def read():\n    try:\n        return open({str(master_path)!r}).read()\n    except OSError:\n        return None\n\n\nsecret = read()",
        f"def escape():\n    for target in ({str(marker)!r}, {str(inside_marker)!r}):\n        try:\n            open(target, 'w').write('escaped')\n        except OSError:\n            pass\n\n\n_ = escape()",
        f"import socket\n\n\ndef connect():\n    try:\n        socket.create_connection(('127.0.0.1', {port}), timeout=2)\n        return True\n    except OSError:\n        return False\n\n\nonline = connect()",
        "def mul_backward(x, y, g):\n    if secret is None and not online:\n        raise RuntimeError('isolated')\n    return g * y, g * x",
    )
    _write(subs / "exits.ipynb", "import sys\n_ = sys.exit(0)", "import os\n_ = os._exit(1)", *good)
    _write(subs / "huge-output.ipynb", "import sys\n_ = [sys.stdout.write('x' * 1_000_000) for _ in range(200)]", *good)
    _write(subs / "good ছাত্র.ipynb", *good)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in subs.iterdir()}
    rows = grader.grade("ex01", subs, out, seed=1234, timeout=TIMEOUT, jobs=2, log=lambda *a: None)
    stop.set()
    thread.join()
    listener.close()
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in subs.iterdir()}
    yield {"out": out, "rows": {r["submission"]: r for r in rows}, "before": before, "after": after,
           "marker": marker, "connections": connections, "subs": subs}
    marker.unlink(missing_ok=True)


EXPECTED = {
    # submission: (status, score) with ex01 worth 10 points, q1 worth 2
    "malformed": ("error", 0),
    "not-a-notebook": ("error", 0),
    "syntax-error": ("error", 0),
    "missing-function": ("graded", 8),
    "wrong-shape": ("graded", 8),
    "nan-inf": ("graded", 8),
    "infinite-loop": ("timeout", 0),
    "memory-bomb": ("graded", 10),
    "fork-bomb": ("timeout", 0),
    "monkeypatch": ("graded", 0),
    "files-and-network": ("graded", 0),
    "exits": ("graded", 10),
    "huge-output": ("graded", 10),
    "good ছাত্র": ("graded", 10),
}


@pytest.mark.parametrize("submission", sorted(EXPECTED))
def test_each_hostile_submission_is_graded_correctly(hostile, submission):
    if submission == "fork-bomb" and PROTECTIONS["process-count limit"] is not True:
        pytest.skip("no process-count limit here: the fork bomb was not run")
    if submission == "files-and-network" and not SANDBOXED:
        pytest.skip("no bubblewrap here: filesystem and network isolation not checked")
    row = hostile["rows"][submission]
    assert (row["status"], float(row["score"])) == (EXPECTED[submission][0], float(EXPECTED[submission][1])), \
        _results(hostile["out"], submission)


def test_feedback_says_what_went_wrong_in_both_languages(hostile):
    def q1(sid):
        return next(t for t in _results(hostile["out"], sid)["tests"] if t["name"].startswith("ex01.q1"))["output"]

    assert "returned shape" in q1("wrong-shape") and "আকৃতি" in q1("wrong-shape")
    assert "NaN or infinity" in q1("nan-inf")
    assert "no function named mul_backward" in q1("missing-function")
    assert "isolated" in q1("files-and-network")
    assert "time limit" in _results(hostile["out"], "infinite-loop")["output"]
    assert "not valid notebook JSON" in _results(hostile["out"], "malformed")["output"]


def test_sandbox_keeps_the_machine_and_the_submissions_safe(hostile):
    if not SANDBOXED:
        pytest.skip("bubblewrap is unavailable here: filesystem and network isolation not checked")
    assert not hostile["marker"].exists(), "a submission wrote outside its folder"
    assert not (hostile["subs"] / "written-by-a-submission.txt").exists()
    assert hostile["connections"] == [], "a submission reached the network"
    assert hostile["before"] == hostile["after"], "a submission was modified"
    assert _runner_processes() == [], "a process started by a submission outlived its grading"


def test_results_record_the_seed_and_follow_gradescopes_schema(hostile):
    for sid in hostile["rows"]:
        result = _results(hostile["out"], sid)
        _assert_gradescope_schema(result)
        assert result["extra_data"]["seed"] == 1234
    header = (hostile["out"] / "grades.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "submission,status,score,max_score,ex01.q1,ex01.q2,ex01.q3,ex01.q4,results"


def test_rerun_skips_graded_submissions_unless_forced(hostile, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(hostile["subs"] / "good ছাত্র.ipynb", subs / "a.ipynb")
    out = tmp_path / "out"
    grader.grade("ex01", subs, out, seed=1, timeout=TIMEOUT, log=lambda *a: None)
    first = (out / "a" / "results.json").stat().st_mtime_ns
    logged = []
    grader.grade("ex01", subs, out, seed=2, timeout=TIMEOUT, log=logged.append)
    assert (out / "a" / "results.json").stat().st_mtime_ns == first
    assert any("1 already graded" in line for line in logged)
    grader.grade("ex01", subs, out, seed=3, timeout=TIMEOUT, force=True, log=lambda *a: None)
    assert _results(out, "a")["extra_data"]["seed"] == 3


def test_torch_is_refused_where_the_question_forbids_it(root, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    cheat = """import numpy as np
import torch

def forward(x, params):
    t = {k: torch.tensor(v) for k, v in params.items()}
    a1 = torch.relu(t["W1"] @ torch.tensor(x) + t["b1"])
    a2 = torch.tanh(t["W2"] @ a1 + t["b2"])
    return torch.softmax(t["W3"] @ a2 + t["b3"], dim=0).numpy()
"""
    _write(subs / "uses-torch.ipynb", cheat)
    _write(subs / "imports-torch-inside.ipynb", cheat.replace("import torch\n", "").replace("    t = {", "    import torch\n    t = {"))
    grader.grade("ex08", subs, tmp_path / "out", timeout=TIMEOUT, log=lambda *a: None)
    for sid in ("uses-torch", "imports-torch-inside"):
        result = _results(tmp_path / "out", sid)
        assert result["score"] == 0.0, result
    q1 = _results(tmp_path / "out", "imports-torch-inside")["tests"][0]["output"]
    assert "uses PyTorch, which this question forbids" in q1 and "PyTorch ব্যবহার করেছে" in q1


def test_command_line_grading_reports_bad_arguments(tmp_path, capsys):
    from backprop_lab.cli import main

    assert main(["grade", "ex42", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "unknown exercise" in capsys.readouterr().err
    assert main(["grade", "ex01", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2


def _assert_gradescope_schema(result):
    assert isinstance(result["score"], (int, float))
    assert isinstance(result["output"], str) and isinstance(result["tests"], list)
    for t in result["tests"]:
        assert set(t) >= {"name", "score", "max_score", "output"}
        assert 0 <= t["score"] <= t["max_score"]
    if result["tests"]:
        assert abs(sum(t["score"] for t in result["tests"]) - result["score"]) < 1e-6


def test_gradescope_autograder_runs_a_gradescope_shaped_folder(root, tmp_path):
    import subprocess
    import sys
    import sysconfig

    zip_path = gradescope.package("ex08", tmp_path / "autograder.zip", root)
    with zipfile.ZipFile(zip_path) as z:
        names = set(z.namelist())
        assert {"setup.sh", "run_autograder", "source/pyproject.toml", "source/src/backprop_lab/grading/grader.py",
                "source/src/backprop_lab/grading/templates/ex08_mlp_from_scratch.ipynb"} <= names
        assert not [n for n in names if "solutions" in n], "a master got into the autograder"
        z.extractall(tmp_path / "autograder" / "source_zip")
    ag = tmp_path / "autograder"
    run = ag / "source_zip" / "run_autograder"
    run.chmod(0o755)
    # Install the zip's source as setup.sh does, into an environment of its own that borrows only
    # the third-party packages of this one (a .pth line; this checkout's own editable install is
    # not among them), so that the package that grades is the one the zip carries.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "borrowed.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    str(ag / "source_zip" / "source")], check=True, timeout=300)
    where = subprocess.run([str(python), "-c", "import backprop_lab; print(backprop_lab.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path).stdout.strip()
    assert Path(where).is_relative_to(site), f"the grader imported {where}, not the zip's package"
    for case, notebook, expected in (
        ("master", root / "solutions" / "bn" / "ex08_mlp_from_scratch.ipynb", 10.0),
        ("student", root / "exercises" / "en" / "ex08_mlp_from_scratch.ipynb", 0.0),
    ):
        shutil.rmtree(ag / "submission", ignore_errors=True)
        (ag / "submission").mkdir()
        shutil.copy(notebook, ag / "submission" / "my work.ipynb")
        # The unzipped package, not this checkout's, grades (with the harness the zip carries).
        env = {**os.environ, "AUTOGRADER_ROOT": str(ag), "AUTOGRADER_PYTHON": str(python)}
        env.pop("PYTHONPATH", None)
        subprocess.run([str(run)], env=env, check=True, timeout=300)
        result = json.loads((ag / "results" / "results.json").read_text(encoding="utf-8"))
        _assert_gradescope_schema(result)
        assert result["score"] == expected, (case, result)
    shutil.rmtree(ag / "submission")
    (ag / "submission").mkdir()
    subprocess.run([str(run)], env=env, check=True, timeout=60)
    result = json.loads((ag / "results" / "results.json").read_text(encoding="utf-8"))
    assert result["score"] == 0 and "exactly one" in result["output"]


def test_masters_start_with_the_setup_cell(root):
    from backprop_lab import colab

    expected = colab.setup_cell_source(notebooks.repo_url(root))
    for path in notebooks.master_notebooks(root) + notebooks.exercise_notebooks(root):
        assert nbformat.read(path, as_version=4).cells[0].source == expected, path
