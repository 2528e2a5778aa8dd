"""``backprop-lab``: the command line of the course's maintainers and instructors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import authoring, jupyter_edition, notebooks, parity


def _drift(args) -> int:
    problems = parity.check_all(args.root)
    if not problems:
        print("All translations are current: every Bengali cell matches the English cell it records.")
        return 0
    for problem in problems:
        print(problem)
    stale = sum(p.kind == "stale" for p in problems)
    print(f"\n{len(problems)} problem(s), {stale} stale cell(s). After updating a translation, "
          "record it with: backprop-lab stamp book/bn/NAME.ipynb --cells N [N ...]")
    return 1


def _stamp(args) -> int:
    bn_path = Path(args.notebook)
    parts = list(bn_path.parts)
    if "bn" not in parts:
        print(f"{bn_path} is not in a Bengali edition folder (…/bn/…)", file=sys.stderr)
        return 2
    parts[len(parts) - 1 - parts[::-1].index("bn")] = "en"
    en_path = Path(*parts)
    if not en_path.exists() or not bn_path.exists():
        print(f"both {en_path} and {bn_path} must exist", file=sys.stderr)
        return 2
    if args.cells is None and not args.all:
        print("say which cells you translated (--cells N ...) or --all", file=sys.stderr)
        return 2
    try:
        done = parity.stamp(en_path, bn_path, None if args.all else args.cells)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"stamped {len(done)} cell(s) of {bn_path}")
    return 0


def _sync_setup_cells(root: Path, paths: list[Path]) -> None:
    cell = notebooks.setup_cell(root)
    for path in paths:
        if notebooks.sync_setup_cell(path, cell):
            print(f"updated the setup cell of {path}")


def _setup_cells(args) -> int:
    _sync_setup_cells(args.root, notebooks.book_notebooks(args.root) + notebooks.master_notebooks(args.root))
    return 0


def _refresh(args) -> int:
    paths = [Path(p) for p in args.notebooks] or notebooks.book_notebooks(args.root)
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"no such notebook: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    _sync_setup_cells(args.root, paths)
    for path in paths:
        seconds = notebooks.execute(path)
        print(f"{path}: executed in {seconds:.1f} s")
    # The Jupyter editions carry the stored outputs too: regenerate them in the same act.
    return _jupyter(args)


def _exercises(args) -> int:
    for path in authoring.write(args.root):
        print(f"wrote {path}")
    return 0


def _jupyter(args) -> int:
    try:
        written, removed = jupyter_edition.write(args.root)
    except jupyter_edition.BookOnlyMarkup as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    for path in removed:
        print(f"removed {path} (its chapter is gone)")
    return 0


def _grade(args) -> int:
    from .grading import grader

    try:
        rows = grader.grade(args.exercise, Path(args.submissions), Path(args.out), seed=args.seed,
                            timeout=args.timeout, jobs=args.jobs, force=args.force, unsafe=args.unsafe_no_sandbox,
                            cpu_limit=args.cpu_limit)
    except (ValueError, grader.SandboxUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{len(rows)} submission(s) in {Path(args.out) / 'grades.csv'}")
    return 0


def _gradescope(args) -> int:
    from .grading import gradescope

    try:
        path = gradescope.package(args.exercise, Path(args.out), args.root.resolve(), unsafe=args.unsafe_no_sandbox)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}: upload it as the autograder of a Gradescope programming assignment")
    return 0


def _gradescope_run(args) -> int:
    from .grading import gradescope

    gradescope.run(args.exercise, Path(args.submission), Path(args.results), unsafe=args.unsafe_no_sandbox)
    return 0


def sandbox_defaults() -> dict:
    from .grading.sandbox import CPU_SECONDS, TIME_LIMIT

    return {"cpu": CPU_SECONDS, "time": TIME_LIMIT}


UNSAFE_HELP = ("grade even where the sandbox (bubblewrap) cannot run: submissions then run with NO isolation "
               "and can read, change or break anything the grader can (every result says so)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="backprop-lab", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path("."), help="the repository root (default: .)")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("drift", help="list Bengali cells that are stale, unstamped or structurally different").set_defaults(func=_drift)

    p = sub.add_parser("stamp", help="record that Bengali cells translate the current English cells")
    p.add_argument("notebook", help="the Bengali notebook, e.g. book/bn/01_chain_rule.ipynb")
    p.add_argument("--cells", type=int, nargs="+", help="indices of the cells you translated")
    p.add_argument("--all", action="store_true", help="stamp every cell (only after checking them all)")
    p.set_defaults(func=_stamp)

    sub.add_parser("setup-cells", help="write the Colab setup cell (from _config.yml) into every chapter and master"
                   ).set_defaults(func=_setup_cells)

    p = sub.add_parser("refresh", help="re-execute notebooks in place, storing new outputs")
    p.add_argument("notebooks", nargs="*", help="notebooks to run (default: every notebook of the book)")
    p.set_defaults(func=_refresh)

    sub.add_parser("exercises", help="generate exercises/ (student notebooks) from the masters in solutions/").set_defaults(func=_exercises)

    sub.add_parser("jupyter", help="generate jupyter/ (the chapters without book-only markup, for Jupyter and Colab)"
                   ).set_defaults(func=_jupyter)

    p = sub.add_parser("grade", help="grade a folder of submitted notebooks into OUT/grades.csv")
    p.add_argument("exercise", help="e.g. ex01")
    p.add_argument("submissions", help="a folder; every *.ipynb directly in it is one submission")
    p.add_argument("--out", required=True, help="where grades.csv and one results.json per submission go")
    p.add_argument("--seed", type=int, help="seed of the random test inputs (default: a fresh one, recorded)")
    p.add_argument("--timeout", type=float, default=sandbox_defaults()["time"],
                   help="wall-time limit per submission, seconds (default %(default)g)")
    p.add_argument("--cpu-limit", type=float, default=sandbox_defaults()["cpu"],
                   help="CPU time per submission, all its processes together, seconds (default %(default)g)")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    p.add_argument("--force", action="store_true", help="grade again what was already graded")
    p.add_argument("--unsafe-no-sandbox", action="store_true", help=UNSAFE_HELP)
    p.set_defaults(func=_grade)

    p = sub.add_parser("gradescope", help="package the grader of an exercise as a Gradescope autograder zip")
    p.add_argument("exercise")
    p.add_argument("--out", required=True, help="e.g. autograder.zip")
    p.add_argument("--unsafe-no-sandbox", action="store_true", help=UNSAFE_HELP)
    p.set_defaults(func=_gradescope)

    p = sub.add_parser("gradescope-run", help="(used by run_autograder on Gradescope)")
    p.add_argument("exercise")
    p.add_argument("--submission", required=True)
    p.add_argument("--results", required=True)
    p.add_argument("--unsafe-no-sandbox", action="store_true", help=UNSAFE_HELP)
    p.set_defaults(func=_gradescope_run)

    args = parser.parse_args(argv)
    return args.func(args)
