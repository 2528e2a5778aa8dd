"""The graded exercises: what each question asks for, and how an answer is judged.

A question names the function the student writes, the inputs it is called with
(random ones from a seed plus edge cases: zeros, ties, large values, batch size 1,
non-square shapes) and a *reference*: the same quantity computed by torch.autograd
or central differences. No expected answers are stored anywhere, so nothing can
leak: the public self-check (:func:`check`) and the grader use the same rules,
the grader with fresh seeds.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re

import numpy as np

from .. import i18n
from ..grading import datafmt
from ..testfns import TEST_FUNCTIONS, Fn  # noqa: F401 (part of this module's interface)
from .core import (  # noqa: F401 (part of this module's interface)
    CASE_LABELS_BN,
    MESSAGES,
    Case,
    Exercise,
    Question,
    describe,
    error_of,
    judge,
    label,
    message,
)

GRADING_ENV = "BACKPROP_LAB_GRADING"
PUBLIC_SEED = 20260101


# ---- the registry and the public self-check -------------------------------------------

def registry() -> dict:
    """Every exercise, found rather than listed: each module ``exNN.py`` of this package
    defines one ``EXERCISE`` (and may define ``LABELS_BN``, the Bengali labels of its cases),
    so adding a module is all it takes to add an exercise."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if re.fullmatch(r"ex\d\d", m.name))
    modules = [importlib.import_module(f"{__name__}.{name}") for name in names]
    for module in modules:  # a module may keep the Bengali labels of its cases beside them
        for text, bn in getattr(module, "LABELS_BN", {}).items():
            if CASE_LABELS_BN.setdefault(text, bn) != bn:
                raise ValueError(f"{module.__name__}: the case label {text!r} has another Bengali label already")
    return {module.EXERCISE.name: module.EXERCISE for module in modules}


def question(qid: str) -> Question:
    exercise = registry().get(qid.split(".")[0])
    for q in exercise.questions if exercise else ():
        if q.qid == qid:
            return q
    raise KeyError(f"no question {qid!r}; questions look like 'ex01.q1'")


def judge_returned(value, want, tol: float) -> tuple[str, dict]:
    """Judge what a function returned exactly as the grader judges it: after the trip
    through the data-only format (so a torch tensor, a NumPy scalar or a list counts
    as the grader would count it, and anything the format refuses is a failure)."""
    try:
        delivered = datafmt.decode(datafmt.loads(datafmt.dumps(datafmt.encode(value))))
    except Exception as exc:  # anything the format refuses (or that breaks while encoding) fails
        return "unreadable", {"why": str(exc)[:datafmt.TEXT_CHARS]}
    return judge(delivered, want, tol)


def as_delivered(args):
    """The arguments as the grader delivers them: through the data-only format, so the
    self-check and the grader call a function with exactly the same kinds of values
    (numbers as floats, fresh arrays that the function may change freely)."""
    return datafmt.decode(datafmt.loads(datafmt.dumps(datafmt.encode(tuple(args)))))


def check(qid: str, function, lang: str = "en") -> bool:
    """Run the public cases of a question on your function and print what passed.

    Prints, for each case, whether your answer matched the reference (autograd or
    central differences) and the measured error; never the expected code. Returns
    True when every case passed.
    """
    i18n.check_lang(lang)
    if os.environ.get(GRADING_ENV):
        return False  # inside the grader, the grader's own cases decide
    q = question(qid)
    cases = q.cases(np.random.default_rng(PUBLIC_SEED))
    passed = 0
    for i, case in enumerate(cases, 1):
        where = message("case", lang, i=i, label=label(case.label, lang))
        try:
            got = function(*as_delivered(case.args))
        except NotImplementedError:
            print(f"{where}: {message('not_implemented', lang)}")
            continue
        except Exception as exc:  # the student's code: any failure is feedback
            print(f"{where}: {message('raised', lang, exc=type(exc).__name__ + ': ' + str(exc)[:datafmt.TEXT_CHARS])}")
            continue
        key, fields = judge_returned(got, q.reference(*as_delivered(case.args)), q.tol)
        passed += key == "passed"
        print(f"{where}: {message(key, lang, **fields)}")
    print(message("summary", lang, qid=qid, passed=passed, total=len(cases)))
    return passed == len(cases)
