"""The trace as files to download: CSV in long format and NumPy .npz, beside the JSON of /api/trace.

CSV: one row per value, columns layer, direction, t, token, unit, quantity, value (a header row first), in
the order layer, direction, t, quantity, unit. Each value is written as Python writes the float of the
model's float32 (or float64) exactly (repr), so float32(float(cell)) gives the value back bit for bit. The
token column holds the token as typed (quoted by the csv module when it needs to be); a spreadsheet may read
a token such as "=" or "+" as the start of a formula, so open the file as text there. Rows are produced as
the response is sent, a block at a time, so a long text never sits in memory as one string.

.npz (numpy.savez, no pickles: np.load(..., allow_pickle=False) reads it): i, f, g, o, c, h in the model's
dtype (float32 for every shipped model), [layer][direction][t][unit] for the layers requested; `layers`,
`tokens` (unicode), `ids`, `next_prob` (NaN where undefined), `top_k_ids` and `top_k_probs` (when the model
predicts), `interventions` (JSON text of the clamps applied) and `model`. NumPy's unicode arrays drop
trailing NUL characters, so a token that ends in U+0000 reads back without it (the JSON export keeps it).
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import numpy as np

from app.serialize import top_k
from app.service import TraceResult
from lstm_core import Trace
from lstm_core.views import next_probs

HEADER = ("layer", "direction", "t", "token", "unit", "quantity", "value")


def csv_rows(r: TraceResult, layers: list[int]) -> Iterator[str]:
    """The CSV text, one chunk per (layer, direction, t)."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(HEADER)
    tr, tokens = r.trace, r.tokens.tokens
    blocks = {q: tr.gate(q) for q in Trace.GATES}
    for layer in layers:
        for d in range(tr.i.shape[1]):
            for t, tok in enumerate(tokens):
                for q in Trace.GATES:
                    values = blocks[q][layer, d, t].tolist()  # float32 -> the float of exactly that value
                    out.writerows((layer, d, t, tok, u, q, repr(v)) for u, v in enumerate(values))
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()


def npz_bytes(model_id: str, r: TraceResult, layers: list[int], k: int) -> bytes:
    """The .npz file's bytes."""
    tok = r.tokens
    arrays = {q: np.ascontiguousarray(r.trace.gate(q)[layers]) for q in Trace.GATES}  # (L', D, T, H)
    arrays.update(layers=np.array(layers, np.int64), tokens=np.array(tok.tokens, dtype=str),
                  ids=np.asarray(tok.ids, np.int64),
                  next_prob=next_probs(r.preds if r.model.predicts_next else None, tok.ids, tok.oov),
                  model=np.array(model_id), interventions=np.array(json.dumps([
                      {"layer": iv.layer, "direction": iv.direction, "unit": iv.unit, "quantity": iv.quantity,
                       "value": iv.value, "positions": list(iv.positions or ())} for iv in r.interventions])))
    if r.preds is not None and k > 0:  # next tokens, or a tagger's labels (top-k kept, computed in blocks)
        top = top_k(r.preds, k, r.model.head.labels)
        arrays.update(top_k_ids=np.array(top["ids"], np.int64), top_k_probs=np.array(top["probs"], np.float64))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()
