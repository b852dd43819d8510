"""The fast one-column shard reader against zarr's own reads, on built indexes and on odd arrays."""
from __future__ import annotations

import numpy as np
import pytest
import zarr
from zarr.codecs import BloscCodec

from lstm_core.corpus import shards


@pytest.mark.parametrize("which", ["small", "small_bidi"])
def test_every_column_of_a_built_index_equals_zarrs_read(which, request):
    b = request.getfixturevalue(which)
    for q in b.index.manifest.settings.quantities:
        arr = b.index.array(f"values/{q}")
        for col in range(arr.shape[1]):
            fast = shards.read_column(b.path / "values" / q, col)
            assert fast is not None and fast.dtype == np.float16
            assert np.array_equal(fast.view(np.uint16), arr[:, col].view(np.uint16)), (q, col)


@pytest.mark.parametrize("compressors", [None, [BloscCodec(cname="lz4", shuffle="bitshuffle", typesize=2)]],
                         ids=["raw", "blosc"])
def test_ragged_arrays_and_unwritten_shards_read_as_zarr_reads_them(tmp_path, compressors):
    rng = np.random.default_rng(0)
    # 10 units in chunks of 4 (a 12-wide shard), 300 tokens in shards of 128: the last shard is partial
    a = zarr.open_group(str(tmp_path), mode="w").create_array(
        "v", shape=(300, 10), dtype="float16", chunks=(64, 4), shards=(128, 12), compressors=compressors,
        fill_value=0.5)
    data = rng.standard_normal((300, 10)).astype(np.float16)
    a[:128] = data[:128]  # the second shard is never written: zarr reads it as the fill value
    a[256:] = data[256:]
    for col in range(10):
        fast = shards.read_column(tmp_path / "v", col)
        assert np.array_equal(fast.view(np.uint16), a[:, col].view(np.uint16)), col
    assert (shards.read_column(tmp_path / "v", 3)[128:256] == 0.5).all()
    assert shards.read_column(tmp_path / "v", 10) is None


def test_an_unsharded_array_is_left_to_zarr(tmp_path):
    zarr.open_group(str(tmp_path), mode="w").create_array("v", shape=(10, 4), dtype="float16", chunks=(5, 2))
    assert shards.read_column(tmp_path / "v", 0) is None
    assert shards.read_column(tmp_path / "missing", 0) is None


def test_a_damaged_shard_is_left_to_zarr(tmp_path):
    a = zarr.open_group(str(tmp_path), mode="w").create_array(
        "v", shape=(128, 8), dtype="float16", chunks=(64, 4), shards=(128, 8),
        compressors=[BloscCodec(cname="lz4", shuffle="bitshuffle", typesize=2)])
    a[:] = np.arange(128 * 8, dtype=np.float16).reshape(128, 8)
    assert shards.read_column(tmp_path / "v", 5) is not None
    shard = tmp_path / "v" / "c" / "0" / "0"
    shard.write_bytes(b"\0" * 40 + shard.read_bytes()[40:])  # the first inner chunk's bytes overwritten
    assert shards.read_column(tmp_path / "v", 1) is None
