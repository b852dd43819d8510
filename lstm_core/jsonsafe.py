"""JSON from files: nesting bounded before parsing, every failure a ModelError.

A 400 KB safetensors header nested 200,000 deep made `json.loads` raise RecursionError, which stopped the
server from starting. `nesting` measures the depth of raw JSON without parsing it (a vectorised scan that
skips strings, a MiB at a time), and `loads` refuses anything deeper than a model file needs.
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from .errors import ModelError

MAX_DEPTH = 64  # gatescope's own metadata nests 5 deep; Keras configs about 12
_CHUNK = 1 << 20
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_STEP = np.zeros(256, np.int8)  # +1 for [ and {, -1 for ] and }
_STEP[list(b"[{")], _STEP[list(b"]}")] = 1, -1


def nesting(raw: bytes) -> int:
    """The deepest nesting of [ and { in raw JSON, outside strings (escaped quotes respected)."""
    depth = deepest = 0
    in_string, backslashes = False, 0  # carried from one chunk to the next
    for start in range(0, len(raw), _CHUNK):
        a = np.frombuffer(raw, np.uint8, count=min(_CHUNK, len(raw) - start), offset=start)
        n = len(a)
        quote = a == _QUOTE
        bs = a == _BACKSLASH
        if backslashes or bs.any():  # a quote after an odd run of backslashes is escaped
            idx = np.arange(n, dtype=np.int32)
            # Index of the last character at or before i that is not a backslash (-1 - backslashes carried in).
            last = np.maximum.accumulate(np.where(bs, np.int32(-1 - backslashes), idx))
            run = np.empty(n, np.int32)  # backslashes right before position i
            run[0] = backslashes
            run[1:] = idx[:-1] - last[:-1]
            quote &= (run & 1) == 0
            backslashes = int(n - 1 - last[-1])
        inside = ((np.cumsum(quote, dtype=np.int32) + in_string) & 1).astype(bool)
        levels = depth + np.cumsum(np.where(inside, 0, _STEP[a]), dtype=np.int64)
        deepest = max(deepest, int(levels.max()))
        depth, in_string = int(levels[-1]), bool(inside[-1])
    return deepest


def loads(raw: bytes | str, what: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON read from a file; a ModelError naming `what` for anything wrong, deep nesting included."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    if nesting(data) > max_depth:
        raise ModelError(f"{what} is JSON nested more than {max_depth} levels deep; no model file needs that, "
                         "so it was not read")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ModelError(f"{what} is not valid JSON") from None
