"""Where build tasks run: in this process, on a spawned local process pool, or on a Dask cluster.

A task is `run_task(index_path, model_path, k)`: a plain function of paths, so a worker anywhere
that sees the same paths (a shared filesystem) can run it.
"""
from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from ..errors import ModelError
from ..model import Model
from ..modelfile import load_model
from . import store
from .settings import Geometry
from .shards import layout
from .shardwrite import column_chunks, write_shard
from .tracer import trace_task


def run_task(index_path: str, model_path: str, k: int) -> int:
    """Trace and store build task k (runs in a worker process); returns how many tokens it stored.

    One BLAS thread wherever it runs (here, a spawned worker, a Dask worker): the parallelism is across
    windows and processes, and BLAS threads on top only spin (a 40,000-token build took 38 s of CPU
    instead of 7 with two of them on the busy 2-core machine)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        return _run_task(index_path, model_path, k)


def _run_task(index_path: str, model_path: str, k: int) -> int:
    model = _load_cached(model_path)
    group = store.open_group(index_path, "r+")
    m = store.read_manifest(group)
    geo = Geometry(m.corpus["tokens"], m.settings, m.model["causal"])
    start, end = geo.task_tokens(k)
    lo, hi = max(0, start - m.settings.warmup), min(geo.tokens, end + geo.lookahead)
    blocks = trace_task(model, group["ids"][lo:hi], lo, m, geo, k)
    root, rows = Path(index_path), slice(start, end)
    for q, v in blocks.values.items():  # task k's values and masks are shard k of their arrays, whole
        _write(group, root, f"values/{q}", (k, 0), lambda v=v: column_chunks(v, m.settings.units_chunk), v,
               (rows,))
        group[f"stats/{q}"][k] = blocks.stats[q]
    for q, v in blocks.masks.items():
        _write(group, root, f"masks/{q}", (0, 0, k, 0), lambda v=v: v.reshape(-1, 1, 1, *v.shape[2:]), v,
               (slice(None), slice(None), rows))
    store.mark_done(index_path, k)
    return end - start


def _write(group, root: Path, name: str, coords: tuple[int, ...], chunks, block, region: tuple) -> None:
    """Shard `coords` of array `name`: `chunks()` written by shardwrite.py, or `block` at `region` through
    zarr when the array's codecs are not the ones shardwrite.py writes (another zarr's defaults)."""
    if layout(root / name) is not None:
        write_shard(root / name, coords, chunks())
        return
    import zarr

    # write_empty_chunks: zarr otherwise compares every inner chunk with the fill value to skip writing it
    with zarr.config.set({"codec_pipeline.batch_size": 64}):  # a shard's inner chunks in one batch
        group[name].with_config({"write_empty_chunks": True})[region] = block


_MODELS: dict[str, Model] = {}


def _load_cached(path: str) -> Model:
    if path not in _MODELS:
        _MODELS[path] = load_model(path)
    return _MODELS[path]


def run_local(workers: int, out: Path, model_path: Path, todo: list[int]) -> Iterator[int]:
    """Tasks in this process (workers == 1) or on a spawned pool."""
    if workers == 1 or len(todo) <= 1:
        for k in todo:
            yield run_task(str(out), str(model_path), k)
        return
    import multiprocessing

    pool = ProcessPoolExecutor(min(workers, len(todo)), mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker)
    try:
        futures = [pool.submit(run_task, str(out), str(model_path), k) for k in todo]
        for f in as_completed(futures):
            yield f.result()
    finally:
        # Ctrl-C or an error: drop the queued tasks and let the running ones finish their shards.
        pool.shutdown(wait=True, cancel_futures=True)


def run_dask(dask, out: Path, model_path: Path, todo: list[int]) -> Iterator[int]:
    from dask.distributed import Client, as_completed

    own = not isinstance(dask, Client)
    try:
        client = Client(dask, timeout="10s") if own else dask
    except (OSError, TimeoutError) as e:
        raise ModelError(f"cannot reach the Dask scheduler at {dask}: {e}") from None
    futures = client.map(run_task, [str(out)] * len(todo), [str(model_path)] * len(todo), todo, pure=False)
    try:
        for f in as_completed(futures):
            yield f.result()
    finally:
        client.cancel(futures)
        if own:
            client.close()


def _start_worker() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; a running task finishes its shards
