"""Package the grader as a Gradescope autograder, and the entry point it runs there.

The zip holds this package's source, ``setup.sh`` (installs Python packages and
bubblewrap into Gradescope's image) and ``run_autograder``, which grades the one
notebook in ``/autograder/submission`` with the same code as ``backprop-lab grade``
and writes ``/autograder/results/results.json`` in Gradescope's schema.
"""

from __future__ import annotations

import json
import secrets
import zipfile
from pathlib import Path

from .. import exercises
from . import grader

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
exec "$python" -m backprop_lab gradescope-run {exercise} --submission "$root/submission" --results "$root/results/results.json"
"""


def package(exercise: str, out: Path, project_root: Path) -> Path:
    if exercise not in exercises.registry():
        raise ValueError(f"unknown exercise {exercise!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    package_dir = Path(__file__).resolve().parents[1]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER.format(exercise=exercise))):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16
            z.writestr(info, text)
        z.write(project_root / "pyproject.toml", "source/pyproject.toml")
        z.writestr("source/README.md", "The backprop_lab package, packaged as a Gradescope autograder.\n")
        for path in sorted(package_dir.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                z.write(path, f"source/src/backprop_lab/{path.relative_to(package_dir)}")
    return out


def run(exercise: str, submission_dir: Path, results: Path, timeout: float = 300) -> dict:
    """Grade the single notebook Gradescope put in ``submission_dir``."""
    notebooks = sorted(submission_dir.glob("*.ipynb")) if submission_dir.is_dir() else []
    if len(notebooks) != 1:
        found = ", ".join(p.name for p in notebooks) or "none"
        result = {
            "score": 0.0,
            "output": f"Submit exactly one .ipynb notebook (found: {found}).\n"
                      f"ঠিক একটি .ipynb নোটবুক জমা দাও (পাওয়া গেছে: {found})।",
            "tests": [],
            "extra_data": {"status": "error", "exercise": exercise},
        }
    else:
        plan = grader.Plan.make(exercises.registry()[exercise], secrets.randbits(32))
        result = grader.grade_one(plan, notebooks[0], timeout)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return result
