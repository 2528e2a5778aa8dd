"""Package the grader as a Gradescope autograder, and the entry point it runs there.

The zip holds this package's source, ``setup.sh`` (installs Python packages and
bubblewrap into Gradescope's image) and ``run_autograder``, which grades the one
notebook in ``/autograder/submission`` with the same code as ``backprop-lab grade``
and writes ``/autograder/results/results.json`` in Gradescope's schema.
"""

from __future__ import annotations

import secrets
import zipfile
from pathlib import Path

from .. import exercises
from . import grader, sandbox

GRADER_ERROR_CHARS = 500  # of a fault of the grader itself, for the instructor

SETUP_SH = """#!/usr/bin/env bash
# Runs once when Gradescope builds the autograder image.
set -euo pipefail
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --index-url https://download.pytorch.org/whl/cpu torch
/autograder/venv/bin/pip install /autograder/source
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Runs for every submission. AUTOGRADER_ROOT and AUTOGRADER_PYTHON exist for testing.
root="${{AUTOGRADER_ROOT:-/autograder}}"
python="${{AUTOGRADER_PYTHON:-$root/venv/bin/python}}"
exec "$python" -m backprop_lab gradescope-run {exercise} --submission "$root/submission" --results "$root/results/results.json"{unsafe}
"""


def package(exercise: str, out: Path, project_root: Path, unsafe: bool = False) -> Path:
    """The autograder zip: the package (with the exercise's student notebook, the harness,
    but never a master), setup.sh and run_autograder. ``unsafe`` lets it grade where
    Gradescope's container cannot run the sandbox (every result then says so)."""
    if exercise not in exercises.registry():
        raise ValueError(f"unknown exercise {exercise!r}")
    template = project_root / "exercises" / "en" / exercises.registry()[exercise].notebook
    if not template.is_file():
        raise ValueError(f"{template} is missing: run `make exercises`")
    out.parent.mkdir(parents=True, exist_ok=True)
    package_dir = Path(__file__).resolve().parents[1]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        run_autograder = RUN_AUTOGRADER.format(exercise=exercise, unsafe=" --unsafe-no-sandbox" if unsafe else "")
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", run_autograder)):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16
            z.writestr(info, text)
        z.write(project_root / "pyproject.toml", "source/pyproject.toml")
        z.writestr("source/README.md", "The backprop_lab package, packaged as a Gradescope autograder.\n")
        for path in sorted(package_dir.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and "templates" not in path.parts:
                z.write(path, f"source/src/backprop_lab/{path.relative_to(package_dir)}")
        z.write(template, f"source/src/backprop_lab/grading/templates/{template.name}")
    return out


def run(exercise: str, submission_dir: Path, results: Path, timeout: float = sandbox.TIME_LIMIT, unsafe: bool = False) -> dict:
    """Grade the single notebook Gradescope put in ``submission_dir``.

    A results.json is always written, atomically: first an error result (so that a
    grader killed half-way leaves "error", never a file someone else wrote), then the
    real one, or an error result saying what went wrong (no sandbox, a broken notebook,
    a fault of the grader itself)."""
    plan = None
    try:
        plan = grader.Plan.make(exercises.registry()[exercise], secrets.randbits(32))
        grader.write_result(results, grader.error_result(plan, "", "grading did not finish", unsafe))
        sandbox.require_sandbox(unsafe)
        notebooks = grader.submission_paths(submission_dir) if submission_dir.is_dir() else []
        if len(notebooks) != 1:
            found = ", ".join(p.name for p in notebooks) or "none"
            result = grader.error_result(plan, "", "no single notebook", unsafe)
            result["output"] = (f"Submit exactly one .ipynb notebook (found: {found}).\n"
                                f"ঠিক একটি .ipynb নোটবুক জমা দাও (পাওয়া গেছে: {found})।")
        else:
            result = grader.grade_one(plan, notebooks[0], timeout, unsafe)
    except Exception as exc:  # whatever it is, Gradescope gets a result that says so
        why = f"{type(exc).__name__}: {str(exc)[:GRADER_ERROR_CHARS]}"
        if plan is None:
            result = {"score": 0.0, "output": f"grader error: {why}", "tests": [],
                      "extra_data": {"status": "error", "exercise": exercise}}
        else:
            result = grader.error_result(plan, "", why, unsafe)
    grader.write_result(results, result)
    return result
