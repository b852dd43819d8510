"""The models the server offers, loaded once at startup from the model directory.

A model's id is its file stem: `models/shakespeare-char.safetensors` is `shakespeare-char`. A file that
does not load, for any reason at all (a ModelError, RecursionError, MemoryError...), is skipped with one
logged line, so one bad file never takes the server down. A file's free-form metadata (name, description,
card...) is validated into `ModelMeta` when it is read, whatever types the file holds. Each worker
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel, BeforeValidator

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


def _text(v: Any) -> str:
    """A file's text field as a string that can be sent: numbers written out, anything else empty, and
    lone surrogates (not encodable as UTF-8) replaced by U+FFFD."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        v = str(v)
    return _clean(v) if isinstance(v, str) else ""


def _clean(v: Any) -> Any:
    if isinstance(v, str):
        return v.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(v, dict):
        return {_clean(str(k)): _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


Text = Annotated[str, BeforeValidator(_text)]
JsonObject = Annotated[dict, BeforeValidator(lambda v: _clean(v) if isinstance(v, dict) else {})]


class ModelMeta(BaseModel):
    """A model file's free-form metadata as the server uses it: these types, whatever the file holds."""

    name: Text = ""
    description: Text = ""
    card: Text = ""
    metrics: JsonObject = {}
    provenance: JsonObject = {}
    verification: Annotated[dict | None, BeforeValidator(lambda v: _clean(v) if isinstance(v, dict) else None)] = None


@dataclass(frozen=True)
class Entry:
    id: str
    model: Model
    path: Path
    meta: ModelMeta = field(default_factory=ModelMeta)


class Registry:
    """Models by id; `get` also finds a file added to the directory later (an upload in another worker)."""

    def __init__(self, model_dir: Path, entries: dict[str, Entry] | None = None, shown_dir: str | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.shown_dir = shown_dir  # how sentences name it: the path, or None (public mode hides it)
        self._entries: dict[str, Entry] = dict(entries or {})
        self._skipped: dict[str, float] = {}  # file name -> mtime of a file that did not load
        self._lock = threading.Lock()
        self._snapshots: LRU[str, Entry] = LRU(SNAPSHOT_BYTES, lambda e: _model_bytes(e.model), SNAPSHOT_ENTRIES)

    @classmethod
    def load(cls, model_dir: Path, shown_dir: str | None = None) -> Registry:
        """Load every `*.safetensors` in model_dir; a missing directory gives an empty registry."""
        model_dir = Path(model_dir)
        reg = cls(model_dir, shown_dir=shown_dir)
        if not model_dir.is_dir():
            log.warning("model directory %s does not exist; serving no models", model_dir)
            return reg
        reg.refresh()
        log.info("loaded %d model(s) from %s", len(reg), model_dir)
        return reg

    def refresh(self) -> None:
        """Load model files that appeared since (an upload taken by another worker, a file dropped in) and
        forget those whose file is gone. A file that failed to load is tried again only once it changes."""
        if not self.model_dir.is_dir():
            return
        for entry in list(self):
            if not entry.path.exists():  # removed: an upload evicted by another worker, a file deleted by hand
                self.forget(entry.id)
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
            return self.add(path.stem, load_model(path), path)
        except (ModelError, OSError) as e:
            log.warning("skipping %s: %s", path.name, e)
        except Exception as e:  # anything else a hostile file can raise (RecursionError, MemoryError...): one line
            log.warning("skipping %s: reading it raised %s", path.name, type(e).__name__)
        return None

    def add(self, id: str, model: Model, path: Path) -> Entry:
        """Register a model just loaded from `path`; a ModelError if its metadata cannot be served."""
        entry = Entry(id, model, path, ModelMeta.model_validate(model.meta))
        with self._lock:
            self._entries[id] = entry
        return entry

    def forget(self, id: str) -> None:
        """Stop serving a model whose file is gone."""
        with self._lock:
            self._entries.pop(id, None)

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
        try:  # a snapshot file is read as carefully as any model file (its metadata validated the same way)
            model = load_model(snap.path)
            entry = Entry(snap.id, model, snap.path, ModelMeta.model_validate(model.meta))
        except (ModelError, OSError) as e:
            log.warning("skipping snapshot %s: %s", snap.path, e)
            return None
        except Exception as e:  # as in _load_file: whatever a hostile file raises, one line and no 500
            log.warning("skipping snapshot %s: reading it raised %s", snap.path, type(e).__name__)
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
        if not registry.ids and registry.shown_dir is None:
            raise ApiError(404, "unknown_model", "error.unknown_model_none", model=repr(id))
        if not registry.ids:
            raise ApiError(404, "unknown_model", "error.unknown_model_none_in", model=repr(id),
                           directory=registry.shown_dir)
        raise ApiError(404, "unknown_model", "error.unknown_model", model=repr(id), models=", ".join(registry.ids))
    return entry


RegistryDep = Annotated[Registry, Depends(get_registry)]
