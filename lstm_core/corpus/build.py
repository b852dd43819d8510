"""Building an index: tokens first, then one task per tokens_chunk on a process pool or a Dask cluster.

Each task writes whole shards of its own token range (no two tasks touch the same file), then a
marker file; an interrupted build (Ctrl-C, a crash, a lost machine) continues where the markers say
when the same command is run again, and a resumed index equals one built in one go. Where tasks run
is workers.py.
"""
from __future__ import annotations

import os
import platform
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..model import Model
from ..modelfile import load_model
from . import store
from .settings import Geometry, IndexSettings
from .source import Piece, file_sha256, scan_corpus, text_sha256
from .workers import local_pool, run_dask, run_local


@dataclass(frozen=True)
class BuildResult:
    path: Path
    manifest: store.Manifest
    tasks: int
    ran: int  # tasks this call ran
    interrupted: bool


def build_index(model_path: str | os.PathLike, corpus: str | os.PathLike | None, out: str | os.PathLike,
                settings: IndexSettings | None = None, *, text: str | None = None, corpus_name: str | None = None,
                workers: int | None = None, dask=None, progress: bool = True, command: str = "") -> BuildResult:
    """Index `corpus` (a UTF-8 file, or `text`) with the model file at `model_path` into directory `out`.

    `dask` is a scheduler address or a `dask.distributed.Client`; without it `workers` processes
    (default: every core; 1 runs in this process) do the work. Rerunning on an unfinished index resumes it.
    """
    settings = settings or IndexSettings()
    model_path, out = Path(model_path).resolve(), Path(out).resolve()
    model = load_model(model_path)
    if model.tokenizer is None:
        raise ModelError(f"{model_path.name} takes vectors, not text: an index needs a model with a vocabulary")
    name = corpus_name or (Path(corpus).name if corpus is not None else "text")
    model_info = _model_info(model, model_path)
    group, m = _open_or_start(out, model_info, settings, corpus, text, name, command)
    with ExitStack() as stack:
        # the local pool starts before tokenizing, so its workers start up meanwhile (workers.local_pool)
        most = _most_tasks(out, m, corpus, text)
        pool = None if dask is not None else \
            stack.enter_context(local_pool(workers or os.cpu_count() or 1, model_path, most))
        if m.stage == "tokens":
            group = store.open_group(out, "w")
            store.write_manifest(group, m)
            store.create_token_arrays(group)
            info = scan_corpus(corpus, name, model.tokenizer, lambda p: _append(group, p), text=text)
            m = store.Manifest(model_info, info.to_json(), settings, "values", m.created)
            store.write_manifest(group, m)
        geo = Geometry(m.corpus["tokens"], settings, model_info["causal"])
        store.create_value_arrays(group, m, geo.num_tasks)
        done = store.done_tasks(out, geo.num_tasks)
        todo = [k for k in range(geo.num_tasks) if k not in done]
        ran, interrupted = 0, False
        bar = _bar(progress, geo, done)
        try:
            run = run_dask(dask, out, model_path, todo) if dask is not None else run_local(pool, out, model_path, todo)
            for tokens in run:
                ran += 1
                bar.update(tokens)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            bar.close()
    if not interrupted and len(store.done_tasks(out, geo.num_tasks)) == geo.num_tasks:
        m = store.Manifest(m.model, m.corpus, settings, "complete", m.created)
        store.write_manifest(group, m)
    return BuildResult(out, m, geo.num_tasks, ran, interrupted)


def _most_tasks(out: Path, m: store.Manifest, corpus, text: str | None) -> int:
    """How many tasks are left at most: before tokenizing, as if every character (byte, of a file) were a token."""
    if m.stage != "tokens":
        geo = Geometry(m.corpus["tokens"], m.settings, m.model["causal"])
        return geo.num_tasks - len(store.done_tasks(out, geo.num_tasks))
    size = len(text) if text is not None else Path(corpus).stat().st_size
    return -(-size // m.settings.tokens_chunk)


def _open_or_start(out: Path, model_info: dict, settings: IndexSettings, corpus, text, name: str, command: str):
    """(group, manifest) of an index to resume, or a fresh "tokens" manifest for a new one."""
    fresh = store.Manifest(model_info, {}, settings, "tokens", _created(command))
    if not out.exists() or not any(out.iterdir()):
        return None, fresh
    group = store.open_group(out, "r+") if (out / "zarr.json").is_file() else None
    m = None if group is None else store.read_manifest(group)
    if m is None:
        raise ModelError(f"{out} exists and is not a gatescope index; choose another --out or delete it")
    if m.model["sha256"] != model_info["sha256"]:
        raise ModelError(f"the index at {out} was built by another model ({m.model['id']}, sha256 "
                         f"{m.model['sha256'][:12]}...) than {model_info['id']} (sha256 "
                         f"{model_info['sha256'][:12]}...); choose another --out or delete it")
    if m.settings != settings:
        diff = {k: v for k, v in m.settings.to_json().items() if settings.to_json()[k] != v}
        raise ModelError(f"the index at {out} was started with other settings ({diff}); rerun with those "
                         "to resume it, or choose another --out")
    if m.stage == "tokens":
        return group, fresh
    sha = file_sha256(corpus) if text is None else text_sha256(text)
    if sha != m.corpus["sha256"]:
        raise ModelError(f"the index at {out} was built from another corpus ({m.corpus['name']}); "
                         "choose another --out or delete it")
    return group, m


def _append(group, p: Piece) -> None:
    if p.text:  # a piece of blanks has text but, for a word tokenizer, no tokens
        group["text"].append(np.frombuffer(p.text.encode("utf-32-le"), np.uint32))
    if len(p.ids):
        group["ids"].append(p.ids.astype(np.int32))
        group["spans"].append(p.spans)


def _model_info(model: Model, path: Path) -> dict:
    c = model.lstm.config
    return {"id": path.stem, "file": str(path), "sha256": file_sha256(path), "layers": c.num_layers,
            "directions": c.num_directions, "hidden_size": c.hidden_size, "output_size": c.output_size,
            "tokenizer": model.tokenizer.kind, "causal": model.is_causal, "dtype": str(model.lstm.dtype)}


def _created(command: str) -> dict:
    from importlib.metadata import PackageNotFoundError, version

    import zarr

    try:  # not `import dask` for its version: 0.5-0.8 s of the parent's start, with every worker waiting on it
        dask = version("dask")
    except PackageNotFoundError:
        dask = None
    return {"at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "python": sys.version.split()[0],
            "numpy": np.__version__, "zarr": zarr.__version__, "dask": dask,
            "machine": platform.machine(), "command": command}


def _bar(progress: bool, geo: Geometry, done: set[int]):
    from tqdm import tqdm

    initial = sum(e - s for s, e in map(geo.task_tokens, done))
    return tqdm(total=geo.tokens, initial=initial, unit="tok", unit_scale=True, desc="index", disable=not progress,
                file=sys.stderr)
