"""The models the server offers, loaded once at startup from the model directory.

A model's id is its file stem: `models/shakespeare-char.safetensors` is `shakespeare-char`. A file that
does not load is skipped with a logged warning, so one bad file never takes the server down. Each worker
process (`--workers N`) has its own registry; the model directory is what they share: an upload taken by
one worker is found by the others when they look a model up (`get`) or list them (`refresh`).

A model's training snapshots (app/history.py) are models too, looked up as `<id>~step-NNNNNN` and loaded
on first use into a small LRU, since a history may hold many.
"""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from app import history
from app.cache import LRU
from app.errors import ApiError
from lstm_core import Model, ModelError, load_model

log = logging.getLogger("gatescope.registry")

# Ids are file stems; anything else in a URL or request body can never become a path.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
SNAPSHOT_ENTRIES, SNAPSHOT_BYTES = 32, 256 << 20  # training snapshots kept loaded: a slider's worth


def _model_bytes(m: Model) -> int:
    arrays = [*m.lstm.params.values(), m.embedding, m.decoder_weight, m.decoder_bias]
    return int(sum(a.nbytes for a in arrays if a is not None))


@dataclass(frozen=True)
class Entry:
    id: str
    model: Model
    path: Path


class Registry:
    """Models by id; `get` also finds a file added to the directory later (an upload in another worker)."""

    def __init__(self, model_dir: Path, entries: dict[str, Entry] | None = None) -> None:
        self.model_dir = Path(model_dir)
        self._entries: dict[str, Entry] = dict(entries or {})
        self._skipped: dict[str, float] = {}  # file name -> mtime of a file that did not load
        self._lock = threading.Lock()
        self._snapshots: LRU[str, Entry] = LRU(SNAPSHOT_BYTES, lambda e: _model_bytes(e.model), SNAPSHOT_ENTRIES)

    @classmethod
    def load(cls, model_dir: Path) -> Registry:
        """Load every `*.safetensors` in model_dir; a missing directory gives an empty registry."""
        model_dir = Path(model_dir)
        reg = cls(model_dir)
        if not model_dir.is_dir():
            log.warning("model directory %s does not exist; serving no models", model_dir)
            return reg
        reg.refresh()
        log.info("loaded %d model(s) from %s", len(reg), model_dir)
        return reg

    def refresh(self) -> None:
        """Load model files that appeared since (an upload taken by another worker, a file dropped in).

        A file that failed to load is tried again only once it changes.
        """
        if not self.model_dir.is_dir():
            return
        for path in sorted(self.model_dir.glob("*.safetensors")):
            if path.stem in self._entries:
                continue
            try:
                mtime = path.stat().st_mtime
            except OSError:
                continue
            if self._skipped.get(path.name) != mtime and self._load_file(path) is None:
                self._skipped[path.name] = mtime

    def _load_file(self, path: Path) -> Entry | None:
        if not ID_PATTERN.match(path.stem):
            log.warning("skipping %s: the file name is not a usable model id", path.name)
            return None
        try:
            model = load_model(path)
        except (ModelError, OSError) as e:
            log.warning("skipping %s: %s", path.name, e)
            return None
        entry = Entry(path.stem, model, path)
        with self._lock:
            self._entries[entry.id] = entry
        return entry

    def add(self, id: str, model: Model, path: Path) -> Entry:
        """Register a model just written to `path` (uploads)."""
        entry = Entry(id, model, path)
        with self._lock:
            self._entries[id] = entry
        return entry

    def get(self, id: str) -> Entry | None:
        if history.SEP in id:
            return self._snapshot(id)
        entry = self._entries.get(id)
        if entry is None and ID_PATTERN.match(id):
            path = self.model_dir / f"{id}.safetensors"
            if path.is_file():
                entry = self._load_file(path)
        return entry

    def history(self, id: str) -> list[history.Snapshot]:
        """The training snapshots of model `id` in step order ([] for none, or for an unknown id)."""
        return history.snapshots(self.model_dir, id) if self.get(id) is not None and history.SEP not in id else []

    def _snapshot(self, id: str) -> Entry | None:
        base, stem = history.split_id(id)
        entry = self._snapshots.get(id)
        if entry is not None or stem is None or not ID_PATTERN.match(base) or self.get(base) is None:
            return entry
        snap = history.find_snapshot(self.model_dir, base, stem)
        if snap is None:
            return None
        try:
            entry = Entry(snap.id, load_model(snap.path), snap.path)
        except (ModelError, OSError) as e:
            log.warning("skipping snapshot %s: %s", snap.path, e)
            return None
        self._snapshots.put(id, entry)
        return entry

    @property
    def ids(self) -> list[str]:
        with self._lock:  # an upload may add an entry while another request lists them
            return sorted(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        with self._lock:
            return iter([self._entries[k] for k in sorted(self._entries)])


def get_registry(request: Request) -> Registry:
    """The registry loaded at startup (a FastAPI dependency)."""
    return request.app.state.registry


def find(registry: Registry, id: str) -> Entry:
    """The entry for `id`, or a 404 that lists the ids that exist."""
    entry = registry.get(id)
    base, stem = history.split_id(id)
    if entry is None and stem is not None and registry.get(base) is not None:
        raise ApiError(404, "unknown_snapshot", "error.unknown_snapshot", model=repr(base), snapshot=repr(stem))
    if entry is None:
        if not registry.ids:
            raise ApiError(404, "unknown_model", "error.unknown_model_none", model=repr(id))
        raise ApiError(404, "unknown_model", "error.unknown_model", model=repr(id), models=", ".join(registry.ids))
    return entry


RegistryDep = Annotated[Registry, Depends(get_registry)]
