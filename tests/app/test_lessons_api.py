"""GET /api/lessons and /api/lessons/{id}: the unit each lesson watches, measured on the shipped teaching model or
named by the model card; the sentences when a lesson cannot run."""
from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from app.i18n import translate
from lstm_core import LSTM, LSTMConfig, Model, Tokenizer, load_model, save_model
from lstm_core.teaching import task_unit
from tests.conftest import ROOT


def _client(model_dir: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from app.main import create_app
    from app.settings import Settings, get_settings

    app = create_app()
    app.dependency_overrides[get_settings] = lambda: Settings(model_dir=model_dir)
    return TestClient(app)


def _hometown_like(path: Path, units: dict | None) -> None:
    """A small random model saved as hometown, with or without the card's place units."""
    tok = Tokenizer.build("我来自内蒙古，我能讲一口流利的蒙古语。", "char", unk=True)
    rng = np.random.default_rng(0)
    meta = {"name": "hometown", "description": "test"} | ({"units": units} if units else {})
    save_model(Model(LSTM.random(LSTMConfig(len(tok), 6, 1), seed=1), "onehot", tok, None,
                     rng.normal(size=(len(tok), 6)).astype(np.float32), None, meta), path)


@pytest.fixture(scope="module")
def lessons_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("lesson-models")
    shutil.copy(ROOT / "models" / "counter.safetensors", d)
    shutil.copy(ROOT / "models" / "remember.safetensors", d)
    units = {"place_units": [4, 1], "eta2": {"4": 0.9, "1": 0.8}, "eta2_median_other": 0.1, "examples": 50,
             "effects": {"none": {"accuracy": 1.0}, "erase": {"accuracy": 0.2}},
             "by_language": {"en": {"place_units": [2], "eta2": {"2": 0.7}, "eta2_median_other": 0.3, "examples": 20,
                                    "effects": {"none": {"accuracy": 1.0}, "erase": {"accuracy": 0.5}}}}}
    _hometown_like(d / "hometown.safetensors", units)
    return d


def test_the_list_says_which_lessons_can_run_here(lessons_dir):
    with _client(lessons_dir) as c:
        got = {x["id"]: x for x in c.get("/api/lessons").json()["lessons"]}
    assert list(got) == ["hometown", "counter", "brackets", "remember"]
    assert {k: v["available"] for k, v in got.items()} == {"hometown": True, "counter": True, "brackets": False,
                                                          "remember": True}
    assert got["hometown"]["text"] == "我来自内蒙古，我能讲一口流利的" and got["remember"]["write"] == "first"
    assert got["hometown"]["write"] == "place" and ["zh", "我来自", "，"] in got["hometown"]["place"]
    assert got["counter"]["place"] == []


def test_a_measured_lesson_names_the_unit_its_task_finds(lessons_dir):
    with _client(lessons_dir) as c:
        r = c.get("/api/lessons/counter").json()
    found = task_unit(load_model(lessons_dir / "counter.safetensors"), "counting")
    assert r["unit"] == found.unit and r["units"] == list(found.units) and r["source"] == "measured"
    assert r["measure"] == "r" and r["value"] == found.value and r["others"] == found.runner_up and r["examples"] == 300
    assert abs(r["value"]) > 0.9 and abs(r["value"]) > r["others"]


def test_the_hometown_lesson_reads_the_cards_place_units(lessons_dir):
    with _client(lessons_dir) as c:
        r = c.get("/api/lessons/hometown").json()
    assert (r["unit"], r["units"], r["value"], r["others"], r["others_kind"]) == (4, [4, 1], 0.9, 0.1, "median")
    assert r["source"] == "card" and r["effects"]["erase"]["accuracy"] == 0.2
    # Units ranked per language: the page takes those of the language whose place it finds.
    en = r["by_language"]["en"]
    assert (en["unit"], en["units"], en["value"], en["others"], en["examples"]) == (2, [2], 0.7, 0.3, 20)
    assert set(r["by_language"]) == {"en"} and en["effects"]["erase"]["accuracy"] == 0.5


def test_a_lesson_that_cannot_run_says_why_in_the_readers_language(lessons_dir, tmp_path):
    with _client(lessons_dir) as c:
        r = c.get("/api/lessons/brackets", headers={"Accept-Language": "zh-CN"})
        assert r.status_code == 404 and r.json()["code"] == "lesson_model_missing"
        want = translate("zh-CN", "error.lesson_model_missing", lesson="brackets", model="brackets")
        assert r.json()["detail"] == want
        r = c.get("/api/lessons/nope")
        assert r.status_code == 404 and r.json()["code"] == "unknown_lesson"
        assert "hometown, counter" in r.json()["detail"]
    _hometown_like(tmp_path / "hometown.safetensors", None)
    with _client(tmp_path) as c:
        r = c.get("/api/lessons/hometown")
    assert r.status_code == 422 and r.json()["code"] == "lesson_no_units"
