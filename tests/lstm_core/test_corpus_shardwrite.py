"""Shards written by shardwrite.py, read back through zarr itself (which checks each index's CRC32C)."""
from __future__ import annotations

import numpy as np
import pytest
import zarr
from zarr.codecs import BloscCodec

from lstm_core.corpus import shards, shardwrite

BLOSC = [BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle", typesize=2)]


def _shard_parts(data: np.ndarray, shard: tuple[int, ...], chunk: tuple[int, ...], coords: tuple[int, ...]):
    """The inner chunks of shard `coords` of `data`, C order, each cut at the array's edge."""
    lo = [c * s for c, s in zip(coords, shard, strict=True)]
    grid = [s // c for s, c in zip(shard, chunk, strict=True)]
    parts = []
    for j in np.ndindex(*grid):
        parts.append(data[tuple(slice(a + i * c, min(n, a + (i + 1) * c))
                                for a, i, c, n in zip(lo, j, chunk, data.shape, strict=True))])
    return parts


@pytest.mark.parametrize("compressors", [None, BLOSC], ids=["raw", "blosc"])
@pytest.mark.parametrize("separator", ["/", "."])
def test_ragged_shards_read_back_through_zarr(tmp_path, compressors, separator):
    rng = np.random.default_rng(1)
    # 10 units in chunks of 4 (12-wide shards), 300 tokens in shards of 128: the last shard is partial
    zarr.open_group(str(tmp_path), mode="w").create_array(
        "v", shape=(300, 10), dtype="float16", chunks=(128, 4), shards=(128, 12), compressors=compressors,
        fill_value=0.5, chunk_key_encoding={"name": "default", "separator": separator})
    data = rng.standard_normal((300, 10)).astype(np.float16)
    for k in (0, 2):  # shard 1 is never written: zarr reads the fill value there
        shardwrite.write_shard(tmp_path / "v", (k, 0), _shard_parts(data, (128, 12), (128, 4), (k, 0)))
    back = zarr.open_array(str(tmp_path / "v"), mode="r")[:]
    assert np.array_equal(back[:128].view(np.uint16), data[:128].view(np.uint16))
    assert np.array_equal(back[256:].view(np.uint16), data[256:].view(np.uint16))
    assert (back[128:256] == 0.5).all()


def test_a_mask_shard_of_four_axes_reads_back_and_matches_zarrs_own_write(tmp_path):
    rng = np.random.default_rng(2)
    g = zarr.open_group(str(tmp_path), mode="w")
    kw = dict(shape=(3, 2, 200, 8), dtype="uint8", chunks=(1, 1, 128, 8), shards=(3, 2, 128, 8), fill_value=0,
              compressors=[BloscCodec(cname="lz4", clevel=5, shuffle="noshuffle", typesize=1)])
    ours, theirs = g.create_array("ours", **kw), g.create_array("theirs", **kw)
    data = rng.integers(0, 256, (3, 2, 200, 8), dtype=np.uint8)
    theirs[:] = data
    for k in range(2):
        shardwrite.write_shard(tmp_path / "ours", (0, 0, k, 0), _shard_parts(data, (3, 2, 128, 8), (1, 1, 128, 8),
                                                                             (0, 0, k, 0)))
    assert np.array_equal(ours[:], data)
    assert np.array_equal(ours[:], theirs[:])


def test_a_built_values_shard_read_by_the_column_reader_and_by_zarr(tmp_path):
    a = zarr.open_group(str(tmp_path), mode="w").create_array(
        "v", shape=(64, 16), dtype="float16", chunks=(64, 8), shards=(64, 16), compressors=BLOSC)
    data = np.arange(64 * 16, dtype=np.float16).reshape(64, 16)
    shardwrite.write_shard(tmp_path / "v", (0, 0), shardwrite.column_chunks(data, 8))
    assert np.array_equal(a[:], data)
    assert np.array_equal(shards.read_column(tmp_path / "v", 11), data[:, 11])


def test_a_damaged_index_is_refused_by_zarr(tmp_path):
    a = zarr.open_group(str(tmp_path), mode="w").create_array(
        "v", shape=(64, 8), dtype="float16", chunks=(64, 4), shards=(64, 8), compressors=BLOSC)
    shardwrite.write_shard(tmp_path / "v", (0, 0), shardwrite.column_chunks(np.ones((64, 8), np.float16), 4))
    shard = tmp_path / "v" / "c" / "0" / "0"
    raw = bytearray(shard.read_bytes())
    raw[-10] ^= 1  # a bit of the index: its CRC32C no longer matches
    shard.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="checksum"):
        a[:]


def test_column_chunks_cut_units_and_zero_the_rest():
    block = np.arange(5 * 13, dtype=np.float16).reshape(5, 13)
    chunks = shardwrite.column_chunks(block, 4)
    assert chunks.shape == (4, 5, 4)
    for j in range(3):
        assert np.array_equal(chunks[j], block[:, 4 * j : 4 * j + 4])
    assert np.array_equal(chunks[3, :, 0], block[:, 12]) and (chunks[3, :, 1:] == 0).all()
    assert np.array_equal(shardwrite.column_chunks(block[:, ::2], 7)[0], block[:, ::2])  # not contiguous


def test_what_it_cannot_write_gets_a_sentence(tmp_path):
    g = zarr.open_group(str(tmp_path), mode="w")
    g.create_array("plain", shape=(8, 4), dtype="float16", chunks=(4, 4))
    with pytest.raises(ValueError, match="not a sharded array"):
        shardwrite.write_shard(tmp_path / "plain", (0, 0), [np.zeros((4, 4), np.float16)])
    g.create_array("v", shape=(8, 8), dtype="float16", chunks=(8, 4), shards=(8, 8), compressors=None)
    with pytest.raises(ValueError, match="2 inner chunks"):
        shardwrite.write_shard(tmp_path / "v", (0, 0), [np.zeros((8, 4), np.float16)])
    with pytest.raises(ValueError, match="does not fit"):
        shardwrite.write_shard(tmp_path / "v", (0, 0), [np.zeros((9, 4), np.float16)] * 2)
