"""Stored outputs are what every machine computes, and strict nbval still has its teeth.

Two claims, each tested here:

* the stored outputs do not depend on the numeric environment: strict nbval passes
  again with every knob that decides how floating-point sums are ordered set another
  way (OpenBLAS's kernel, PyTorch's CPU code path and its MKL kernel, NumPy's SIMD
  dispatch, the number of threads);
* masking rounding noise (tests/nbval_sanitize.cfg) hides nothing else: a verdict
  that flips, a shape that changes, a loss that moves in a printed digit or a check
  line that disappears still fails strict nbval.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import nbformat
import pytest

PROBE = r"""
import json, threadpoolctl, torch
from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
pools = threadpoolctl.threadpool_info()
print(json.dumps({
    "openblas kernel": [p.get("architecture") for p in pools if p["internal_api"] == "openblas"],
    "BLAS threads": sorted({p["num_threads"] for p in pools}),
    "torch CPU capability": torch.backends.cpu.get_cpu_capability(),
    "torch threads": torch.get_num_threads(),
    "numpy SIMD dispatch": sorted(f for f in __cpu_dispatch__ if __cpu_features__.get(f)),
}))
"""

# OpenBLAS kernels to switch to; the first one that is not this machine's own is used.
OPENBLAS_KERNELS = ["Haswell", "Sandybridge", "Nehalem"]


def _probe(env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _clean_env() -> dict[str, str]:
    knobs = ("OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY", "MKL_ENABLE_INSTRUCTIONS", "NPY_DISABLE_CPU_FEATURES",
             "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    return {k: v for k, v in os.environ.items() if k not in knobs}


@pytest.fixture(scope="module")
def environments() -> tuple[dict, dict, dict[str, str]]:
    """This machine's defaults, the varied settings, and the environment that applies them."""
    default_env = _clean_env()
    default = _probe(default_env)
    threads = "1" if default["torch threads"] > 1 else "2"
    varied_env = dict(
        default_env,
        OPENBLAS_CORETYPE=next(k for k in OPENBLAS_KERNELS if k not in default["openblas kernel"]),
        ATEN_CPU_CAPABILITY="default",           # no SIMD in PyTorch's own kernels
        MKL_ENABLE_INSTRUCTIONS="SSE4_2",        # PyTorch's matrix products: MKL's oldest x86 path
        NPY_DISABLE_CPU_FEATURES=" ".join(default["numpy SIMD dispatch"]),
        OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads, MKL_NUM_THREADS=threads,
    )
    return default, _probe(varied_env), varied_env


def test_the_varied_environment_changes_every_numeric_knob(environments):
    default, varied, _ = environments
    print(f"default: {default}\nvaried:  {varied}")
    for knob in ("openblas kernel", "BLAS threads", "torch CPU capability", "torch threads"):
        assert varied[knob] != default[knob], f"{knob} is {default[knob]} in both environments"
    assert default["numpy SIMD dispatch"], "this CPU has no dispatched SIMD features for NumPy to switch off"
    assert varied["numpy SIMD dispatch"] == []


def test_stored_outputs_hold_under_the_varied_environment(root, environments):
    """The whole strict nbval suite, in a second numeric environment."""
    *_, env = environments
    run = subprocess.run([sys.executable, "-m", "pytest", "book", "-q", "--no-header", "-p", "no:randomly"],
                         cwd=root, env=env, capture_output=True, text=True)
    failed = re.findall(r"^FAILED (\S+::Cell \d+)", run.stdout, re.M)
    assert run.returncode == 0, f"{len(failed)} cells differ: {failed}\n{run.stdout[-6000:]}"
    assert re.search(r"\b\d+ passed\b", run.stdout.splitlines()[-1]), run.stdout[-2000:]


# ---- mutations of stored outputs that strict nbval must catch ----------------------

MUTATED = "book/en/04_softmax_cross_entropy.ipynb"


def _last_digit_up(match) -> str:
    return match[1] + str((int(match[2]) + 1) % 10)


def _mutations(nb) -> dict[int, tuple[str, callable]]:
    """For five code cells (by their index among code cells, as nbval numbers them), what
    is changed and a function that changes the cell's stored stdout that way."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    chosen: set[int] = set()

    def find(pattern):
        for i, cell in enumerate(code):
            text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
            if i not in chosen and re.search(pattern, text, re.M):
                chosen.add(i)
                return i
        raise AssertionError(f"{MUTATED}: no stored output matches {pattern!r}; update this test")

    return {
        find(r"\) PASS$"): ("a verdict that flips", lambda s: re.sub(r"\) PASS$", ") FAIL", s, count=1, flags=re.M)),
        find(r"^shapes: Z \(\d+, \d+\)"): ("a shape that changes",
                                          lambda s: re.sub(r"\((\d+), (\d+)\)", r"(\2, \1)", s, count=1)),
        find(r"L = \d\.\d{6}$"): ("a loss that moves in its last printed digit",
                                  lambda s: re.sub(r"(L = \d\.\d{5})(\d)", _last_digit_up, s, count=1)),
        find(r"(PASS\n.*){3}"): ("a check line that disappears", lambda s: s[: s.rstrip("\n").rfind("\n") + 1]),
        find(r"~\d\.\de-\d\d.*PASS$"): ("rounding noise that changes (masked, so it must still pass)",
                                        lambda s: re.sub(r"~\d\.\d", "~9.9", s)),
    }


def test_strict_nbval_fails_every_real_regression_and_only_those(root, tmp_path):
    nb = nbformat.read(root / MUTATED, as_version=4)
    mutations = _mutations(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    for i, (_, mutate) in mutations.items():
        stream = next(o for o in code[i].outputs if o.get("output_type") == "stream")
        changed = mutate(stream["text"])
        assert changed != stream["text"], f"cell {i}: the mutation changed nothing"
        stream["text"] = changed
    target = tmp_path / "mutated.ipynb"
    nbformat.write(nb, target)

    run = subprocess.run(
        [sys.executable, "-m", "pytest", str(target), "-q", "--no-header", "-p", "no:cacheprovider",
         "-o", "addopts=", "--nbval", "--nbval-current-env",
         "--nbval-sanitize-with", str(root / "tests" / "nbval_sanitize.cfg"), "--rootdir", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True,
    )
    failed = {int(n) for n in re.findall(r"^FAILED \S+::Cell (\d+)", run.stdout, re.M)}
    expected = {i for i, (what, _) in mutations.items() if "must still pass" not in what}
    report = {what: ("failed" if i in failed else "passed") for i, (what, _) in mutations.items()}
    print(report)
    assert failed == expected, f"{report}\n{run.stdout[-4000:]}"
