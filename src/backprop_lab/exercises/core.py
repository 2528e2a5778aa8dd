"""What a graded question is (cases, reference, tolerance), the feedback in both
languages, and how one returned value is judged. The question modules (``exNN.py``)
import from here; the registry and the public self-check are in the package's
``__init__``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import i18n


@dataclass(frozen=True)
class Case:
    label: str  # what the case probes: "random", "zeros", "ties", "batch size 1", ...
    args: tuple


@dataclass(frozen=True)
class Question:
    qid: str  # "ex01.q1"
    function: str  # the name the student's notebook must define
    points: int
    title: dict  # {"en": ..., "bn": ...}
    cases: Callable[[np.random.Generator], list]  # -> list[Case]
    reference: Callable  # the same arguments -> the correct value (autograd / central differences)
    tol: float = 1e-7
    no_torch: bool = False  # the answer must not use PyTorch (the grader hides it)
    no_helpers: bool = False  # the answer must not call backprop_lab's gradient-check helpers


@dataclass(frozen=True)
class Exercise:
    name: str  # "ex01"
    notebook: str  # file name in solutions/ and exercises/
    questions: tuple

    @property
    def max_score(self) -> int:
        return sum(q.points for q in self.questions)

    @property
    def no_torch(self) -> bool:
        return any(q.no_torch for q in self.questions)

    @property
    def no_helpers(self) -> bool:
        return any(q.no_helpers for q in self.questions)


# ---- judging one value ----------------------------------------------------------------

MESSAGES = i18n.table("exercise feedback", {
    "passed": {"en": "passed", "bn": "মিলেছে"},
    "mismatch": {"en": "relative error {err:.1e} (allowed {tol:.0e})", "bn": "আপেক্ষিক ত্রুটি {err:.1e} (সর্বোচ্চ {tol:.0e} চলবে)"},
    "shape": {"en": "returned shape {got}, expected shape {want}", "bn": "ফেরত দেওয়া আকৃতি {got}, প্রত্যাশিত আকৃতি {want}"},
    "structure": {"en": "returned {got}, expected {want}", "bn": "ফেরত দিয়েছ {got}, প্রত্যাশিত {want}"},
    "nonfinite": {"en": "returned NaN or infinity", "bn": "ফলাফলে NaN বা অসীম মান আছে"},
    "bad_reference": {"en": "the reference answer is not finite: a problem of the grader, not of your answer (tell the instructor)",
                      "bn": "সঠিক উত্তরটি সসীম নয়: এটি মূল্যায়নকারীর সমস্যা, তোমার উত্তরের নয় (শিক্ষককে জানাও)"},
    "unreadable": {"en": "returned something that is not numbers ({why})", "bn": "সংখ্যা নয় এমন কিছু ফেরত দিয়েছে ({why})"},
    "raised": {"en": "raised {exc}", "bn": "ত্রুটি দেখা দিয়েছে: {exc}"},
    "not_implemented": {"en": "not answered yet (NotImplementedError)", "bn": "এখনও উত্তর লেখা হয়নি (NotImplementedError)"},
    "missing": {"en": "no function named {name} is defined", "bn": "{name} নামে কোনো ফাংশন সংজ্ঞায়িত নেই"},
    "torch": {"en": "uses PyTorch, which this question forbids", "bn": "PyTorch ব্যবহার করেছে, যা এই প্রশ্নে নিষেধ"},
    "case": {"en": "case {i} ({label})", "bn": "কেস {i} ({label})"},
    "summary": {"en": "{qid}: {passed}/{total} cases passed", "bn": "{qid}: {total}টি কেসের মধ্যে {passed}টি মিলেছে"},
})


CASE_LABELS_BN = {
    "random": "র‍্যান্ডম ইনপুট",
    "non-square": "অবর্গাকার আকৃতি",
    "zeros": "শূন্য",
    "one entry": "একটিমাত্র উপাদান",
    "some ties": "কয়েকটি সমান মান",
    "all tied": "সব মান সমান",
    "one input": "একটিমাত্র ইনপুট",
    "saturated tanh": "সম্পৃক্ত tanh",
    "zero input, zero biases (ReLU at 0)": "শূন্য ইনপুট, শূন্য বায়াস (0-তে ReLU)",
    "large logits": "বড় লজিট",
    "batch of 8": "8টি উদাহরণের ব্যাচ",
    "batch size 1": "ব্যাচের আকার 1",
    "large logits, batch of 5": "বড় লজিট, 5টি উদাহরণের ব্যাচ",
    # ex02
    "square shapes": "বর্গাকার আকৃতি",
    "one output": "একটিমাত্র আউটপুট",
    "some exact zeros": "কয়েকটি মান ঠিক শূন্য",
    "the same map twice": "একই ম্যাপ দুবার",
    "no gradient from the second map": "দ্বিতীয় ম্যাপ থেকে কোনো গ্রেডিয়েন্ট নেই",
    # ex03
    "depth 1 (no hidden layer)": "গভীরতা 1 (কোনো লুকানো স্তর নেই)",
    "depth 2": "গভীরতা 2",
    "depth 3": "গভীরতা 3",
    "depth 4": "গভীরতা 4",
    "depth 5": "গভীরতা 5",
    "soft targets": "নরম লক্ষ্য (0 আর 1-এর মাঝের মান)",
    "nearly equal": "প্রায় সমান",
    "tiny values": "খুব ছোট মান",
    "equal arrays": "হুবহু সমান অ্যারে",
    "one of them zero": "একটি অ্যারে শূন্য",
    "both zero": "দুটিই শূন্য",
    "2-D input": "2-D ইনপুট",
    "quadratic function": "দ্বিঘাত ফাংশন",
    # ex04
    "one class": "একটিমাত্র শ্রেণি",
    "two classes": "দুটি শ্রেণি",
    "batch of 6": "6টি উদাহরণের ব্যাচ",
    "large positive logits": "বড় ধনাত্মক লজিট",
    "large negative logits": "বড় ঋণাত্মক লজিট",
    # ex05
    "2-D weights": "2-D ওজন",
    "no weight decay": "ওজন ক্ষয় নেই",
    "zero gradient (decay only)": "শূন্য গ্রেডিয়েন্ট (শুধু ক্ষয়)",
    "one step": "একটি ধাপ",
    "2-D weights, several steps": "2-D ওজন, কয়েকটি ধাপ",
    "many steps": "অনেকগুলো ধাপ",
    "zero steps": "শূন্য ধাপ (k = 0)",
    "on the threshold": "ঠিক সীমার ওপর",
    "no penalty": "কোনো জরিমানা নেই",
    "first step": "প্রথম ধাপ",
    "later step": "পরের দিকের একটি ধাপ",
    "gradients of different scales": "ভিন্ন ভিন্ন মাপের গ্রেডিয়েন্ট",
    "other hyper-parameters": "অন্য হাইপারপ্যারামিটার",
    "zero gradient": "শূন্য গ্রেডিয়েন্ট",
    # ex07
    "large inputs (saturated sigmoid)": "বড় ইনপুট (সম্পৃক্ত সিগময়েড)",
    "beta = 1 (SiLU)": "beta = 1 (অর্থাৎ SiLU)",
    "negative beta": "ঋণাত্মক beta",
    "large beta (close to ReLU)": "বড় beta (প্রায় ReLU)",
    "SiLU, 2-D input": "SiLU, 2-D ইনপুট",
    "ScaledSiLU, negative beta": "ScaledSiLU, ঋণাত্মক beta",
    "Swish (x and beta)": "Swish (x আর beta দুটিরই সাপেক্ষে)",
    "Swish, 2-D input": "Swish, 2-D ইনপুট",
    # ex09
    "no dropout (p = 0)": "ড্রপআউট নেই (p = 0)",
    "all units dropped": "সব নিউরন বাদ পড়েছে",
    "evaluation mode": "মূল্যায়ন মোড",
    "evaluation mode, 2-D input": "মূল্যায়ন মোড, 2-D ইনপুট",
    "the training set itself": "প্রশিক্ষণ সেটটি নিজেই",
    "a constant feature": "একটি ধ্রুবক বৈশিষ্ট্য",
    "large offsets": "বড় ধ্রুবক যোগ করে সরানো মান",
    "large epsilon": "বড় epsilon",
    "two features": "দুটি বৈশিষ্ট্য",
    "a constant row": "একটি ধ্রুবক সারি",
    # names and formulas read the same in both editions, but are listed so that none is forgotten
    "SiLU": "SiLU",
    "ScaledSiLU": "ScaledSiLU",
    "beta = 0": "beta = 0",
    "p = 0.9": "p = 0.9",
}


def label(text: str, lang: str) -> str:
    """A case's label in the reader's language."""
    i18n.check_lang(lang)
    return CASE_LABELS_BN.get(text, text) if lang == "bn" else text


def message(key: str, lang: str, **kw) -> str:
    return i18n.say(MESSAGES, key, lang, **kw)


def describe(value) -> str:
    if type(value) is np.ndarray:
        return f"array{value.shape}"
    if isinstance(value, (tuple, list)):
        return f"{len(value)} values"
    if isinstance(value, dict):
        return "{" + ", ".join(sorted(value)) + "}"
    return type(value).__name__


def _numeric_leaf(value):
    """A returned number or array as float64, or None when it is not one.

    Exact types only (as the data-only format delivers them): a bool, a complex
    number, a string, an object array or an ndarray subclass is never a number here.
    """
    if type(value) in (float, int):
        return np.asarray(float(value))
    if type(value) is np.ndarray and value.dtype.kind in "fiu":
        return value.astype(np.float64)
    if type(value) in (tuple, list) and _only_numbers(value):  # a list of numbers for an array
        try:
            return np.array(value, dtype=np.float64)
        except ValueError:  # ragged
            return None
    return None


def _only_numbers(value, depth: int = 0) -> bool:
    if type(value) in (tuple, list):
        return depth < 32 and all(_only_numbers(v, depth + 1) for v in value)
    return type(value) in (float, int)


def error_of(got: np.ndarray, want: np.ndarray) -> float:
    """The judged error of one array: ``max|got - want| / max(max|got|, max|want|)``.

    The largest entry decides, so one wrong entry among a thousand counts in full
    (a norm over the whole array would dilute it by about the square root of the
    size). Both arrays are divided by the scale before they are subtracted, so
    nothing can overflow: finite inputs give a finite error of at most 2. Two
    all-zero arrays agree exactly (0). Non-finite inputs give infinity.
    """
    if not (np.all(np.isfinite(got)) and np.all(np.isfinite(want))):
        return float("inf")
    if got.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(got))), float(np.max(np.abs(want))))
    if scale == 0.0:
        return 0.0
    return float(np.max(np.abs(got / scale - want / scale)))


def judge(got, want, tol: float) -> tuple[str, dict]:
    """Compare a returned value with the reference; returns (message key, fields).

    Fails closed: a case passes only through the one explicit check below, that
    the error is a finite number no larger than ``tol``; anything unexpected (a
    wrong type, a NaN, a non-finite reference) is a failure, never a pass.
    """
    if isinstance(want, tuple):
        if type(got) not in (tuple, list) or len(got) != len(want):
            return "structure", {"got": describe(got), "want": describe(want)}
        for g, w in zip(got, want):
            verdict = judge(g, w, tol)
            if verdict[0] != "passed":
                return verdict
        return "passed", {}
    if isinstance(want, dict):
        if type(got) is not dict or set(got) != set(want):
            return "structure", {"got": describe(got), "want": describe(want)}
        for key in sorted(want):
            verdict = judge(got[key], want[key], tol)
            if verdict[0] != "passed":
                return verdict
        return "passed", {}
    g = _numeric_leaf(got)
    if g is None:
        return "structure", {"got": describe(got), "want": describe(want)}
    w = np.asarray(want, dtype=np.float64)
    if g.shape != w.shape:
        return "shape", {"got": g.shape, "want": w.shape}
    if not np.all(np.isfinite(g)):
        return "nonfinite", {}
    if not np.all(np.isfinite(w)):
        return "bad_reference", {}
    err = error_of(g, w)
    if math.isfinite(err) and err <= tol:
        return "passed", {}
    return "mismatch", {"err": err, "tol": tol}
