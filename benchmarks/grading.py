"""Grading benchmarks for `make bench`: the sandbox's overhead and the throughput.

* ``grading_seconds_per_submission``: grading one master notebook (sandbox start,
  running its cells, calling its functions on every case, judging);
* ``bare_execution_seconds``: the same notebook's code run by a plain ``python``
  with no sandbox, no calls and no judging; their ratio is what grading costs on
  top of merely running the notebook;
* ``submissions_per_minute_jobs2``: a batch of copies graded with ``--jobs 2``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from backprop_lab.exercises import GRADING_ENV

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = "ex08"
BATCH = 8


def measure() -> dict:
    from backprop_lab.exercises import registry
    from backprop_lab.grading import grader

    exercise = registry()[EXERCISE]
    master = ROOT / "solutions" / "en" / exercise.notebook
    cells = grader.read_cells(master)
    code = "\n\n".join(c for c in cells if "import torch" not in c)  # the grader has no torch for ex08 either

    bare = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=tempfile.gettempdir(),
                       env={**os.environ, GRADING_ENV: "1"})  # as in the grader: check() does nothing
        bare.append(time.perf_counter() - start)

    plan = grader.Plan.make(exercise, seed=0)
    graded = []
    for _ in range(3):
        start = time.perf_counter()
        result = grader.grade_one(plan, master, timeout=120)
        graded.append(time.perf_counter() - start)
        assert result["score"] == exercise.max_score, result

    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "subs"
        subs.mkdir()
        for i in range(BATCH):
            shutil.copy(master, subs / f"s{i}.ipynb")
        start = time.perf_counter()
        grader.grade(EXERCISE, subs, Path(tmp) / "out", seed=0, jobs=2, log=lambda *a: None)
        batch = time.perf_counter() - start

    per = statistics.median(graded)
    base = statistics.median(bare)
    return {
        "grading_exercise": EXERCISE,
        "grading_seconds_per_submission": round(per, 3),
        "bare_execution_seconds": round(base, 3),
        "grading_ratio_to_bare_execution": round(per / base, 2),
        "submissions_per_minute_jobs2": round(BATCH * 60 / batch, 1),
    }


if __name__ == "__main__":
    print(measure())
