"""THE one place a trace is encoded for the wire.

Two encodings of each of i, f, g, o, c, h, indexed [layer][direction][t][unit] like `lstm_core.Trace`:
- "json": nested lists of floats; each float is the float32 value exactly (Python's repr round-trips).
- "compact": Plotly.js's typed-array form `{dtype: "u2", bdata, shape}` plus `offset` and `scale`:
  value = offset + q * scale for each little-endian uint16 q, max abs error scale / 2. Values inside
  [0, 1] (the sigmoid gates) use offset 0 and scale 1/65535, an error below 7.7e-6; others span
  [min, max] of their array. Two bytes a value, 2.67 in base64, about 2.0 once gzipped.
- "binary" (the page's): the compact values as raw bytes, not JSON: `binary_bytes`. A little-endian uint32 n, n
  bytes of UTF-8 JSON (the compact body, each array's `bdata` replaced by `byteOffset`), zeros up to a multiple of
  8 bytes, then the arrays' uint16 values: each array's start at its byteOffset, counted from there (8-aligned).
  Two bytes a value and nothing to decode but the dequantization: 2,000 tokens of a 2 x 256 model are 12.3 MB,
  where compact is 16.7 MB of JSON, or 12.2 MB gzipped by 225 ms of the server's CPU (the values themselves do
  not compress: 11.6 MB at best with zlib, measured).
"""
from __future__ import annotations

import base64
from typing import NamedTuple

import numpy as np
from fastapi.responses import Response
from numpy.typing import NDArray

from app.schemas import BINARY_MEDIA
from app.service import Comparison, TraceResult
from app.wirejson import gzip_pieces, pieces
from lstm_core import Model, Predictions, Trace
from lstm_core.errors import overflowed
from lstm_core.views import next_probs

Q_MAX = 65535


def quantized(a: NDArray) -> tuple[NDArray, float, float]:
    """uint16 quantization of one array: (q, offset, scale), value = offset + q * scale, |error| <= scale / 2."""
    if a.size == 0:  # two texts with nothing in common have no aligned positions to compare
        return np.zeros(a.shape, "<u2"), 0.0, 0.0
    lo, hi = float(a.min()), float(a.max())  # NaN propagates through min and max
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise overflowed()
    if lo >= 0.0 and hi <= 1.0:
        offset, scale = 0.0, 1.0 / Q_MAX
    else:
        offset, scale = lo, (hi - lo) / Q_MAX
    x = a.astype(np.float64)  # float64 so the rounding error stays within scale / 2
    if scale > 0:
        x -= offset
        x *= 1.0 / scale
        np.rint(x, out=x)
        np.clip(x, 0, Q_MAX, out=x)
    else:
        x[...] = 0  # a constant array: every value is the offset, exactly
    return x.astype("<u2"), offset, scale


def compact(a: NDArray) -> dict:
    """The compact form of one array: its uint16 quantization in base64."""
    q, offset, scale = quantized(a)
    return {"dtype": "u2", "bdata": base64.b64encode(q.tobytes()).decode("ascii"),
            "shape": list(a.shape), "offset": offset, "scale": scale}


class Raw(NamedTuple):
    """One array of a "binary" answer: its values, written after the JSON head by `binary_bytes`."""

    q: NDArray  # uint16, C order
    offset: float
    scale: float


def encode_values(a: NDArray, encoding: str) -> dict | NDArray | Raw:
    """One (L, D, T, H) array in the requested encoding; for "json" a float64 array that `dumps` writes as
    nested lists (8 bytes a value until then, where a list of Python floats takes 32); for "binary" a Raw."""
    if encoding == "json":
        if not np.isfinite(a).all():
            raise overflowed()
        return np.ascontiguousarray(a, dtype=np.float64)  # float32 -> the float64 of exactly that value
    if encoding == "binary":
        return Raw(*quantized(a))
    return compact(a)


def top_k(preds: Predictions, k: int, labels: tuple[str, ...], start: int = 0) -> dict:
    """The k likeliest outputs at each position from `start` on, likeliest first (ties: lower id first): next
    tokens for a language model, labels for a tagger; `labels` names output j."""
    ids = preds.ids[start:, :k]  # (T - start, k)
    words = [[labels[j] for j in row] for row in ids.tolist()]
    return {"ids": ids.tolist(), "tokens": words, "probs": preds.probs[start:, :k].tolist()}


def next_prob(preds: Predictions, ids: NDArray, oov: list[int], start: int = 0) -> list[float | None]:
    """P(token t | tokens before t) as the model gave it at t-1, for t from `start` on; None at 0 and where t
    is unknown."""
    return [None if np.isnan(p) else p for p in next_probs(preds, ids, oov)[start:].tolist()]


