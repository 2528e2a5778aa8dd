"""Grading benchmarks for `make bench`: the sandbox's overhead and the throughput.

* ``grading_seconds_per_submission``: grading one master notebook (sandbox start,
  running its cells, calling its functions on every case, judging);
* ``bare_execution_seconds``: the same notebook's code run by a plain ``python``
  with no sandbox, no calls and no judging; their ratio is what grading costs on
  top of merely running the notebook;
* ``submissions_per_minute_jobs2``: a batch of copies graded with ``--jobs 2``;
* ``hostile_batch_seconds`` against ``honest_batch_seconds``: 24 honest ex01
  submissions with 6 hostile ones among them (the six of the batch test: sleeping,
  burning every CPU, filling the disk, flooding files, holding the result channel
  open, crashing the decoder), against the same 24 alone, both with ``--jobs 2`` and
  the default limits (time, CPU, idle); their ratio is what the hostile ones cost;
* ``sleeping_submission_seconds``: grading one submission that sleeps forever
  (stopped by the idle limit, long before the time limit).
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
    hostile = hostile_batch()
    return {
        "grading_exercise": EXERCISE,
        "grading_seconds_per_submission": round(per, 3),
        "bare_execution_seconds": round(base, 3),
        "grading_ratio_to_bare_execution": round(per / base, 2),
        "submissions_per_minute_jobs2": round(BATCH * 60 / batch, 1),
        **hostile,
    }


def _load_tests_module(name: str):
    import importlib.util

    sys.path.insert(0, str(ROOT / "tests"))  # the batch test's submissions, and its helpers
    spec = importlib.util.spec_from_file_location(f"{name}_for_bench", ROOT / "tests" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def hostile_batch() -> dict:
    """The batch test's 24 honest and 6 hostile submissions, graded with the default limits."""
    from backprop_lab.grading import grader

    hostile_tests = _load_tests_module("test_grading_hostile")
    quiet = {"log": lambda *a: None}
    with tempfile.TemporaryDirectory() as tmp:
        clean, mixed, sleeper = Path(tmp) / "clean", Path(tmp) / "mixed", Path(tmp) / "sleeper"
        hostile_tests.write_batches(ROOT, clean, mixed, "bench")
        sleeper.mkdir()
        hostile_tests.write_notebook(sleeper / "sleeps.ipynb", *hostile_tests.HOSTILE["sleeps-forever"])

        def timed(folder, out):
            start = time.perf_counter()
            rows = grader.grade("ex01", folder, Path(tmp) / out, seed=0, jobs=2, **quiet)
            return time.perf_counter() - start, {r["submission"]: r["score"] for r in rows}

        honest_seconds, alone = timed(clean, "out-clean")
        hostile_seconds, together = timed(mixed, "out-mixed")
        assert {k: together[k] for k in alone} == alone, "a hostile submission changed an honest score"
        sleeping_seconds, _ = timed(sleeper, "out-sleeper")
    return {
        "honest_batch_seconds": round(honest_seconds, 1),
        "hostile_batch_seconds": round(hostile_seconds, 1),
        "hostile_batch_ratio": round(hostile_seconds / honest_seconds, 2),
        "sleeping_submission_seconds": round(sleeping_seconds, 1),
    }


if __name__ == "__main__":
    print(measure())
