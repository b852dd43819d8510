"""A fast read of one column block of a sharded values array, for one-unit queries (top-k, the unit view).

zarr-python reads one inner chunk of each of a million-token column's 16 shards through its asyncio
pipeline: about 2 ms of overhead per shard on this machine, more than decoding the chunk (0.8 ms),
so a one-unit read took 60-70 ms of CPU under load. The zarr v3 sharding codec is a short spec
(https://zarr-specs.readthedocs.io/en/latest/v3/codecs/sharding-indexed/v1.0.html): a shard file is
the encoded inner chunks followed by an index of (offset, nbytes) uint64 pairs, one per inner chunk
in C order, and a 4-byte CRC32C of the index. This reads exactly the layout store.py writes (bytes
little-endian, then blosc or nothing; the index at the end) and answers None for any other, so the
caller falls back to zarr. Tests compare it with zarr's own reads. It does not check the index's
CRC32C (zarr does when it reads): a corrupted index gives wrong offsets and blosc refuses the bytes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

_EMPTY = 2**64 - 1  # the index's (offset, nbytes) of an inner chunk that was never written


@dataclass(frozen=True)
class Layout:
    """What a sharded array's zarr.json says, for the layouts this module and shardwrite.py handle."""

    shape: tuple[int, ...]
    shard: tuple[int, ...]  # the chunk grid's chunk shape: one shard file each
    chunk: tuple[int, ...]  # the inner chunk shape
    dtype: np.dtype  # little-endian
    blosc: dict | None  # the inner blosc codec's configuration, None when the bytes are stored raw
    fill: int | float
    separator: str  # of the chunk keys, "c/0/0" for "/"


@lru_cache(maxsize=64)
def _layout(array_dir: str, mtime_ns: int) -> Layout | None:
    meta = json.loads((Path(array_dir) / "zarr.json").read_text(encoding="utf-8"))
    codecs = meta.get("codecs") or []
    if len(codecs) != 1 or codecs[0].get("name") != "sharding_indexed":
        return None
    cfg = codecs[0]["configuration"]
    inner = [c.get("name") for c in cfg.get("codecs", [])]
    index = [c.get("name") for c in cfg.get("index_codecs", [])]
    dtype = np.dtype(meta["data_type"]).newbyteorder("<")
    endian = cfg["codecs"][0].get("configuration", {}).get("endian") if inner else None
    little = endian == "little" or (endian is None and dtype.itemsize == 1)  # one byte has no byte order
    key = meta.get("chunk_key_encoding", {})
    if (cfg.get("index_location", "end") != "end" or inner not in (["bytes"], ["bytes", "blosc"]) or not little
            or index != ["bytes", "crc32c"] or key.get("name") != "default" or meta.get("storage_transformers")):
        return None
    fill = meta.get("fill_value", 0)
    if isinstance(fill, bool) or not isinstance(fill, (int, float)):  # "NaN", "Infinity", hex strings: zarr's
        return None
    blosc = cfg["codecs"][1].get("configuration", {}) if len(inner) > 1 else None
    return Layout(tuple(meta["shape"]), tuple(meta["chunk_grid"]["configuration"]["chunk_shape"]),
                  tuple(cfg["chunk_shape"]), dtype, blosc, fill, key.get("configuration", {}).get("separator", "/"))


def layout(array_dir: str | Path) -> Layout | None:
    """The sharded array at `array_dir`'s layout, or None when it is not one this module reads (nor
    shardwrite.py writes) or cannot be read."""
    array_dir = Path(array_dir)
    try:
        return _layout(str(array_dir), (array_dir / "zarr.json").stat().st_mtime_ns)
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def read_column(array_dir: str | Path, col: int) -> NDArray | None:
    """(N,) column `col` of the 2-d sharded array at `array_dir`, or None when its layout is not the one
    this reads (then read it through zarr)."""
    array_dir, lay = Path(array_dir), layout(array_dir)
    if lay is None or len(lay.shape) != 2 or lay.separator != "/":
        return None
    (N, U), (sn, su), (cn, cu), dtype, blosc, fill = lay.shape, lay.shard, lay.chunk, lay.dtype, lay.blosc, lay.fill
    if sn % cn or su % cu or not 0 <= col < U:
        return None
    out = np.empty(N, dtype)
    try:
        for s0 in range(0, N, sn):
            _read_shard(array_dir / "c" / str(s0 // sn) / str(col // su), out[s0 : min(N, s0 + sn)], col % su,
                        (sn // cn, su // cu), (cn, cu), dtype, blosc is not None, fill)
    except (OSError, ValueError, RuntimeError):  # a damaged shard: zarr's read checks the CRC and says so
        return None
    return out


def _read_shard(path: Path, rows: NDArray, col: int, grid: tuple[int, int], chunk: tuple[int, int], dtype,
                blosc: bool, fill) -> None:
    """Column `col` (within the shard) of one shard file into `rows`."""
    (cn, cu), per_row = chunk, grid[1]
    if not path.is_file():
        rows[:] = fill
        return
    with open(path, "rb") as fh:
        fh.seek(-(16 * grid[0] * grid[1] + 4), 2)
        index = np.frombuffer(fh.read(16 * grid[0] * grid[1]), "<u8").reshape(-1, 2)  # (chunks, 2) offset, nbytes
        for r0 in range(0, len(rows), cn):
            offset, nbytes = index[(r0 // cn) * per_row + col // cu]
            part = rows[r0 : r0 + cn]
            if offset == _EMPTY:
                part[:] = fill
                continue
            fh.seek(int(offset))
            raw = fh.read(int(nbytes))
            if blosc:
                from numcodecs import blosc as _blosc

                raw = _blosc.decompress(raw)
            part[:] = np.frombuffer(raw, dtype).reshape(cn, cu)[: len(part), col % cu]  # (cn, cu) the inner chunk
