"""Small models, corpora and the brute-force reference the corpus-index tests compare against.

The reference is "a plain full trace": every window of the corpus traced on its own, unbatched,
through `Model.trace_ids` (the explorer's path), with the window rules of lstm_core.corpus.settings
re-stated here by hand; its float16 values are what the index must store.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstm_core import LSTM, LSTMConfig, Model, Tokenizer, save_model
from lstm_core.corpus import CorpusIndex, IndexSettings, build_index

VOCAB = tuple("abcdefgh XYZ()[]{}'\"#\n_:=.,")
SETTINGS = IndexSettings(window=64, warmup=16, tokens_chunk=256, units_chunk=4, batch=4, thresholds=(0.1, 0.2, 0.3))


def tiny_model(seed: int = 0, bidirectional: bool = False, dtype=np.float64, hidden: int = 6) -> Model:
    """A 2-layer one-hot character model with weights 3x torch's init and no biases, so that gates open and
    shut and units switch on and off often (pattern search needs that)."""
    cfg = LSTMConfig(len(VOCAB) + 1, hidden, num_layers=2, bidirectional=bidirectional)
    init = LSTM.random(cfg, seed=seed, dtype=dtype).params
    params = {k: v * (0 if k.startswith("bias") else 3) for k, v in init.items()}
    return Model(LSTM(cfg, params), "onehot", Tokenizer("char", ("<unk>", *VOCAB), "<unk>"), meta={"name": "tiny"})


def python_like(chars: int, seed: int = 0) -> str:
    """Lines of code-like text: names, brackets, quotes, comments, indentation, an odd unknown character."""
    rng = np.random.default_rng(seed)
    parts = ["def f(a, b):", "    x = [a, {b: 'c'}]", '    s = "a#b" + \'Z\'', "  # a comment (", "Y = g(h(a))",
             "_.e = ['(', 1]", "bad .ch = X", "    ' unterminated", '"""doc', 'string"""', "é"]
    lines = []
    while sum(map(len, lines)) < chars:
        lines.append(parts[rng.integers(len(parts))] + "\n")
    return "".join(lines)[:chars]


def reference(model: Model, ids: np.ndarray, s: IndexSettings, dtype=np.float16) -> dict[str, np.ndarray]:
    """q -> (N, U_q) values (float16 unless told): each window [ws, ws + window) traced alone from a zero
    state, starting `warmup` tokens earlier and, for a bidirectional model, ending `warmup` tokens later."""
    N, ahead = len(ids), 0 if model.is_causal else s.warmup
    out = {q: [] for q in s.quantities}
    for ws in range(0, N, s.window):
        we = min(N, ws + s.window)
        a, b = max(0, ws - s.warmup), min(N, we + ahead)
        tr, _ = model.trace_ids(ids[a:b])
        for q in s.quantities:
            v = tr.gate(q)[:, :, ws - a : we - a]  # (L, D, n, H)
            out[q].append(v.transpose(2, 0, 1, 3).reshape(we - ws, -1))
    return {q: np.concatenate(v).astype(dtype) for q, v in out.items()}


@dataclass
class Built:
    path: Path
    model: Model
    model_path: Path
    text: str
    corpus_path: Path
    index: CorpusIndex
    ref: dict[str, np.ndarray]


def build_small(root: Path, model: Model, text: str, s: IndexSettings = SETTINGS, **kw) -> Built:
    """Save `model` and `text` under `root`, index them with settings `s` in this process, and compute
    the reference values."""
    root.mkdir(parents=True, exist_ok=True)
    model_path, corpus_path = root / "model.safetensors", root / "corpus.txt"
    save_model(model, model_path)
    corpus_path.write_text(text, encoding="utf-8")
    build_index(model_path, corpus_path, root / "index", s, workers=1, progress=False, **kw)
    index = CorpusIndex.open(root / "index")
    ids = model.encode(text).ids
    return Built(root / "index", model, model_path, text, corpus_path, index, reference(model, ids, s))


def read_all(path: Path) -> dict[str, np.ndarray]:
    """Every array of an index, by name, for comparing two builds."""
    import zarr

    g = zarr.open_group(str(path), mode="r")
    out = {}
    for grp in ("values", "masks", "stats"):
        for name in g[grp].array_keys():
            out[f"{grp}/{name}"] = g[f"{grp}/{name}"][:]
    for name in ("text", "ids", "spans"):
        out[name] = g[name][:]
    return out
