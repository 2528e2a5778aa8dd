"""Grade a folder of submitted notebooks into a gradebook.

Each submission runs in its own sandbox (:mod:`.sandbox`) and only hands back the
values its functions return on inputs made here from a fresh seed; those values are
judged here, against torch.autograd and central differences. One broken or hostile
submission never stops the batch, and the submissions are only ever read.
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import exercises
from . import datafmt, sandbox

MAX_NOTEBOOK_BYTES = 20 * 1024**2
STATUSES = ("graded", "not_attempted", "error", "timeout")

TEXT = {
    "malformed": {"en": "The notebook could not be read: {why}", "bn": "নোটবুকটি পড়া যায়নি: {why}"},
    "timeout": {"en": "Grading stopped after {seconds:.0f} s (time limit).", "bn": "সময়সীমা পেরিয়ে যাওয়ায় {seconds:.0f} সেকেন্ড পরে মূল্যায়ন থামানো হয়েছে।"},
    "timeout_question": {"en": "Did not finish within the time limit.", "bn": "সময়সীমার মধ্যে শেষ হয়নি।"},
    "crashed": {"en": "The notebook stopped before its functions could be called.", "bn": "ফাংশনগুলো ডাকার আগেই নোটবুকটি থেমে গেছে।"},
    "cell_errors": {"en": "Cells that raised an error: {errors}", "bn": "যেসব সেলে ত্রুটি হয়েছে: {errors}"},
    "seed": {"en": "Graded on fresh random inputs (seed {seed}) and edge cases.", "bn": "নতুন এলোমেলো ইনপুট (seed {seed}) ও বিশেষ কেস দিয়ে মূল্যায়ন করা হয়েছে।"},
}


def _both(key: str, **kw) -> str:
    return f"{TEXT[key]['en'].format(**kw)}\n{TEXT[key]['bn'].format(**kw)}"


@dataclass
class Plan:
    """Everything fixed for one grading run: the exercise, the inputs and the references."""

    exercise: exercises.Exercise
    seed: int
    cases: dict  # qid -> list[Case]
    references: dict  # qid -> list of reference values

    @classmethod
    def make(cls, exercise: exercises.Exercise, seed: int) -> "Plan":
        rng = np.random.default_rng(seed)
        cases, refs = {}, {}
        for q in exercise.questions:
            cases[q.qid] = q.cases(rng)
            refs[q.qid] = [q.reference(*exercises.as_delivered(c.args)) for c in cases[q.qid]]
        return cls(exercise, seed, cases, refs)

    def job(self, cells: list[str]) -> dict:
        return {
            "cells": cells,
            "no_torch": self.exercise.no_torch,
            "no_helpers": self.exercise.no_helpers,
            "calls": [
                {"qid": q.qid, "function": q.function, "cases": [datafmt.encode(c.args) for c in self.cases[q.qid]]}
                for q in self.exercise.questions
            ],
        }


def read_cells(path: Path) -> list[str]:
    """The code cells of a submitted notebook; raises ValueError with a reason."""
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise ValueError("the file is larger than 20 MB")
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not valid notebook JSON ({type(exc).__name__})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError("no list of cells")
    cells = []
    for cell in nb["cells"]:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            src = cell.get("source", "")
            src = "".join(src) if isinstance(src, list) else src
            if not isinstance(src, str):
                raise ValueError("a code cell has no text")
            cells.append(src)
    return cells


def _judge_question(q, outcomes, refs, cases, torch_attempted):
    """Score one question: (score, feedback lines in en, in bn, the statuses of its cases)."""
    lines_en, lines_bn, passed, statuses = [], [], 0, []
    for i, (case, ref) in enumerate(zip(cases, refs), 1):
        outcome = outcomes[i - 1] if i - 1 < len(outcomes) and isinstance(outcomes[i - 1], dict) else {}
        status = outcome.get("status", "timeout")
        statuses.append(status)
        if status == "returned":
            try:
                key, fields = exercises.judge(datafmt.decode(outcome.get("value")), ref, q.tol)
            except datafmt.DataError:
                key, fields = "structure", {"got": "unreadable data", "want": exercises.describe(ref)}
        elif status == "not_implemented":
            key, fields = "not_implemented", {}
        elif status == "missing":
            key, fields = "missing", {"name": q.function}
        elif status == "raised":
            error = str(outcome.get("error", ""))[:300]
            key, fields = ("torch", {}) if torch_attempted and "torch" in error.lower() else ("raised", {"exc": error})
        else:
            key, fields = None, {}
        passed += key == "passed"
        for lang, lines in (("en", lines_en), ("bn", lines_bn)):
            where = exercises.message("case", lang, i=i, label=exercises.label(case.label, lang))
            text = exercises.message(key, lang, **fields) if key else TEXT["timeout_question"][lang]
            lines.append(f"{where}: {text}")
    score = q.points * passed / len(cases)
    return round(score, 4), lines_en, lines_bn, statuses


def grade_one(plan: Plan, path: Path, timeout: float) -> dict:
    """Grade one submission; returns its Gradescope-style results dictionary."""
    ex = plan.exercise
    base = {"extra_data": {"submission": path.stem, "exercise": ex.name, "seed": plan.seed}, "visibility": "visible"}
    try:
        cells = read_cells(path)
    except (OSError, ValueError) as exc:
        return _result(base, "error", 0.0, _both("malformed", why=str(exc)), [])
    run = sandbox.run(plan.job(cells), timeout=timeout)
    by_qid = {r.get("qid"): r for r in run.records if isinstance(r, dict) and "qid" in r}
    cell_errors = next((r["cell_errors"] for r in run.records if isinstance(r, dict) and "cell_errors" in r), [])
    tests, total, statuses = [], 0.0, []
    for q in ex.questions:
        record = by_qid.get(q.qid, {})
        outcomes = record.get("outcomes") if isinstance(record.get("outcomes"), list) else []
        score, en, bn, case_statuses = _judge_question(
            q, outcomes, plan.references[q.qid], plan.cases[q.qid], bool(record.get("torch_attempted"))
        )
        statuses += case_statuses
        total += score
        tests.append({
            "name": f"{q.qid}: {q.title['en']} · {q.title['bn']}",
            "score": score,
            "max_score": q.points,
            "output": "\n".join(en) + "\n\n" + "\n".join(bn),
            "visibility": "visible",
        })
    notes = [_both("seed", seed=plan.seed)]
    if cell_errors and isinstance(cell_errors, list):
        notes.append(_both("cell_errors", errors="; ".join(str(e)[:200] for e in cell_errors[:5])))
    finished = any(isinstance(r, dict) and r.get("done") for r in run.records)
    if run.timed_out and not finished:
        status = "timeout"
        notes.insert(0, _both("timeout", seconds=timeout))
    elif not run.records:
        status = "error"
        notes.insert(0, _both("crashed"))
    elif any(s in ("returned", "raised") for s in statuses):
        status = "graded"  # some answer was given: it is scored, right or wrong
    elif cell_errors and "not_implemented" not in statuses:
        status = "error"  # its code broke before defining any function (a syntax error, say)
    else:
        status = "not_attempted"  # only stubs, or nothing at all
    return _result(base, status, total, "\n\n".join(notes), tests)


def _result(base: dict, status: str, score: float, output: str, tests: list) -> dict:
    """Gradescope's results schema; our status goes in extra_data, which Gradescope keeps."""
    base["extra_data"]["status"] = status
    return {**base, "score": round(score, 4), "output": output, "tests": tests}


