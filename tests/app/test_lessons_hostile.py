"""Hostile files named like lesson models, over real HTTP: a card's meta["units"] may hold anything JSON can (strings,
floats, negatives, numbers past the last unit, a huge list, nested lists, a non-list, infinities, lone surrogates).
The lesson then works on the entries that are units of the model, or answers a 4xx catalog sentence; never a 500."""
from __future__ import annotations

import math
from pathlib import Path

import httpx
import pytest

from app.i18n import translate
from app.testing import start_server, stop_server
from lstm_core import LSTM, LSTMConfig, Model, load_model
from tests import hostile
from tests.conftest import ROOT

H = 64  # the shipped hometown model's units: 0..63
INF = float("inf")

# ?model=<name> -> (place_units in the card, the units a working lesson watches; None: a 422 sentence).
# Expected lists are written out by hand: the integers in [0, H), each once, in the card's order.
CASES = {
    "strings": (["12", "34"], None),
    "floats": ([12.0, 3.5], None),
    "negatives": ([-1, -64], None),
    "out-of-range": ([64, 10**30], None),
    "nested": ([[12], [[34]]], None),
    "non-list": (12, None),
    "a-string": ("12", None),
    "a-dict": ({"12": 1}, None),
    "booleans": ([True, False], None),
    "mixed": (["x", 3.5, -1, 999, True, [1], None, 12, 12, 34], [12, 34]),
    "huge-one-good": ([-1] * 200_000 + [7], [7]),
    "huge-all-good": (list(range(200_000)), list(range(H))),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real server whose model directory holds the hometown model under every hostile card (built the way
    tests/hostile.py builds files: the metadata JSON rewritten after saving), plus lesson-named oddities."""
    d: Path = tmp_path_factory.mktemp("hostile-lessons")
    home = load_model(ROOT / "models" / "hometown.safetensors")  # trained on the hometown task, its vocabulary
    for name, (place_units, _) in CASES.items():
        data = hostile.gatescope_bytes(home, units={"place_units": place_units})
        (d / f"hometown-{name}.safetensors").write_bytes(data)
    (d / "hometown-units-a-list.safetensors").write_bytes(hostile.gatescope_bytes(home, units=[12, 34]))
    fields = {"place_units": [40, "41", 41], "eta2": {"40": INF}, "eta2_median_other": math.nan, "examples": True,
              "effects": {"erase\udc80": {"accuracy": "\ud800"}},
              "by_language": {"zh": "no", "en": {"place_units": ["4"]}, "xx": {"place_units": [4, 99], "eta2": [1],
                                                                              "examples": -3, "effects": [1]}}}
    (d / "hometown.safetensors").write_bytes(hostile.gatescope_bytes(home, units=fields))  # the lesson's own model
    # Measured lessons run the task on whatever model holds their name: another vocabulary, or none at all.
    (d / "counter.safetensors").write_bytes(hostile.gatescope_bytes(hostile.tiny_model(), units="x"))
    vectors = Model(LSTM.random(LSTMConfig(3, 4, 1)), "vector")
    (d / "brackets.safetensors").write_bytes(hostile.gatescope_bytes(vectors))
    base, proc = start_server(d)
    try:
        yield base
    finally:
        stop_server(proc)


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_cards_units_give_a_working_lesson_or_a_sentence(server, name):
    want = CASES[name][1]
    r = httpx.get(f"{server}/api/lessons/hometown", params={"model": f"hometown-{name}"}, timeout=60)
    if want is None:
        assert r.status_code == 422, r.text
        assert r.json() == {"code": "lesson_no_units", "detail": translate(
            "en", "error.lesson_bad_units", model=f"hometown-{name}", last=H - 1)}
    else:
        assert r.status_code == 200, r.text
        assert (r.json()["unit"], r.json()["units"]) == (want[0], want)


def test_the_sentence_comes_in_the_readers_language(server):
    r = httpx.get(f"{server}/api/lessons/hometown", params={"model": "hometown-strings", "lang": "zh-CN"}, timeout=60)
    assert r.status_code == 422
    assert r.json()["detail"] == translate("zh-CN", "error.lesson_bad_units", model="hometown-strings", last=H - 1)


def test_units_that_are_not_an_object_are_unmeasured(server):
    r = httpx.get(f"{server}/api/lessons/hometown", params={"model": "hometown-units-a-list"}, timeout=60)
    assert r.status_code == 422
    assert r.json()["detail"] == translate("en", "error.lesson_units_unmeasured", model="hometown-units-a-list")


def test_every_other_field_of_the_card_is_checked_too(server):
    """Infinity, NaN, a boolean count and lone surrogates, in the lesson's own model: a 200 that JSON can carry."""
    r = httpx.get(f"{server}/api/lessons/hometown", timeout=60)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["unit"], got["units"], got["value"], got["others"], got["examples"]) == (40, [40, 41], None, None, None)
    assert got["effects"] == {"erase\ufffd": {"accuracy": "\ufffd"}}
    assert list(got["by_language"]) == ["xx"]
    xx = got["by_language"]["xx"]
    assert (xx["units"], xx["value"], xx["examples"], xx["effects"]) == ([4], None, None, None)


def test_measured_lessons_on_odd_models_answer_and_the_server_keeps_serving(server):
    r = httpx.get(f"{server}/api/lessons/counter", timeout=120)
    assert r.status_code == 200, r.text
    assert 0 <= r.json()["unit"] < 3 and sorted(r.json()["units"]) == [0, 1, 2]
    r = httpx.get(f"{server}/api/lessons/brackets", timeout=60)
    no_vocabulary = "This model has no vocabulary, so it has no teaching task to measure units on."
    assert r.status_code == 422
    assert r.json()["detail"] == translate("en", "error.in_english", sentence=no_vocabulary)
    assert httpx.get(f"{server}/api/health", timeout=10).status_code == 200
