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


def test_refresh_lists_files_added_later_and_retries_a_bad_one_only_when_it_changes(tmp_path, model_dir, caplog):
    """With --workers N, an upload stored by one worker must appear in every worker's /api/models."""
    reg = Registry.load(tmp_path)
    shutil.copy(model_dir / "vec.safetensors", tmp_path / "late.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 3)
    with caplog.at_level(logging.WARNING, logger="gatescope.registry"):
        reg.refresh()
        reg.refresh()
    assert reg.ids == ["late"]
    assert sum("skipping bad.safetensors" in r.getMessage() for r in caplog.records) == 1
    shutil.copy(model_dir / "words.safetensors", tmp_path / "bad.safetensors")  # fixed in place
    reg.refresh()
    assert reg.ids == ["bad", "late"]


def test_models_endpoint_lists_a_file_added_while_serving(client, model_dir):
    before = {m["id"] for m in client.get("/api/models").json()["models"]}
    shutil.copy(model_dir / "vec.safetensors", model_dir / "added-later.safetensors")
    try:
        after = {m["id"] for m in client.get("/api/models").json()["models"]}
    finally:
        (model_dir / "added-later.safetensors").unlink()
    assert after == before | {"added-later"}


def test_any_exception_reading_a_file_skips_it_with_one_line(model_dir, caplog, monkeypatch):
    """Defect 16.4's last line of defence: whatever reading a file raises (MemoryError, RecursionError, an importer's
    KeyError...), that file is skipped with one line and every other file is served."""
    import app.registry as registry

    real = registry.load_model
    raised = {"tiny-char": MemoryError(), "words": RecursionError("deep"), "bi-proj": KeyError("w")}

    def load(path, *args, **kwargs):
        if path.stem in raised:
            raise raised[path.stem]
        return real(path, *args, **kwargs)

    monkeypatch.setattr(registry, "load_model", load)
    with caplog.at_level(logging.WARNING, logger="gatescope.registry"):
        reg = Registry.load(model_dir)
    assert reg.ids == ["vec"]
    lines = [r.getMessage() for r in caplog.records]
    for stem, exc in raised.items():
        assert [line for line in lines if f"skipping {stem}.safetensors" in line] == [
            f"skipping {stem}.safetensors: reading it raised {type(exc).__name__}"]
