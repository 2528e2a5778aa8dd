"""`make bench`: how long the notebooks and the book build take, against a floor.

The floor is a kernel start plus importing numpy, torch and matplotlib: no
notebook can run faster. Times on a shared machine are noisy, so read the ratios
(each notebook / floor), which were measured in the same run.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from backprop_lab import notebooks  # noqa: E402


def _bench(name: str):
    """benchmarks/<name>.py, loaded by path (a bare `import widgets` could find another module)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"{name}_bench", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FLOOR_SOURCE = "import numpy, torch, matplotlib.pyplot"


def floor_seconds(repeats: int = 3) -> float:
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "floor.ipynb"
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(FLOOR_SOURCE)]
        nbformat.write(nb, path)
        for _ in range(repeats):
            times.append(notebooks.execute(path, store=False))
    return statistics.median(times)


def book_build_seconds() -> tuple[float, float]:
    """A clean build of the whole book into a temporary folder: seconds and site size in MB."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT), "--path-output", tmp,
             "--builder", "html", "--warningiserror", "--quiet"],
            check=True, stdout=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - start
        html = Path(tmp) / "_build" / "html"
        size = sum(f.stat().st_size for f in html.rglob("*") if f.is_file()) / 1e6
    return seconds, size


def main() -> None:
    floor = floor_seconds()
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "floor_seconds": round(floor, 2),
        "floor_is": f"a kernel start plus `{FLOOR_SOURCE}`",
        "notebooks": {},
    }
    for path in notebooks.book_notebooks(ROOT):
        # The faster of two runs: the first may also pay for cold caches.
        seconds = min(notebooks.execute(path, store=False) for _ in range(2))
        results["notebooks"][str(path.relative_to(ROOT))] = {
            "seconds": round(seconds, 2),
            "ratio_to_floor": round(seconds / floor, 2),
        }
        print(f"{path.relative_to(ROOT)}: {seconds:.1f} s ({seconds / floor:.1f}× floor)")
    build, size = book_build_seconds()
    results["book_build_seconds"] = round(build, 2)
    results["book_build_ratio_to_floor"] = round(build / floor, 2)
    results["site_size_mb"] = round(size, 2)
    results.update(_bench("widgets").measure())
    results.update(_bench("grading").measure())
    out = ROOT / "benchmarks" / "results.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"floor {floor:.1f} s, book build {build:.1f} s, site {size:.1f} MB; "
          f"widget update {results['widget_update_ms_median']:.1f} ms "
          f"({results['widget_update_ratio_to_bare_redraw']:.2f}× a bare redraw), grading "
          f"{results['grading_seconds_per_submission']:.2f} s per submission "
          f"({results['grading_ratio_to_bare_execution']:.1f}× bare execution), "
          f"{results['submissions_per_minute_jobs2']:.0f} per minute with --jobs 2; 24 honest + 6 hostile "
          f"{results['hostile_batch_seconds']:.0f} s against 24 honest alone {results['honest_batch_seconds']:.0f} s "
          f"({results['hostile_batch_ratio']:.2f}×), one sleeping submission {results['sleeping_submission_seconds']:.0f} s; "
          f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    if shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) is None:
        sys.exit("run through `make bench`, which sets up .venv")
    main()
