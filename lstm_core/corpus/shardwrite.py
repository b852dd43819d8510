"""Writing one whole shard of a sharded zarr v3 array straight to its file, without zarr's write path.

A build task produces exactly one shard of each values and masks array, whole (store.py lays them out
so). zarr-python writes such a shard through its asyncio codec pipeline, one inner chunk at a time,
and took 1.1-1.3 s of CPU per 65,536-token task of shakespeare-char (c and h with their masks), a fifth
of the build; compressing the same bytes with the same blosc settings takes 0.4 s. This encodes the
shard as the sharding codec's spec says
(https://zarr-specs.readthedocs.io/en/latest/v3/codecs/sharding-indexed/v1.0.html): the inner chunks,
each through the array's inner codecs (bytes little-endian, then blosc or nothing), one after another,
then the index of (offset, nbytes) uint64 little-endian pairs, one per inner chunk in C order, then the
index's CRC32C as 4 little-endian bytes. zarr reads the file as if it had written it (tests read every
array back through zarr). An inner chunk that sticks out of the array (the last task's rows, the last
units of a width that is not a multiple of units_chunk) is padded with the fill value, as zarr pads it.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .shards import Layout, layout

_SHUFFLE = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}


def write_shard(array_dir: str | Path, coords: tuple[int, ...], chunks: Sequence[NDArray]) -> None:
    """Write the shard at chunk-grid `coords` of the sharded array at `array_dir`: `chunks` are all its inner
    chunks in C order, each of the inner chunk shape or, at the array's edge, a leading part of it."""
    array_dir = Path(array_dir)
    lay = layout(array_dir)
    if lay is None:
        raise ValueError(f"{array_dir} is not a sharded array whose shards this writes")
    n = math.prod(s // c for s, c in zip(lay.shard, lay.chunk, strict=True))
    if len(chunks) != n or len(coords) != len(lay.shape):
        raise ValueError(f"a shard of {array_dir} has {n} inner chunks at {len(lay.shape)} coordinates, "
                         f"got {len(chunks)} at {coords}")
    codec = _codec(tuple(sorted(lay.blosc.items()))) if lay.blosc is not None else None
    index = np.empty((n, 2), "<u8")  # (offset, nbytes) per inner chunk
    parts, offset = [], 0
    for j, chunk in enumerate(chunks):
        raw = _full(np.asarray(chunk), lay)
        data = codec.encode(raw) if codec is not None else raw.tobytes()
        index[j] = offset, len(data)
        parts.append(data)
        offset += len(data)
    import google_crc32c  # zarr's own CRC32C (its crc32c codec imports it)

    parts.append(index.tobytes())
    parts.append(np.array(google_crc32c.value(parts[-1]), "<u4").tobytes())
    path = array_dir / "c"
    for c in coords:
        path = path / str(c) if lay.separator == "/" else path.with_name(f"{path.name}{lay.separator}{c}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:  # an interrupted write is rewritten: the task's marker comes after it
        fh.writelines(parts)


def _full(chunk: NDArray, lay: Layout) -> NDArray:
    """The chunk as contiguous little-endian bytes of the full inner chunk shape, padded with the fill value."""
    if chunk.ndim != len(lay.chunk) or any(a > b for a, b in zip(chunk.shape, lay.chunk, strict=True)):
        raise ValueError(f"an inner chunk of shape {chunk.shape} does not fit the inner chunk shape {lay.chunk}")
    if chunk.shape == lay.chunk:
        return np.ascontiguousarray(chunk, lay.dtype)
    full = np.full(lay.chunk, lay.fill, lay.dtype)
    full[tuple(slice(0, s) for s in chunk.shape)] = chunk
    return full


def column_chunks(block: NDArray, uc: int) -> NDArray:
    """(ceil(U / uc), n, uc): a token-major (n, U) block cut into inner chunks of uc columns, the columns
    beyond U zero. Each row's uc values move as one uc * itemsize-byte item, 1024 rows at a time so the
    rows stay in cache: 0.03 s for 65,536 x 512 float16, where one whole transpose took 0.06 s and copying
    the chunks' narrow column slices one by one 0.17 s."""
    n, U = block.shape
    C = -(-U // uc)
    if U % uc or not block.flags.c_contiguous:
        wide = np.zeros((n, C * uc), block.dtype)
        wide[:, :U] = block
        block = wide
    items = block.view(np.dtype(f"V{uc * block.dtype.itemsize}"))  # (n, C)
    out = np.empty((C, n), items.dtype)
    for r in range(0, n, 1024):
        out[:, r : r + 1024] = items[r : r + 1024].T
    return out.view(block.dtype).reshape(C, n, uc)


@lru_cache(maxsize=16)
def _codec(config: tuple):
    """numcodecs' Blosc with the array's blosc configuration (what zarr's BloscCodec encodes with)."""
    from numcodecs import Blosc

    c = dict(config)
    args = {"cname": c["cname"], "clevel": c["clevel"], "shuffle": _SHUFFLE[c["shuffle"]],
            "blocksize": c.get("blocksize", 0)}
    try:
        return Blosc(**args, typesize=c.get("typesize", 1))
    except TypeError:  # numcodecs before 0.16 takes the item size from the array it is given
        return Blosc(**args)
