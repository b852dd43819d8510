"""JSON written a piece at a time, so that no single call holds the GIL for long.

A trace answer in format=json is up to ~60 MB of text (2,000 tokens of a 2 x 256 model). orjson writes it in one
C call that never releases the GIL: 1.2 s during which the event loop (and /api/health with it) could not run
a line. Here every NumPy array of more than CHUNK_VALUES values is written as a sequence of blocks of rows, each
one short call; between two calls the interpreter hands the GIL to a thread that asked for it. The bytes are
the same as one orjson.dumps (or json.dumps) of the whole body: each block is the whole's text for those rows.

    parts = pieces(body)        # bytes pieces, in order; b"".join(parts) is the body's compact JSON
    gzip_pieces(parts)          # the same gzipped, a piece at a time (zlib releases the GIL while it deflates)
"""
from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np

try:
    import orjson
except ImportError:  # optional: json.dumps writes the same numbers, slower
    orjson = None

# Values written per call: about 1 ms of orjson on a quiet core (~60 ns a float64), so the event loop waits
# at most about that long (plus the interpreter's switch interval) for the GIL.
CHUNK_VALUES = 16_384


def dumps_one(value: Any) -> bytes:
    """Compact UTF-8 JSON of a value without large arrays in it; NumPy arrays become nested lists."""
    if orjson is not None:  # orjson writes C-contiguous arrays itself and hands others to `default`
        return orjson.dumps(value, default=_tolist, option=orjson.OPT_SERIALIZE_NUMPY)
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_tolist).encode()


def _tolist(a: Any) -> Any:
    if isinstance(a, np.ndarray):
        return a.tolist()
    raise TypeError(f"{type(a).__name__} is not JSON serializable")


def _large(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return value.size > CHUNK_VALUES
    if isinstance(value, dict):
        return any(_large(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_large(v) for v in value)
    return False


def _array(a: np.ndarray) -> Iterator[bytes]:
    """A large array as blocks of whole rows (a row: a[i], itself split when larger than a block)."""
    a = np.ascontiguousarray(a)  # (N, ...) orjson writes C-contiguous arrays only
    if a.size <= CHUNK_VALUES:
        yield dumps_one(a)
        return
    row = a.size // len(a)  # values in a[i]; size > CHUNK_VALUES > 0 so len(a) > 0 and row > 0
    yield b"["
    if row > CHUNK_VALUES:
        for i in range(len(a)):
            if i:
                yield b","
            yield from _array(a[i])
    else:
        step = CHUNK_VALUES // row
        for i in range(0, len(a), step):
            text = dumps_one(a[i : i + step])  # "[r_i,...,r_j]": the rows without their brackets are the whole's
            yield (b"," if i else b"") + text[1:-1]
    yield b"]"


def pieces(value: Any) -> Iterator[bytes]:
    """The compact JSON of `value` in pieces, each written by one short call."""
    if not _large(value):
        yield dumps_one(value)
    elif isinstance(value, np.ndarray):
        yield from _array(value)
    elif isinstance(value, dict):
        yield b"{"
        for n, (k, v) in enumerate(value.items()):
            yield (b"," if n else b"") + dumps_one(k) + b":"
            yield from pieces(v)
        yield b"}"
    else:  # a list or tuple holding a large array
        yield b"["
        for n, v in enumerate(value):
            if n:
                yield b","
            yield from pieces(v)
        yield b"]"


def gzip_pieces(parts: list[bytes]) -> bytes:
    """gzip with deflate's run-length strategy (base64 text has few long matches for LZ77 to find, so RLE plus
    Huffman coding is four times faster than level 1 and no larger), fed a piece at a time; each piece is
    dropped from `parts` once compressed, so the text and its gzip are never both held whole."""
    z = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS, 8, zlib.Z_RLE)  # 16+: a gzip header
    out = []
    for n in range(len(parts)):
        out.append(z.compress(parts[n]))
        parts[n] = b""
    out.append(z.flush())
    return b"".join(out)
