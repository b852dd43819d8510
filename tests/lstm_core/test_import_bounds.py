"""Files that lie: zip members that claim one size and inflate to another, JSON nested without end, tensors
of 65 dimensions, a torch file with the wrong extension. Each is a ModelError, costing little memory."""
from __future__ import annotations

import tracemalloc

import pytest

from lstm_core import ModelError, load_model
from lstm_core.importers import import_model
from tests import hostile
from tests.conftest import need_module


def test_a_keras_member_that_lies_about_its_size_costs_one_chunk(tmp_path):
    """Defect 16.2: headers claimed 1,000 bytes, and the importer inflated 128 MiB (1 GiB in the report)
    before the CRC check failed. Decompressed a chunk at a time, the lie costs a MiB."""
    path = tmp_path / "bomb.keras"
    path.write_bytes(hostile.keras_lying_bomb())
    pytest.importorskip("h5py")
    tracemalloc.start()
    try:
        with pytest.raises(ModelError, match="model.weights.h5"):
            import_model(path, verify=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"peak {peak / 2**20:.0f} MiB"


def test_a_torch_zip_member_that_lies_is_refused_before_torch_reads_it(tmp_path):
    need_module("torch")  # skips outside CI, fails under CI=true
    data = hostile.torch_lying_bomb()
    path = tmp_path / "bomb.pt"
    path.write_bytes(data)
    with pytest.raises(ModelError, match="corrupt or truncated|beyond"):
        import_model(path, verify=False)


def test_a_torch_file_named_safetensors_imports(tmp_path):
    """Defect 16.10: torch.load sends a *path* ending in .safetensors to safetensors, which refused it."""
    need_module("torch")  # skips outside CI, fails under CI=true
    data = hostile.torch_as_safetensors()
    path = tmp_path / "weights.safetensors"
    path.write_bytes(data)
    res = import_model(path, verify=False)
    assert res.model.lstm.config.hidden_size == 4


@pytest.mark.parametrize("name, words", [("rank65.safetensors", "65 dimensions"),
                                          ("deep-header.safetensors", "nested more than 64 levels"),
                                          ("header-lies.safetensors", "truncated")])
def test_hostile_safetensors_are_sentences(tmp_path, name, words):
    """Defect 16.8 (65 dimensions: ValueError from NumPy) and 16.4 (RecursionError from json)."""
    path = tmp_path / name
    path.write_bytes(hostile.corpus()[name][0])
    with pytest.raises(ModelError, match=words):
        import_model(path, verify=False)
    with pytest.raises(ModelError, match=words):
        load_model(path)


def test_nesting_is_measured_outside_strings_with_escapes():
    from lstm_core.jsonsafe import loads, nesting

    assert nesting(b'{"a": [1, {"b": "[[[\\"{{"}], "c": "\\\\"}') == 3
    assert nesting(b"[" * 70 + b"]" * 70) == 70
    assert nesting(b'["\\\\\\"[", []]') == 2
    with pytest.raises(ModelError, match="nested more than 64"):
        loads("[" * 65 + "]" * 65, "the file")
    assert loads("[" * 64 + "]" * 64, "the file") is not None
    with pytest.raises(ModelError, match="not valid JSON"):
        loads(b'{"a": ', "the file")
