"""Decoding the wire format independently of app/serialize.py, as a client would."""
from __future__ import annotations

import base64
import json

import numpy as np


def decode(x) -> tuple[np.ndarray, float]:
    """(values as float64, max abs quantization error) of one encoded array; error 0 for json lists."""
    if isinstance(x, list):
        return np.array(x, dtype=np.float64), 0.0
    assert x["dtype"] == "u2"
    q = np.frombuffer(base64.b64decode(x["bdata"]), dtype="<u2").reshape(x["shape"])
    return x["offset"] + q.astype(np.float64) * x["scale"], x["scale"] / 2


def unpack(body: bytes) -> dict:
    """A format="binary" answer as the compact one it stands for: each array's uint16 values read from after the
    JSON head at its byteOffset (counted from the first multiple of 8 bytes after the head) into base64 `bdata`."""
    n = int.from_bytes(body[:4], "little")
    answer = json.loads(body[4 : 4 + n].decode("utf-8"))
    values = -(-(4 + n) // 8) * 8
    for x in answer.values():
        if isinstance(x, dict) and "byteOffset" in x:
            at = values + x.pop("byteOffset")
            assert at % 8 == 0  # aligned, so that the page can view the values in place
            x["bdata"] = base64.b64encode(body[at : at + 2 * int(np.prod(x["shape"]))]).decode("ascii")
    return answer
