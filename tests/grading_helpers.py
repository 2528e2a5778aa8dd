"""What the grading tests share: writing notebooks, reading results, and looking for
anything a sandbox left behind."""

import csv
import json
import os
import tempfile
from pathlib import Path

import nbformat

from backprop_lab.grading import datafmt, sandbox

TIMEOUT = 20  # seconds per submission; generous for a busy 2-core machine
PROTECTIONS = sandbox.protections()
SANDBOXED = PROTECTIONS["sandbox (bubblewrap: no network, private filesystem, PID namespace)"] is True
QUIET = {"log": lambda *a: None}


def write_notebook(path: Path, *cells: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)


def code_cells(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def grades(out: Path) -> dict:
    with open(out / "grades.csv", encoding="utf-8", newline="") as f:
        return {row["submission"]: row for row in csv.DictReader(f)}


def results(out: Path, sid: str) -> dict:
    return json.loads((out / sid / "results.json").read_text(encoding="utf-8"))


def sandbox_processes() -> list[int]:
    """Processes anywhere on this machine that run inside (or escaped from) a sandbox that this
    test process started (its marker says so), whatever other graders run on the machine."""
    found = []
    needle = f"{sandbox.MARKER_ENV}=".encode()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                entries = (proc / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            markers = {e[len(needle):].decode(errors="replace") for e in entries if e.startswith(needle)}
            if markers & sandbox.ISSUED_MARKERS:
                found.append(int(proc.name))
    return found


def staging_leftovers() -> list[str]:
    """This test process's staging folders still on the host (another grader's are not ours)."""
    return sorted(p.name for p in Path(tempfile.gettempdir()).glob(f"{sandbox.STAGING_PREFIX}*"))


def probe(code: str, *, no_torch: bool = True, no_helpers: bool = True, timeout: float = 60, **limits):
    """Run ``code``, which defines ``probe()``, in a sandbox; returns (what probe() returned, the run)."""
    job = {"template": [], "cells": [code], "no_torch": no_torch, "no_helpers": no_helpers,
           "calls": [{"qid": "t.q1", "function": "probe", "cases": [datafmt.encode(())]}]}
    run = sandbox.run(job, timeout=timeout, **limits)
    record = next((r for r in run.records if isinstance(r, dict) and r.get("qid") == "t.q1"), None)
    assert record is not None, run
    outcome = record["outcomes"][0]
    assert outcome["status"] == "returned", outcome
    return datafmt.decode(outcome["value"]), run
