"""Grade a folder of submitted notebooks into a gradebook.

Each submission runs in its own sandbox (:mod:`.sandbox`) and only hands back the
values its functions return on inputs made here from a fresh seed; those values are
judged here, against torch.autograd and central differences. One broken or hostile
submission never stops the batch, and the submissions are only ever read.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
import secrets
import stat
import tempfile
import unicodedata
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import exercises, i18n
from . import datafmt, sandbox
from .sandbox import SandboxUnavailable  # noqa: F401 (raised by grade())

MAX_NOTEBOOK_BYTES = 20 * 1024**2
STATUSES = ("graded", "not_attempted", "error", "timeout")
TEMPLATES = Path(__file__).resolve().parent / "templates"  # in the Gradescope autograder

TEXT = i18n.table("grader", {
    "malformed": {"en": "The notebook could not be read: {why}", "bn": "নোটবুকটি পড়া যায়নি: {why}"},
    "timeout": {"en": "Grading stopped after {seconds:.0f} s (time limit).",
                "bn": "সময়সীমা পেরিয়ে যাওয়ায় {seconds:.0f} সেকেন্ড পরে মূল্যায়ন থামানো হয়েছে।"},
    "cpu": {"en": "Grading stopped after {seconds:.0f} s of CPU time (CPU-time limit).",
            "bn": "{seconds:.0f} সেকেন্ড CPU সময় ব্যবহারের পরে মূল্যায়ন থামানো হয়েছে (CPU-সময়সীমা)।"},
    "idle": {"en": "Grading stopped: the notebook waited {seconds:.0f} s for nothing (sleeping or blocked).",
             "bn": "মূল্যায়ন থামানো হয়েছে: নোটবুকটি কোনো কিছুর জন্য নয়, অকারণে {seconds:.0f} সেকেন্ড অপেক্ষা করেছে (ঘুমিয়ে বা আটকে ছিল)।"},
    "too_large": {"en": "Grading stopped: reply too large (more than {mb} MB of results).",
                  "bn": "মূল্যায়ন থামানো হয়েছে: উত্তর খুব বড় ({mb} MB-এর বেশি)।"},
    "unprotected": {"en": "This machine graded without: {missing}.", "bn": "এই যন্ত্রে এগুলো ছাড়াই মূল্যায়ন হয়েছে: {missing}।"},
    "grader_error": {"en": "The grader failed on this submission ({error}); tell the instructor.",
                     "bn": "এই জমায় মূল্যায়নকারী নিজেই ব্যর্থ হয়েছে ({error}); শিক্ষককে জানাও।"},
    "timeout_question": {"en": "Did not finish within the time limit.", "bn": "সময়সীমার মধ্যে শেষ হয়নি।"},
    "crashed": {"en": "The notebook stopped before its functions could be called (exit code {code}).",
                "bn": "ফাংশনগুলো ডাকার আগেই নোটবুকটি থেমে গেছে (এক্সিট কোড {code})।"},
    "unreadable_reply": {"en": "Part of the notebook's reply could not be read ({why}).",
                         "bn": "নোটবুকের উত্তরের একাংশ পড়া যায়নি ({why})।"},
    "cell_errors": {"en": "Cells that raised an error: {errors}", "bn": "যেসব সেলে ত্রুটি হয়েছে: {errors}"},
    "seed": {"en": "Graded on fresh random inputs (seed {seed}) and edge cases.",
             "bn": "নতুন র‍্যান্ডম ইনপুট (সিড {seed}) ও বিশেষ কেস দিয়ে মূল্যায়ন করা হয়েছে।"},
})


def _both(key: str, **kw) -> str:
    return i18n.both(TEXT, key, **kw)


@dataclass
class Plan:
    """Everything fixed for one grading run: the exercise, the inputs and the references."""

    exercise: exercises.Exercise
    seed: int
    cases: dict  # qid -> list[Case]
    references: dict  # qid -> list of reference values
    template: list  # the code cells of the student notebook: the instructor's harness

    @classmethod
    def make(cls, exercise: exercises.Exercise, seed: int) -> "Plan":
        rng = np.random.default_rng(seed)
        cases, refs = {}, {}
        for q in exercise.questions:
            cases[q.qid] = q.cases(rng)
            refs[q.qid] = [q.reference(*exercises.as_delivered(c.args)) for c in cases[q.qid]]
        return cls(exercise, seed, cases, refs, template_cells(exercise))

    def job(self, cells: list[str]) -> dict:
        return {
            "template": self.template,
            "cells": cells,
            "no_torch": self.exercise.no_torch,
            "no_helpers": self.exercise.no_helpers,
            "calls": [
                {"qid": q.qid, "function": q.function, "cases": [datafmt.encode(c.args) for c in self.cases[q.qid]]}
                for q in self.exercise.questions
            ],
        }


def template_cells(exercise: exercises.Exercise) -> list[str]:
    """The code cells of the exercise's student notebook (generated from the master, so
    without solutions): the harness the student's solutions are judged in. The Gradescope
    autograder carries it inside the package; a checkout has it in ``exercises/en``."""
    for path in (TEMPLATES / exercise.notebook,
                 Path(__file__).resolve().parents[3] / "exercises" / "en" / exercise.notebook):
        if path.is_file():
            return read_cells(path)
    raise FileNotFoundError(f"the student notebook of {exercise.name} ({exercise.notebook}) is missing: "
                            "run `make exercises`")


def read_cells(path: Path) -> list[str]:
    """The code cells of a submitted notebook; raises ValueError with a reason.

    Never follows a symbolic link, reads only regular files (a FIFO would block) and at
    most MAX_NOTEBOOK_BYTES, and checks the JSON is shaped like a notebook."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ValueError("it is a symbolic link, which the grader never follows") from None
        raise ValueError(f"it cannot be opened ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("it is not a regular file")
        data = f.read(MAX_NOTEBOOK_BYTES + 1)
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise ValueError("the file is larger than 20 MB")
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError(f"not valid notebook JSON ({type(exc).__name__})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError("valid JSON, but not a notebook: no list of cells")
    cells = []
    for i, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict):
            raise ValueError(f"valid JSON, but not a notebook: cell {i} is not an object")
        if cell.get("cell_type") == "code":
            src = cell.get("source", "")
            if isinstance(src, list) and all(isinstance(part, str) for part in src):
                src = "".join(src)
            if not isinstance(src, str):
                raise ValueError(f"valid JSON, but not a notebook: code cell {i} has no text")
            cells.append(src)
    return cells


def _judge_question(q, outcomes, refs, cases, torch_attempted):
    """Score one question: (score, feedback lines in en, in bn, the statuses of its cases)."""
    lines_en, lines_bn, passed, statuses = [], [], 0, []
    for i, (case, ref) in enumerate(zip(cases, refs), 1):
        outcome = outcomes[i - 1] if i - 1 < len(outcomes) and isinstance(outcomes[i - 1], dict) else {}
        status = outcome.get("status") if isinstance(outcome.get("status"), str) else "timeout"
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
            text = exercises.message(key, lang, **fields) if key else i18n.say(TEXT, "timeout_question", lang)
            lines.append(f"{where}: {text}")
    score = q.points * passed / len(cases)
    return round(score, 4), lines_en, lines_bn, statuses


def grade_one(plan: Plan, path: Path, timeout: float, unsafe: bool = False,
              cpu_limit: float = sandbox.CPU_SECONDS) -> dict:
    """Grade one submission; returns its Gradescope-style results dictionary (which says
    which protections were in force). Raises SandboxUnavailable rather than run unprotected."""
    ex = plan.exercise
    base = _base(plan, path.stem, unsafe)
    try:
        cells = read_cells(path)
    except ValueError as exc:
        return _result(base, "error", 0.0, _both("malformed", why=str(exc)), [])
    run = sandbox.run(plan.job(cells), timeout=timeout, unsafe=unsafe, cpu_seconds=cpu_limit)
    # The replies are the submission's: only records of the expected shape are looked at.
    by_qid = {r["qid"]: r for r in run.records if isinstance(r, dict) and isinstance(r.get("qid"), str)}
    cell_errors = next((r["cell_errors"] for r in run.records if isinstance(r, dict) and "cell_errors" in r), [])
    tests, total, statuses = [], 0.0, []
    for q in ex.questions:
        record = by_qid.get(q.qid, {})
        outcomes = record.get("outcomes") if isinstance(record.get("outcomes"), list) else []
        score, en, bn, case_statuses = _judge_question(
            q, outcomes, plan.references[q.qid], plan.cases[q.qid], record.get("torch_attempted") is True
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
    notes = [_both("seed", seed=plan.seed)] + _protection_notes(base)
    if cell_errors and isinstance(cell_errors, list):
        notes.append(_both("cell_errors", errors="; ".join(str(e)[:datafmt.TEXT_CHARS] for e in cell_errors[:5])))
    finished = any(isinstance(r, dict) and r.get("done") is True for r in run.records)
    if run.stopped == "too_large":
        status = "error"
        notes.insert(0, _both("too_large", mb=datafmt.MAX_BYTES // 1024**2))
    elif run.timed_out and not finished:
        status = "timeout"
        if run.stopped == "cpu":
            notes.insert(0, _both("cpu", seconds=run.cpu_seconds))
        elif run.stopped == "idle":
            notes.insert(0, _both("idle", seconds=sandbox.IDLE_SECONDS))
        else:
            notes.insert(0, _both("timeout", seconds=timeout))
    elif not run.records:
        status = "error"
        notes.insert(0, _both("crashed", code=run.exit_code))
    elif any(s in ("returned", "raised") for s in statuses):
        status = "graded"  # some answer was given: it is scored, right or wrong
    elif cell_errors and "not_implemented" not in statuses:
        status = "error"  # its code broke before defining any function (a syntax error, say)
    else:
        status = "not_attempted"  # only stubs, or nothing at all
    if run.reply_error and run.stopped != "too_large":
        notes.append(_both("unreadable_reply", why=run.reply_error[:datafmt.TEXT_CHARS]))
    base["extra_data"]["used"] = {"seconds": round(run.seconds, 2), "cpu_seconds": round(run.cpu_seconds, 2)}
    return _result(base, status, total, "\n\n".join(notes), tests)


def _base(plan: Plan, submission: str, unsafe: bool) -> dict:
    protections = dict(sandbox.protections())
    if unsafe and sandbox.bwrap_path() is None:
        protections["graded with --unsafe-no-sandbox"] = "the submission ran with no isolation"
    return {"extra_data": {"submission": submission, "exercise": plan.exercise.name, "seed": plan.seed,
                           "protections": protections},
            "visibility": "visible"}


def _protection_notes(base: dict) -> list[str]:
    missing = [name for name, ok in base["extra_data"]["protections"].items() if ok is not True]
    return [_both("unprotected", missing="; ".join(missing))] if missing else []


def error_result(plan: Plan, submission: str, why: str, unsafe: bool = False) -> dict:
    """The result of a submission the grader itself could not grade: zero, and why."""
    base = _base(plan, submission, unsafe)
    return _result(base, "error", 0.0, "\n\n".join([_both("grader_error", error=why)] + _protection_notes(base)), [])


def _result(base: dict, status: str, score: float, output: str, tests: list) -> dict:
    """Gradescope's results schema; our status goes in extra_data, which Gradescope keeps."""
    if status not in STATUSES:
        raise ValueError(f"unknown grading status {status!r}")  # a grader bug: fail, never mislabel
    base["extra_data"]["status"] = status
    return {**base, "score": round(score, 4), "output": output, "tests": tests}


_RESERVED = {"grades.csv"}  # what grade() itself writes into the output folder
_UNSAFE_CHARS = set('/\\:*?"<>|~')


def _is_plain(stem: str) -> bool:
    """A name that can be its own folder: no path characters, control characters or
    leading dot, already in NFC form, not something the grader writes itself."""
    return (0 < len(stem) <= 100 and stem == unicodedata.normalize("NFC", stem)
            and not stem.startswith((".", "-", " ")) and not stem.endswith((" ", "."))
            and not any(c in _UNSAFE_CHARS or unicodedata.category(c).startswith("C") for c in stem)
            and stem.casefold() not in _RESERVED)


def result_ids(stems: list[str]) -> dict[str, str]:
    """The results folder of every submission: its own name where that is plain and no
    other name in the batch is the same up to case; otherwise a readable part and a hash
    of the exact name (plain names never contain the ``~`` that precedes a hash, so no
    name can take another's folder)."""
    plain = Counter(unicodedata.normalize("NFC", s).casefold() for s in stems if _is_plain(s))
    ids = {}
    for stem in stems:
        if _is_plain(stem) and plain[stem.casefold()] == 1:
            ids[stem] = stem
        else:
            readable = "".join(c if c.isalnum() or c in "-_" else "_" for c in stem)[:40] or "submission"
            ids[stem] = f"{readable}~{hashlib.sha256(stem.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"
    return ids


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_result(path: Path, result: dict) -> None:
    _write_atomic(path, json.dumps(result, ensure_ascii=False, indent=1))


def submission_paths(submissions: Path) -> list[Path]:
    """Every ``*.ipynb`` directly in the folder, symbolic links included (they are graded
    as errors, never followed); folders and other special files named so are left out."""
    found = []
    for entry in os.scandir(submissions):
        if entry.name.endswith(".ipynb") and (entry.is_symlink() or entry.is_file(follow_symlinks=False)):
            found.append(Path(submissions) / entry.name)
    return sorted(found)


def grade(exercise_name: str, submissions: Path, out: Path, seed: int | None = None,
          timeout: float = sandbox.TIME_LIMIT, jobs: int = 1, force: bool = False, unsafe: bool = False,
          cpu_limit: float = sandbox.CPU_SECONDS, log=print) -> list[dict]:
    """Grade every ``*.ipynb`` directly in ``submissions`` into ``out``; returns the gradebook rows.

    Raises SandboxUnavailable (before grading anything) when there is no sandbox and
    ``unsafe`` is false."""
    exercise = exercises.registry().get(exercise_name)
    if exercise is None:
        raise ValueError(f"unknown exercise {exercise_name!r}; known: {', '.join(sorted(exercises.registry()))}")
    if not submissions.is_dir():
        raise ValueError(f"{submissions} is not a folder")
    sandbox.require_sandbox(unsafe)
    out.mkdir(parents=True, exist_ok=True)
    seed = secrets.randbits(32) if seed is None else seed
    plan = Plan.make(exercise, seed)
    paths = submission_paths(submissions)
    ids = result_ids([p.stem for p in paths])
    todo = [p for p in paths if force or not (out / ids[p.stem] / "results.json").exists()]
    for name, ok in sandbox.protections().items():
        log(f"protection: {name}: {'yes' if ok is True else 'UNAVAILABLE (' + ok + ')'}")
    if unsafe and sandbox.bwrap_path() is None:
        log("WARNING: grading with --unsafe-no-sandbox: submissions run with no isolation")
    log(f"{exercise.name}: {len(paths)} submission(s), {len(paths) - len(todo)} already graded, seed {seed}")
    folder = os.path.realpath(submissions)

    def work(path: Path) -> None:
        try:
            if os.path.dirname(os.path.realpath(path)) != folder and not path.is_symlink():
                raise ValueError("it is not inside the submissions folder")
            result = grade_one(plan, path, timeout, unsafe, cpu_limit)
        except Exception as exc:  # a bug of ours on one submission must not stop the batch
            result = error_result(plan, path.stem, f"{type(exc).__name__}: {str(exc)[:300]}", unsafe)
        write_result(out / ids[path.stem] / "results.json", result)
        log(f"{path.stem}: {result['extra_data']['status']}, {result['score']:g}/{exercise.max_score}")

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(work, todo))
    return write_gradebook(exercise, paths, out)


def spreadsheet_safe(value):
    """A CSV cell that no spreadsheet runs as a formula (OWASP: prefix = + - @ tab CR with ')."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_gradebook(exercise, paths: list[Path], out: Path) -> list[dict]:
    qids = [q.qid for q in exercise.questions]
    ids = result_ids([p.stem for p in paths])
    rows = []
    for path in paths:
        try:
            result = json.loads((out / ids[path.stem] / "results.json").read_text(encoding="utf-8"))
            status = str(result["extra_data"]["status"])
            score = float(result["score"])
            scores = {str(t["name"]).split(":")[0]: float(t["score"]) for t in result.get("tests", [])}
        except (OSError, ValueError, KeyError, TypeError):  # missing or damaged: an error row, never a crash
            status, score, scores = "error", 0.0, {}
        row = {"submission": path.stem, "status": status, "score": score, "max_score": exercise.max_score}
        row.update({qid: scores.get(qid, 0.0) for qid in qids})
        row["results"] = f"{ids[path.stem]}/results.json"
        rows.append(row)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["submission", "status", "score", "max_score", *qids, "results"])
    writer.writeheader()
    writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)
    _write_atomic(out / "grades.csv", buffer.getvalue())
    return rows
