"""JSON written in pieces: the same bytes as one call over the whole body, and no call over a large array."""
from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from app import wirejson


def _whole(body: dict) -> bytes:
    """The reference: one json.dumps call over the whole body (arrays as lists)."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"),
                      default=lambda a: a.tolist()).encode()


@pytest.fixture(params=["orjson", "json"])
def writer(request, monkeypatch):
    """Each JSON writer wirejson may use: orjson when installed, else the standard library."""
    if request.param == "orjson":
        pytest.importorskip("orjson")
    else:
        monkeypatch.setattr(wirejson, "orjson", None)
    return request.param


@pytest.mark.parametrize("shape", [(2, 1, 37, 5), (1, 2, 3, 41), (0, 3), (7,), (100,), (3, 1, 1, 1), (1, 1, 30, 0)])
def test_pieces_join_to_the_whole_bodys_bytes(writer, monkeypatch, shape):
    monkeypatch.setattr(wirejson, "CHUNK_VALUES", 16)  # so that small arrays are split in every way
    rng = np.random.default_rng(0)
    a = rng.normal(size=shape).astype(np.float32).astype(np.float64)
    body = {"tokens": ["a", "我", '"\n'], "x": a, "nested": {"d": a[..., ::-1] if a.ndim else a, "n": None},
            "list": [a, 1.5], "tail": [None, 0.25]}
    assert b"".join(wirejson.pieces(body)) == _whole(body)
    assert json.loads(gzip.decompress(wirejson.gzip_pieces(list(wirejson.pieces(body))))) == json.loads(_whole(body))


def test_no_call_writes_more_than_a_chunk_of_a_large_array(writer, monkeypatch):
    """What keeps the event loop answering: a 2,000-token format=json trace is written in short calls."""
    seen = []
    one = wirejson.dumps_one

    def counted(value):
        seen.append(value.size if isinstance(value, np.ndarray) else 0)
        return one(value)

    monkeypatch.setattr(wirejson, "dumps_one", counted)
    a = np.random.default_rng(1).normal(size=(2, 1, 2000, 256))  # (L, D, T, H)
    body = {g: a for g in "ifgoch"}
    text = b"".join(wirejson.pieces(body))
    assert max(seen) <= wirejson.CHUNK_VALUES and len(seen) >= 6 * a.size // wirejson.CHUNK_VALUES
    assert np.array_equal(np.array(json.loads(text)["h"]), a)
