"""The model registry: ids are file stems, bad files are skipped with a warning, never a crash."""
from __future__ import annotations

import logging
import shutil

from app.registry import Registry


def test_loads_every_good_file_and_skips_the_broken_one(model_dir, caplog):
    with caplog.at_level(logging.WARNING, logger="gatescope.registry"):
        reg = Registry.load(model_dir)
    assert reg.ids == ["bi-proj", "tiny-char", "vec", "words"]
    assert [e.id for e in reg] == reg.ids
    assert any("skipping broken.safetensors" in r.getMessage() for r in caplog.records)
    assert reg.get("tiny-char").model.lstm.config.num_layers == 2
    assert reg.get("broken") is None and reg.get("../tiny-char") is None


def test_missing_directory_is_an_empty_registry(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="gatescope.registry"):
        reg = Registry.load(tmp_path / "nowhere")
    assert len(reg) == 0 and "does not exist" in caplog.text


def test_unusable_file_names_are_skipped(tmp_path, model_dir, caplog):
    shutil.copy(model_dir / "vec.safetensors", tmp_path / "-odd name.safetensors")
    shutil.copy(model_dir / "vec.safetensors", tmp_path / "fine.safetensors")
    with caplog.at_level(logging.WARNING, logger="gatescope.registry"):
        reg = Registry.load(tmp_path)
    assert reg.ids == ["fine"] and "not a usable model id" in caplog.text


def test_a_file_added_later_is_found_by_id(tmp_path, model_dir):
    """Another worker process may have stored an upload after this one started."""
    reg = Registry.load(tmp_path)
    assert reg.get("late") is None
    shutil.copy(model_dir / "vec.safetensors", tmp_path / "late.safetensors")
    assert reg.get("late").id == "late" and reg.ids == ["late"]
