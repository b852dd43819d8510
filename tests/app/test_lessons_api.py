"""GET /api/lessons and /api/lessons/{id}: the unit each lesson watches, measured on the shipped teaching model or
named by the model card; the sentences when a lesson cannot run."""
from __future__ import annotations

import dataclasses
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from app.i18n import translate
from lstm_core import LSTM, LSTMConfig, Model, Tokenizer, load_model, save_model
from lstm_core.tasks import HOMETOWN
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
    # The task a model must have been trained on to run the lesson in place of its own (?model=).
    assert {k: v["task"] for k, v in got.items()} == {"hometown": "hometown", "counter": "counting",
                                                     "brackets": "brackets", "remember": "remember"}


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


def _permuted(model: Model, perm: np.ndarray, meta: dict) -> Model:
    """The same network with its units renumbered: new unit k is old unit perm[k] (every gate's rows, W_hh's
    columns and the decoder's columns move together, so it computes exactly what the old one did)."""
    H = len(perm)
    rows = np.concatenate([g * H + perm for g in range(4)])  # the i, f, g, o blocks of torch's (4H, ...) layout
    p = model.lstm.params
    params = {"weight_ih_l0": p["weight_ih_l0"][rows], "weight_hh_l0": p["weight_hh_l0"][rows][:, perm],
              "bias_ih_l0": p["bias_ih_l0"][rows], "bias_hh_l0": p["bias_hh_l0"][rows]}
    return dataclasses.replace(model, lstm=LSTM(model.lstm.config, params),
                               decoder_weight=model.decoder_weight[:, perm], meta=meta)


@pytest.fixture(scope="module")
def kept_dir(lessons_dir, tmp_path_factory) -> Path:
    """The lesson models plus models as the Train panel keeps them (`train-<job>-<step>`)."""
    d = tmp_path_factory.mktemp("kept-models")
    for f in lessons_dir.iterdir():
        shutil.copy(f, d)
    counter = load_model(d / "counter.safetensors")
    # A counting model whose counting unit is another one than the shipped model's: the lesson must find it.
    save_model(_permuted(counter, np.array([3, 2, 0, 1]), dict(counter.meta, name="my counter")),
               d / "train-0123456789ab-300.safetensors")
    remember = load_model(d / "remember.safetensors")
    save_model(dataclasses.replace(remember, meta=dict(remember.meta, name="kept remember")),
               d / "train-ba9876543210-300.safetensors")
    # Trained on hometown, as a kept model is: provenance but no measured place units.
    tok = HOMETOWN.tokenizer
    prov = {"data": {"task": "hometown"}, "steps": 100}
    save_model(Model(LSTM.random(LSTMConfig(len(tok), 6, 1), seed=2), "onehot", tok, None,
                     np.zeros((len(tok), 6), np.float32), None, {"name": "kept hometown", "provenance": prov}),
               d / "train-aaaaaaaaaaaa-100.safetensors")
    return d


def test_a_lesson_runs_on_a_kept_model_of_its_task(kept_dir):
    with _client(kept_dir) as c:
        r = c.get("/api/lessons/counter", params={"model": "train-0123456789ab-300"})
        own = c.get("/api/lessons/counter").json()
    assert r.status_code == 200, r.text
    r = r.json()
    found = task_unit(load_model(kept_dir / "train-0123456789ab-300.safetensors"), "counting")
    assert r["model"] == "train-0123456789ab-300" and r["task"] == "counting" and r["source"] == "measured"
    assert r["unit"] == found.unit and r["units"] == list(found.units) and r["value"] == found.value
    # Renumbered units: new unit k is old unit perm[k], so the shipped model's unit u is now perm.index(u).
    assert own["model"] == "counter" and r["unit"] == [3, 2, 0, 1].index(own["unit"])
    assert r["value"] == pytest.approx(own["value"], abs=1e-5)


def test_a_lesson_refuses_an_unknown_or_foreign_model_with_a_sentence(kept_dir):
    with _client(kept_dir) as c:
        r = c.get("/api/lessons/counter", params={"model": "train-nope-1"})
        assert r.status_code == 404 and r.json()["code"] == "unknown_model"
        assert "'train-nope-1'" in r.json()["detail"]
        for lesson, model, task in (("counter", "train-ba9876543210-300", "counting"),  # trained on remember
                                    ("counter", "hometown", "counting"), ("remember", "counter", "remember")):
            r = c.get(f"/api/lessons/{lesson}", params={"model": model}, headers={"Accept-Language": "zh-CN"})
            assert r.status_code == 422 and r.json()["code"] == "lesson_wrong_model"
            assert r.json()["detail"] == translate("zh-CN", "error.lesson_wrong_model", lesson=lesson, model=model,
                                                   task=task, own=lesson)
        ok = c.get("/api/lessons/remember", params={"model": "train-ba9876543210-300"})
        assert ok.status_code == 200 and ok.json()["model"] == "train-ba9876543210-300"


def test_a_kept_hometown_model_says_its_units_are_not_measured(kept_dir):
    with _client(kept_dir) as c:
        r = c.get("/api/lessons/hometown", params={"model": "train-aaaaaaaaaaaa-100"})
    assert r.status_code == 422 and r.json()["code"] == "lesson_no_units"
    assert r.json()["detail"] == translate("en", "error.lesson_units_unmeasured", model="train-aaaaaaaaaaaa-100")
