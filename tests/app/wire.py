"""Decoding the wire format independently of app/serialize.py, as a client would."""
from __future__ import annotations

import base64

import numpy as np


def decode(x) -> tuple[np.ndarray, float]:
    """(values as float64, max abs quantization error) of one encoded array; error 0 for json lists."""
    if isinstance(x, list):
        return np.array(x, dtype=np.float64), 0.0
    assert x["dtype"] == "u2"
    q = np.frombuffer(base64.b64decode(x["bdata"]), dtype="<u2").reshape(x["shape"])
    return x["offset"] + q.astype(np.float64) * x["scale"], x["scale"] / 2
