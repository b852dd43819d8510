"""Where build tasks run: in this process, on a spawned local process pool, or on a Dask cluster.

A task is `run_task(index_path, model_path, k)`: a plain function of paths, so a worker anywhere
that sees the same paths (a shared filesystem) can run it.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path

from numpy.typing import NDArray

from ..errors import ModelError
from ..model import Model
from ..modelfile import load_model
from . import packjit, store
from .settings import Geometry
from .shards import layout
from .shardwrite import column_chunks, write_shard
from .tracer import PIECE, masks_and_counts, on_threads, trace_task


def run_task(index_path: str, model_path: str, k: int, threads: int = 1) -> int:
    """Trace and store build task k (runs in a worker process) on `threads` threads (tracer.trace_task);
    returns how many tokens it stored.

    One BLAS thread wherever it runs (here, a spawned worker, a Dask worker): the parallelism is across
    windows and processes, and BLAS threads on top only spin (a 40,000-token build took 38 s of CPU
    instead of 7 with two of them on the busy 2-core machine)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        return _run_task(index_path, model_path, k, threads)


def _run_task(index_path: str, model_path: str, k: int, threads: int) -> int:
    model = _load_cached(model_path)
    group = store.open_group(index_path, "r+")
    m = store.read_manifest(group)
    geo = Geometry(m.corpus["tokens"], m.settings, m.model["causal"])
    start, end = geo.task_tokens(k)
    lo, hi = max(0, start - m.settings.warmup), min(geo.tokens, end + geo.lookahead)
    blocks = trace_task(model, group["ids"][lo:hi], lo, m, geo, k, threads)
    root, rows, uc = Path(index_path), slice(start, end), m.settings.units_chunk
    # task k's values and masks are shard k of their arrays, whole
    on_threads(threads, [partial(_write, group, root, f"values/{q}", (k, 0), partial(column_chunks, v, uc), v,
                                 (rows,)) for q, v in blocks.values.items()]
               + [partial(_write, group, root, f"masks/{q}", (0, 0, k, 0), partial(_mask_chunks, v), v,
                          (slice(None), slice(None), rows)) for q, v in blocks.masks.items()])
    for q, counts in blocks.stats.items():
        group[f"stats/{q}"][k] = counts
    store.mark_done(index_path, k)
    return end - start


def _mask_chunks(v: NDArray) -> NDArray:
    """(K * L*D, 1, 1, n, B): a (K, L*D, n, B) mask block as its shard's inner chunks."""
    return v.reshape(-1, 1, 1, *v.shape[2:])


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


def _switch(name: str) -> bool:
    """A scheduling change that is on unless the environment sets it to 0 (for quiet A/B runs)."""
    return os.environ.get(name, "1") != "0"


@contextmanager
def local_pool(workers: int, model_path: Path, tasks: int) -> Iterator[ProcessPoolExecutor | None]:
    """A spawned pool of `workers` processes for at most `tasks` tasks (None: run them in this process).

    With GATESCOPE_INDEX_EARLY (on unless 0) its processes start at once and load the model and the compiled
    loops (about 1.5 s of CPU each, measured) while the caller tokenizes the corpus, instead of after it with
    a core idle. Ctrl-C or an error drops the queued tasks and lets the running ones finish their shards."""
    if workers == 1 or tasks <= 1:
        yield None
        return
    import multiprocessing

    n, early = min(workers, tasks), _switch("GATESCOPE_INDEX_EARLY")
    pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
                               initargs=(str(model_path) if early else None, _switch("GATESCOPE_INDEX_QUICK_EXIT")))
    try:
        if early:
            for _ in range(n):  # a spawn pool starts a process per submitted call, up to n: start them all now
                pool.submit(_ready)
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_local(pool: ProcessPoolExecutor | None, out: Path, model_path: Path, todo: list[int]) -> Iterator[int]:
    """Tasks on `pool` (from local_pool), or in this process when it is None."""
    if pool is None:
        for k in todo:
            yield run_task(str(out), str(model_path), k)
        return
    # With GATESCOPE_INDEX_THREADED_TAIL (on unless 0) the last round of tasks (one per worker) runs on as
    # many threads as there are workers: as the other workers run out of tasks, a last task's batches spread
    # over the cores they leave idle. A task whose windows make one batch gains nothing.
    n = pool._max_workers if _switch("GATESCOPE_INDEX_THREADED_TAIL") else 1
    futures = [pool.submit(run_task, str(out), str(model_path), k, n if j >= len(todo) - n else 1)
               for j, k in enumerate(todo)]
    try:
        for f in as_completed(futures):
            yield f.result()
    finally:
        for f in futures:
            f.cancel()


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


def _ready() -> None:
    """Nothing: submitted once per worker to start the pool's processes."""


def _start_worker(model_path: str | None, quick_exit: bool) -> None:
    """A local pool worker's start: ignore Ctrl-C (the parent decides; a running task finishes its shards),
    skip the interpreter's clean-up at exit, and load the model and the compiled loops before the first task."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if quick_exit:
        # Finalizing the ~1,200 modules a worker imports (numba, zarr) took 0.7-0.9 s of CPU per worker at the
        # end of every build. A task's files are closed when it returns; atexit runs last-registered first,
        # after multiprocessing's own exit handlers have run.
        import atexit

        atexit.register(_exit_now)
    if model_path is not None:
        with suppress(Exception):  # the first task loads the model again and reports what is wrong
            _warm(model_path)


def _exit_now() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _warm(model_path: str) -> None:
    """Load the model, trace a few steps and store them: numba's compiled loops (the engine's and packjit's, for
    the argument types a task passes) are loaded from its cache (or compiled) here rather than in the first task."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    model = _load_cached(model_path)
    with threadpool_limits(1, user_api="blas"):
        x = model.inputs(np.zeros(2 * PIECE, np.int64)).reshape(2, PIECE, -1)  # (B, T, D), token 0: any id does
        rec = model.lstm.trace(x).gate("c")  # (B, L, D, T, H)
    H = rec.shape[-1]
    block = np.empty((2, PIECE, 2 * H), np.float16)  # (B, T, U) a task's rows, two groups of units
    packjit.cast_into(block[:, :, :H], rec[:, 0, 0])  # strided views, as the tracer passes them
    packjit.cast_into(block[:, :, H:], rec[:, 0, 0])
    masks_and_counts(block.reshape(2 * PIECE, 2 * H), 2, (0.5,), "c")
