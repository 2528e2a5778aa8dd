"""How fast the widgets respond: one control change, against a bare redraw of the same figure.

`make bench` calls :func:`measure` from run.py; ``python benchmarks/widgets.py`` measures
only the widgets and merges their numbers into benchmarks/results.json.

- ``widget_update_ms_median``: the median time of one change of the explorer's activation control at depth
  60 (the deepest net), cycling through all five activations: compute plus redraw, as a
  learner moving a control waits for it.
- ``widget_update_ratio_to_bare_redraw``: that time over the time to redraw the same
  figure with no computation, by the same render-to-PNG path. Near 1 means the drawing,
  not the network, sets the pace.

The two are measured alternately, so that both see the same load on a shared machine.
The other numbers say where the time goes (compute alone; a seed change, which also
draws new random matrices; one change in the visualizer) and under what load it ran.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from backprop_lab import widgets  # noqa: E402

ACTIVATIONS = widgets.EXPLORER_ACTIVATIONS


def _ms(seconds: list[float]) -> float:
    return round(statistics.median(seconds) * 1e3, 2)


def measure(changes: int = 30) -> dict:
    """Median times in ms of explorer and visualizer updates; see the module docstring."""
    explorer = widgets.gradient_flow_explorer("en", depth=60, activation="sigmoid", init="xavier")
    for activation in ACTIVATIONS:  # warm up: caches, fonts, first draws
        explorer.controls["activation"].value = activation
    update, bare, update_cpu = [], [], []
    for i in range(changes):
        wall, cpu = time.perf_counter(), time.process_time()
        explorer.controls["activation"].value = ACTIVATIONS[i % len(ACTIVATIONS)]
        update.append(time.perf_counter() - wall)
        update_cpu.append(time.process_time() - cpu)
        start = time.perf_counter()
        widgets._png(explorer.figure, explorer.lang)  # the same redraw, nothing recomputed
        bare.append(time.perf_counter() - start)

    compute = []
    for i in range(changes):
        start = time.perf_counter()
        _, _, _, result = widgets.explorer_pass(60, ACTIVATIONS[i % len(ACTIVATIONS)], "xavier")
        result.grad_norms(), result.activation_spread()
        compute.append(time.perf_counter() - start)

    seed = []
    explorer.controls["activation"].value = "tanh"
    for i in range(changes):  # a new seed each time: the random draws are never cached
        start = time.perf_counter()
        explorer.controls["seed"].value = 1000 + i
        seed.append(time.perf_counter() - start)

    visualizer = widgets.backprop_visualizer("en")
    vis = []
    for i in range(changes):
        start = time.perf_counter()
        visualizer.controls["seed"].value = i + 1
        vis.append(time.perf_counter() - start)

    return {
        "widget_update_ms_median": _ms(update),
        "widget_update_ratio_to_bare_redraw": round(statistics.median(update) / statistics.median(bare), 2),
        "widget_bare_redraw_ms_median": _ms(bare),
        "widget_compute_ms_median": _ms(compute),
        "widget_update_cpu_ms_median": _ms(update_cpu),
        "widget_seed_change_ms_median": _ms(seed),
        "visualizer_update_ms_median": _ms(vis),
        "widget_benchmark_is": (f"explorer at depth 60, width 64, batch {widgets.EXPLORER_BATCH}: median of {changes} "
                                "activation changes (cycling all five), each followed by a bare redraw"),
        "widget_load_average": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    numbers = measure()
    for key, value in numbers.items():
        print(f"{key}: {value}")
    out = ROOT / "benchmarks" / "results.json"
    results = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    results.update(numbers)  # keep every other key
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"merged into {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
