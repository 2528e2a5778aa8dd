"""Runs inside the sandbox: executes one submission's code cells, then calls the
student's functions on the inputs the grader sent, and streams back only values.

Reads a job (data-only JSON) on stdin; writes one JSON line per question to the
file descriptor given as ``--result-fd``. The student's own printing goes to stdout/stderr, which the grader
discards. Nothing here is trusted by the grader: it checks every value itself.
"""

from __future__ import annotations

import builtins
import os
import sys
import traceback



class _NoTorch:
    """Import hook that refuses PyTorch in questions that forbid it."""

    attempted = False

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            _NoTorch.attempted = True
            raise ImportError("PyTorch is not available in this exercise (NumPy only)")
        return None


class _Shell:
    """Enough of get_ipython() for cells with magics (%matplotlib, !pip) to run as no-ops."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _python_source(cell: str) -> str:
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(cell)
    except Exception:
        return cell


HELPERS = ("compare", "numerical_gradient", "numerical_gradients", "numerical_jacobian", "relative_error")


def _hide_helpers():
    """Questions that ask for a gradient check must not be answered by ours."""
    import backprop_lab
    import backprop_lab.gradcheck as gradcheck

    def refused(*args, **kwargs):
        raise RuntimeError("backprop_lab's gradient-check helpers are not available in this exercise")

    for name in HELPERS:
        setattr(backprop_lab, name, refused)
        setattr(gradcheck, name, refused)


def _exit_refused(*args, **kwargs):
    raise SystemExit("exit is not allowed while grading")


class _Snapshot:
    """The attributes of the modules the runner itself relies on, restored after every
    piece of student code, so that monkeypatching them can only affect the student."""

    def __init__(self, *modules):
        self.saved = [(m, dict(vars(m))) for m in modules]

    def restore(self):
        for module, attrs in self.saved:
            current = vars(module)
            for name in [n for n in current if n not in attrs]:
                del current[name]
            current.update(attrs)


def main() -> None:
    from backprop_lab.grading import datafmt

    result_fd = int(sys.argv[sys.argv.index("--result-fd") + 1])
    job = datafmt.loads(sys.stdin.read())
    out = os.fdopen(result_fd, "w", encoding="utf-8")
    if job.get("no_torch"):
        sys.meta_path.insert(0, _NoTorch())
    if job.get("no_helpers"):
        _hide_helpers()

    def send(record):
        out.write(datafmt.dumps(record) + "\n")
        out.flush()

    # The submission must not end the run before its functions are called.
    import posix

    os._exit = posix._exit = _exit_refused
    import json
    import math

    import numpy

    snapshot = _Snapshot(builtins, numpy, numpy.linalg, json, math, os, posix, datafmt)
    namespace = {"__name__": "__main__", "get_ipython": lambda: _Shell(), "__builtins__": builtins}
    cell_errors = []
    for i, cell in enumerate(job["cells"]):
        try:
            exec(compile(_python_source(cell), f"<cell {i}>", "exec"), namespace)
        except BaseException as exc:  # a broken cell must not stop the others
            cell_errors.append(f"cell {i}: {type(exc).__name__}: {str(exc)[:200]}")
        snapshot.restore()
    send({"cell_errors": cell_errors[:20]})

    for call in job["calls"]:
        fn = namespace.get(call["function"])
        outcomes = []
        for encoded_args in call["cases"]:
            if not callable(fn):
                outcomes.append({"status": "missing"})
                continue
            try:
                value = fn(*datafmt.decode(encoded_args))
                snapshot.restore()
                outcomes.append({"status": "returned", "value": datafmt.encode(value)})
            except NotImplementedError:
                outcomes.append({"status": "not_implemented"})
            except BaseException as exc:
                snapshot.restore()
                last = traceback.extract_tb(exc.__traceback__)[-1:]
                where = f" (line {last[0].lineno})" if last else ""
                outcomes.append({"status": "raised", "error": f"{type(exc).__name__}: {str(exc)[:200]}{where}"})
        send({"qid": call["qid"], "outcomes": outcomes, "torch_attempted": _NoTorch.attempted})
    send({"done": True})


if __name__ == "__main__":
    main()