def trace_body(model_id: str, model: Model, r: TraceResult, *, layers: list[int] | None, encoding: str,
               k: int, start: int = 0) -> dict:
    """The /api/trace response body for one traced input (and the clamps applied to it, if any). With `start`
    (service.unchanged_prefix) every per-position field covers positions start..T-1 only: the client holds
    the rest."""
    cfg = model.lstm.config
    tokens, ids, oov, trace, preds = r.tokens.tokens, r.tokens.ids, r.tokens.oov, r.trace, r.preds
    layers = list(range(cfg.num_layers)) if layers is None else layers
    pick = slice(None) if layers == list(range(cfg.num_layers)) else layers
    body = {
        "model": model_id, "tokens": tokens[start:], "ids": ids[start:].tolist(), "oov": oov,
        "oov_chars": list(dict.fromkeys(tokens[t] for t in oov)),
        "spans": [list(s) for s in r.tokens.spans[start:]], "layers": layers, "directions": cfg.num_directions,
        "steps": len(tokens), "hidden_size": cfg.hidden_size, "output_size": cfg.output_size,
        "encoding": encoding,
    }
    for name in Trace.GATES:
        body[name] = encode_values(trace.gate(name)[pick][:, :, start:], encoding)  # (L', D, T - start, H)
    head = model.head
    body["head"] = None if head is None else head.kind
    body["top_k"] = top_k(preds, k, head.labels, start) if preds is not None and k > 0 else None
    classes = r.classes
    body["classes"] = None if classes is None else {"labels": list(head.labels), "probs": classes.tolist()}
    lm = preds is not None and model.predicts_next
    body["next_prob"] = next_prob(preds, ids, oov, start) if lm else [None] * (len(tokens) - start)
    body["cached_prefix"] = r.cached_prefix
    body["start"] = start
    body["interventions"] = [{"layer": iv.layer, "direction": iv.direction, "unit": iv.unit, "quantity": iv.quantity,
                              "value": iv.value, "positions": list(iv.positions or ())} for iv in r.interventions]
    return body


GZIP_MIN_BYTES = 1024  # as the GZip middleware: below this, compression costs more than it saves


def dumps(body: dict) -> bytes:
    """Compact UTF-8 JSON; NumPy arrays become nested lists. orjson, when installed, writes the same numbers
    ten times faster (Python's float repr dominates format=json: 390 vs 36 ms for 600k floats here) and
    straight from the array; both write each float so that it reads back exactly. Large arrays are written
    a block at a time (app/wirejson.py), so that the event loop is never kept from the GIL for long."""
    return b"".join(pieces(body))


def wire_bytes(body: dict, gzip_ok: bool) -> tuple[bytes, bool]:
    """(bytes, gzipped) of a response body: compact JSON, gzipped when accepted and worth it; a "binary" body as
    binary_bytes writes it, never gzipped (its values do not compress)."""
    if body.get("encoding") == "binary":
        return binary_bytes(body), False
    parts = list(pieces(body))
    if gzip_ok and sum(map(len, parts)) >= GZIP_MIN_BYTES:
        return gzip_pieces(parts), True
    return b"".join(parts), False


def binary_bytes(body: dict) -> bytes:
    """A body whose top-level arrays are Raw, in the "binary" encoding (the module's docstring)."""
    head = {k: v for k, v in body.items() if not isinstance(v, Raw)}
    raws = {k: v for k, v in body.items() if isinstance(v, Raw)}
    at = 0
    for k, r in raws.items():
        head[k] = {"dtype": "u2", "shape": list(r.q.shape), "offset": r.offset, "scale": r.scale, "byteOffset": at}
        at = _aligned(at + r.q.nbytes)
    text = dumps(head)
    values = _aligned(4 + len(text))  # where the values begin; each byteOffset counts from there
    parts = [len(text).to_bytes(4, "little"), text, bytes(values - 4 - len(text))]
    for r in raws.values():
        parts += [r.q.tobytes(), bytes(_aligned(r.q.nbytes) - r.q.nbytes)]
    return b"".join(parts)


def _aligned(n: int) -> int:
    return (n + 7) // 8 * 8


def _per_layer(idx: NDArray) -> list[list[int | None]]:
    return [[None if v < 0 else int(v) for v in row] for row in idx.tolist()]


def compare_body(a: dict, b: dict, cmp: Comparison, *, threshold: float, layers: list[int] | None, encoding: str,
                 reason: str | None) -> dict:
    """The /api/compare response: both trace bodies, their alignment and, when the runs are of one shape,
    the difference b - a on aligned positions and where it passes `threshold`."""
    al, d = cmp.alignment, cmp.difference
    body = {"a": a, "b": b, "alignment": {"prefix": al.prefix, "suffix": al.suffix, "pairs": al.pairs.tolist()},
            "comparable": d is not None, "reason": None if d is not None else reason, "threshold": threshold,
            "next_prob_delta": [None if np.isnan(v) else v for v in cmp.next_delta.tolist()]}
    if d is None:
        return {**body, "diff": None, "peak": None, "divergence": None, "last_divergent": None}
    pick = slice(None) if layers is None else layers
    # float64: the difference of two float32 values, exactly as b - a reads on the wire's json values
    body["diff"] = {q: encode_values(d.diff[q][pick], encoding) for q in Trace.GATES}
    body["peak"] = {q: d.peak[q][pick].tolist() for q in Trace.GATES}
    for key, fn in (("divergence", d.divergence), ("last_divergent", d.last_divergent)):
        body[key] = {q: _per_layer(fn(threshold, (q,))[pick]) for q in Trace.GATES}
        body[key]["any"] = _per_layer(fn(threshold)[pick])
    return body


def answer(body: dict) -> Response:
    """A JSON answer of plain data (the corpus routes' `to_json()` results), written by `dumps` like every
    other body; the GZip middleware compresses it."""
    return Response(dumps(body), media_type="application/json")


def wire_response(wire: tuple[bytes, bool], binary: bool = False) -> Response:
    """The Response for `wire_bytes`' (bytes, gzipped): sent as is, neither re-validated nor compressed again on
    the event loop (FastAPI serializes a returned dict there, and the GZip middleware compresses there)."""
    data, gzipped = wire
    headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"} if gzipped else {"Vary": "Accept-Encoding"}
    return Response(data, media_type=BINARY_MEDIA if binary else "application/json", headers=headers)