def _safe_id(stem: str) -> str:
    """A folder name for a submission id: the id itself unless it could escape OUT_DIR."""
    if stem in ("", ".", "..") or "/" in stem or "\x00" in stem:
        return "_" + stem.replace("/", "_").replace("\x00", "_")
    return stem


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


def grade(exercise_name: str, submissions: Path, out: Path, seed: int | None = None,
          timeout: float = 120, jobs: int = 1, force: bool = False, log=print) -> list[dict]:
    """Grade every ``*.ipynb`` directly in ``submissions`` into ``out``; returns the gradebook rows."""
    exercise = exercises.registry().get(exercise_name)
    if exercise is None:
        raise ValueError(f"unknown exercise {exercise_name!r}; known: {', '.join(sorted(exercises.registry()))}")
    if not submissions.is_dir():
        raise ValueError(f"{submissions} is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    seed = secrets.randbits(32) if seed is None else seed
    plan = Plan.make(exercise, seed)
    paths = sorted(p for p in submissions.glob("*.ipynb") if p.is_file())
    todo = [p for p in paths if force or not (out / _safe_id(p.stem) / "results.json").exists()]
    for name, ok in sandbox.protections().items():
        log(f"protection: {name}: {'yes' if ok is True else 'UNAVAILABLE (' + ok + ')'}")
    log(f"{exercise.name}: {len(paths)} submission(s), {len(paths) - len(todo)} already graded, seed {seed}")

    def work(path: Path) -> None:
        try:
            result = grade_one(plan, path, timeout)
        except Exception as exc:  # a bug of ours on one submission must not stop the batch
            base = {"extra_data": {"submission": path.stem, "exercise": exercise.name, "seed": seed}, "visibility": "visible"}
            result = _result(base, "error", 0.0, f"grader error: {type(exc).__name__}: {exc}", [])
        _write_atomic(out / _safe_id(path.stem) / "results.json", json.dumps(result, ensure_ascii=False, indent=1))
        log(f"{path.stem}: {result['extra_data']['status']}, {result['score']:g}/{exercise.max_score}")

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(work, todo))
    return write_gradebook(exercise, paths, out)


def write_gradebook(exercise, paths: list[Path], out: Path) -> list[dict]:
    qids = [q.qid for q in exercise.questions]
    rows = []
    for path in paths:
        result_path = out / _safe_id(path.stem) / "results.json"
        result = json.loads(result_path.read_text(encoding="utf-8"))
        row = {"submission": path.stem, "status": result.get("extra_data", {}).get("status", "error"),
               "score": result.get("score", 0.0), "max_score": exercise.max_score}
        scores = {t["name"].split(":")[0]: t["score"] for t in result.get("tests", [])}
        row.update({qid: scores.get(qid, 0.0) for qid in qids})
        rows.append(row)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["submission", "status", "score", "max_score", *qids])
    writer.writeheader()
    writer.writerows(rows)
    _write_atomic(out / "grades.csv", buffer.getvalue())
    return rows
