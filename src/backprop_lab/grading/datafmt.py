"""The data-only format in which values cross the sandbox boundary, both ways.

JSON with arrays written as ``{"__array__": [...], "shape": [...]}`` and dicts of
values as plain objects. Nothing is ever unpickled or evaluated: a submission can
only hand back numbers, and the grader decides what they are worth.
"""

from __future__ import annotations

import json
import math

import numpy as np

from ..testfns import TEST_FUNCTIONS, Fn

MAX_BYTES = 32 * 1024 * 1024  # a larger reply is refused, not parsed
TEXT_CHARS = 200  # of an error message, kept in a reply, a result or a self-check line


class DataError(ValueError):
    """A value that cannot be encoded, or a reply that is not valid data."""


def encode(value):
    if isinstance(value, Fn):
        return {"__function__": value.name, "params": encode(value.params)}
    if isinstance(value, np.ndarray) or type(value).__module__ == "torch":
        arr = np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value)
        if arr.dtype.kind not in "iuf":  # never bool, complex or object
            raise DataError(f"only numeric arrays can be returned, got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
        return {"__array__": [_float(v) for v in arr.reshape(-1)], "shape": list(arr.shape)}
    if isinstance(value, (bool, np.bool_)):
        return bool(value)  # a bool is delivered as a bool, which no numeric answer accepts
    if isinstance(value, (int, float, np.integer, np.floating)):
        return _float(value)
    if isinstance(value, (list, tuple)):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"__dict__": {str(k): encode(v) for k, v in value.items()}}
    if value is None:
        return None
    if isinstance(value, str):
        return {"__str__": value[:1000]}
    raise DataError(f"cannot return a value of type {type(value).__name__}")


def _float(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def _number(v):
    if isinstance(v, str) and v in ("nan", "inf", "-inf"):
        return float(v)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    raise DataError("an array entry is not a number")


def decode(obj):
    """Values from JSON. A function argument (``__function__``) becomes an
    :class:`~backprop_lab.testfns.Fn` only for names the course defines. Anything
    else that is not data of this format, however it fails, raises DataError."""
    try:
        return _decode(obj)
    except DataError:
        raise
    except (RecursionError, MemoryError, ValueError, TypeError, OverflowError) as exc:
        raise DataError(f"not a value of the data-only format ({type(exc).__name__})") from None


def _decode(obj):
    if isinstance(obj, dict) and "__function__" in obj:
        if obj["__function__"] not in TEST_FUNCTIONS:
            raise DataError("unknown function argument")
        return Fn(obj["__function__"], _decode(obj.get("params")))
    if obj is None or isinstance(obj, bool):
        return obj
    if isinstance(obj, (int, float, str)) and not isinstance(obj, bool):
        return _number(obj)
    if isinstance(obj, dict) and len(obj) in (1, 2):
        if "__array__" in obj:
            shape = obj.get("shape")
            if not (isinstance(shape, list) and all(isinstance(s, int) and s >= 0 for s in shape)):
                raise DataError("bad array shape")
            values = obj["__array__"]
            if not isinstance(values, list) or len(values) != math.prod(shape):
                raise DataError("array size does not match its shape")
            return np.array([_number(v) for v in values], dtype=np.float64).reshape(shape)
        if "__tuple__" in obj and isinstance(obj["__tuple__"], list):
            return tuple(_decode(v) for v in obj["__tuple__"])
        if "__dict__" in obj and isinstance(obj["__dict__"], dict):
            return {str(k): _decode(v) for k, v in obj["__dict__"].items()}
        if "__str__" in obj and isinstance(obj["__str__"], str):
            return obj["__str__"]
    raise DataError("not a value of the data-only format")


def dumps(value) -> str:
    return json.dumps(value, allow_nan=False)


def loads(text: str):
    if len(text) > MAX_BYTES:
        raise DataError("reply too large")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise DataError(f"reply is not JSON: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError, OverflowError) as exc:  # too deep, too many digits, ...
        raise DataError(f"reply is not usable JSON ({type(exc).__name__})") from None


def _refuse_constant(name):
    raise DataError(f"bad constant {name}")
