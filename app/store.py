"""Where uploaded models are kept: `import-<weights hash>.safetensors` in the model directory.

- **One file per set of weights**, whatever name or file it came under: the id is a hash of what the model
  computes with (configuration, input kind, tokenizer, head, every tensor), so the same weights uploaded
  under ten names are stored once.
- **A quota** in count and bytes (settings.upload_store_count, upload_store_mb): storing a new model evicts the
  oldest uploads (by when they were last uploaded) until it fits; a model larger than the whole quota is refused.
  Only uploads (`import-*`) are ever evicted; shipped and hand-copied models are never touched.
- **Written atomically**: saved under a unique hidden name the registry ignores, read back from there, then
  renamed into place; a failure leaves nothing behind.
- **Swept at startup**: hidden temporary files in the model directory and `gatescope-upload-*` directories in
  the temporary directory older than an hour are what a killed process (kill -9) left; they are removed.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from app.errors import ApiError
from lstm_core import Model, ModelError, load_model, save_model

log = logging.getLogger("gatescope.store")

PREFIX = "import-"
UPLOAD_DIRS = "gatescope-upload-"  # tempfile prefix of an upload being imported
STALE_SECONDS = 3600  # no upload takes an hour; anything this old was left by a process that died


def weights_id(model: Model) -> str:
    """`import-<16 hex>`: a hash of everything the model computes with, and nothing it is called."""
    h = hashlib.sha256()
    tok = model.tokenizer.to_json() if model.tokenizer is not None else None
    head = None if model.head is None else [model.head_kind, model.labels, model.pool, model.head_activation]
    h.update(json.dumps([model.lstm.config.to_json(), model.input_kind, tok, head], sort_keys=True).encode())
    arrays = {**{f"lstm.{k}": v for k, v in model.lstm.params.items()}, "embedding": model.embedding,
              "decoder.weight": model.decoder_weight, "decoder.bias": model.decoder_bias}
    for name in sorted(arrays):
        a = arrays[name]
        if a is not None:
            a = np.ascontiguousarray(a)
            h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
            h.update(memoryview(a).cast("B"))
    return PREFIX + h.hexdigest()[:16]


def uploads(model_dir: Path) -> list[Path]:
    """The stored uploads, least recently uploaded first."""
    found = []
    for p in model_dir.glob(f"{PREFIX}*.safetensors"):
        try:
            found.append((p.stat().st_mtime, p))
        except OSError:  # removed meanwhile by another worker
            continue
    return [p for _, p in sorted(found)]


def store(model: Model, model_dir: Path, model_id: str, max_count: int,
          max_bytes: int) -> tuple[Model, Path, list[str]]:
    """Save, read back, make room, rename into place: (the model as read from its file, its path, evicted ids)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / f"{model_id}.safetensors"
    tmp = model_dir / f".{model_id}.{secrets.token_hex(6)}.upload"  # unique per request, invisible to registries
    try:
        save_model(model, tmp)
        size = tmp.stat().st_size
        if size > max_bytes:
            raise ApiError(413, "store_full", "error.store_full", size=f"{size / 2**20:,.1f}",
                           max=f"{max_bytes / 2**20:,.0f}")
        try:
            stored = load_model(tmp)
        except ModelError as e:
            raise ApiError(500, "store_failed", "error.store_failed", reason=str(e)) from None
        evicted = _make_room(model_dir, size, max_count, max_bytes)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return stored, path, evicted


def touch(path: Path) -> None:
    """Mark a stored upload as just uploaded again (the quota evicts the least recently uploaded)."""
    with contextlib.suppress(OSError):  # evicted meanwhile by another worker: nothing to mark
        os.utime(path)


def _make_room(model_dir: Path, size: int, max_count: int, max_bytes: int) -> list[str]:
    kept = uploads(model_dir)
    sizes = {p: p.stat().st_size if p.exists() else 0 for p in kept}
    evicted = []
    while kept and (len(kept) + 1 > max_count or sum(sizes[p] for p in kept) + size > max_bytes):
        oldest = kept.pop(0)
        oldest.unlink(missing_ok=True)
        evicted.append(oldest.stem)
    if evicted:
        log.info("evicted %d uploaded model(s) to stay within the store quota: %s", len(evicted), ", ".join(evicted))
    return evicted


def sweep(model_dir: Path, temp_dir: Path | None = None, age: float = STALE_SECONDS) -> list[Path]:
    """Remove what a killed upload or save left: hidden `.*.tmp` / `.*.upload` files in the model directory and
    `gatescope-upload-*` directories in the temporary directory, each older than `age` seconds."""
    cutoff = time.time() - age
    removed = []
    candidates = [p for pattern in (".*.tmp", ".*.upload") for p in model_dir.glob(pattern)] if model_dir.is_dir() \
        else []
    candidates += list(Path(temp_dir or tempfile.gettempdir()).glob(f"{UPLOAD_DIRS}*"))
    for p in candidates:
        try:
            if p.lstat().st_mtime >= cutoff:
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
        except OSError as e:
            log.warning("could not remove the leftover %s: %s", p, e.strerror)
    if removed:
        log.info("removed %d leftover(s) of interrupted uploads: %s", len(removed), ", ".join(p.name for p in removed))
    return removed
