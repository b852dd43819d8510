"""A model's training history: the weights the trainer saved every N steps (lstm_core.train.history), in
`<model dir>/history/<id>/` as `step-NNNNNN.safetensors` files listed by `history.json`.

Each snapshot is served as a model of its own whose id is `<id>~<file stem>`, e.g. `counter~step-000200`.
An id from a URL or a request never becomes a path by itself: the model part must be a model id, the
snapshot part must look like `step-<digits>`, and the file must be one the manifest lists, inside the
history directory.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("gatescope.history")

SEP = "~"
SNAPSHOT = re.compile(r"^step-[0-9]{1,9}$")
MANIFEST = "history.json"
MAX_MANIFEST_BYTES = 4 << 20  # a manifest lists steps and a few metrics each; anything larger is not one


@dataclass(frozen=True)
class Snapshot:
    id: str  # <model id>~step-NNNNNN
    step: int
    metrics: dict
    path: Path


def split_id(id: str) -> tuple[str, str | None]:
    """(model id, snapshot stem or None): 'counter~step-000200' -> ('counter', 'step-000200')."""
    base, sep, snap = id.partition(SEP)
    return (base, snap) if sep else (id, None)


def directory(model_dir: Path, model_id: str) -> Path:
    return Path(model_dir) / "history" / model_id


def snapshots(model_dir: Path, model_id: str) -> list[Snapshot]:
    """The snapshots of model `model_id` (an id already checked against the registry's pattern), in step
    order; [] when it has no history or the manifest cannot be read (logged)."""
    d = directory(model_dir, model_id)
    path = d / MANIFEST
    try:
        if not path.is_file() or path.stat().st_size > MAX_MANIFEST_BYTES:
            return []
        manifest = json.loads(path.read_text(encoding="utf-8"))
        rows = manifest["snapshots"]
        out = []
        for row in rows:
            stem = str(row["file"]).removesuffix(".safetensors")
            step = int(row["step"])
            if not SNAPSHOT.match(stem) or f"{stem}.safetensors" != row["file"]:
                raise ValueError(f"the snapshot file name {row['file']!r} is not step-<digits>.safetensors")
            metrics = row.get("metrics") if isinstance(row.get("metrics"), dict) else {}
            out.append(Snapshot(f"{model_id}{SEP}{stem}", step, metrics, d / row["file"]))
    except (OSError, ValueError, KeyError, TypeError) as e:  # JSONDecodeError is a ValueError
        log.warning("ignoring the training history of %s: %s", model_id, e)
        return []
    return sorted((s for s in out if s.path.is_file()), key=lambda s: s.step)


def find_snapshot(model_dir: Path, model_id: str, stem: str) -> Snapshot | None:
    """The snapshot `stem` of `model_id` if the manifest lists it and its file exists, else None."""
    if not SNAPSHOT.match(stem):
        return None
    return next((s for s in snapshots(model_dir, model_id) if s.id == f"{model_id}{SEP}{stem}"), None)
