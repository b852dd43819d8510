"""The hostile-file corpus (tests/hostile.py) against the server: in the model directory at startup, dropped in
while serving, and uploaded. The server starts, keeps serving, answers 4xx with a sentence, never 5xx."""
from __future__ import annotations

import logging

import pytest

from tests import hostile
from tests.app.conftest import app_client, make_models

# Files that are not gatescope models: the registry skips each with one line.
SKIPPED = {"deep-header", "deep-metadata", "rank65", "header-lies", "surrogates", "torch-zip"}


@pytest.fixture(scope="module")
def corpus() -> dict[str, tuple[bytes, str]]:
    """Every hostile file, made once for this module."""
    return hostile.corpus()


def _write(directory, corpus, names=None) -> None:
    for name, (data, _) in corpus.items():
        if name.endswith(".safetensors") and (names is None or name in names):
            (directory / name).write_bytes(data)


def test_the_server_starts_and_serves_with_every_hostile_file_in_its_directory(tmp_path, corpus, caplog):
    """Defect 16.4: a header nested 200,000 deep stopped startup (RecursionError); non-string metadata made
    /api/models answer 500 for every model, and an integer card broke /api/models/{id}."""
    make_models(tmp_path)
    _write(tmp_path, corpus)
    with caplog.at_level(logging.WARNING, logger="gatescope.registry"), app_client(tmp_path) as c:
        r = c.get("/api/models")
        assert r.status_code == 200, r.text
        ids = {m["id"] for m in r.json()["models"]}
        assert {"tiny-char", "words", "meta-types", "overflow", "xss", "surrogate-text"} <= ids
        assert not ids & SKIPPED
        for mid in ids:
            d = c.get(f"/api/models/{mid}")
            assert d.status_code == 200, (mid, d.text)
        m = c.get("/api/models/meta-types").json()
        assert (m["name"], m["description"], m["card"], m["metrics"], m["source"]) == ("123", "", "7", {}, {})
        assert m["verification"] is None
        m = c.get("/api/models/surrogate-text").json()
        assert (m["name"], m["card"], m["metrics"]) == ("bad \ufffd name", "# \ufffd", {"loss\ufffd": "\ufffd"})
        r = c.post("/api/trace", json={"model": "overflow", "text": "aa"})
        assert r.status_code == 422 and "overflowed" in r.json()["detail"]
        for mid in ("meta-types", "xss", "tiny-char"):
            assert c.post("/api/trace", json={"model": mid, "text": "ab"}).status_code == 200
    skipped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("skipping")]
    for stem in SKIPPED:
        assert sum(f"skipping {stem}.safetensors" in line for line in skipped) == 1, (stem, skipped)
    assert all("\n" not in line for line in skipped)  # one line each, no traceback


def test_a_hostile_file_dropped_in_while_serving_is_skipped(tmp_path, corpus):
    make_models(tmp_path)
    with app_client(tmp_path) as c:
        _write(tmp_path, corpus, {"deep-header.safetensors", "deep-metadata.safetensors", "meta-types.safetensors"})
        for _ in range(2):
            r = c.get("/api/models")
            assert r.status_code == 200, r.text
        assert "meta-types" in {m["id"] for m in r.json()["models"]}
        assert c.get("/api/models/deep-header").status_code == 404


@pytest.mark.slow
def test_every_hostile_file_uploaded_is_a_sentence_and_stores_nothing(tmp_path, corpus):
    """As uploads: 4xx with a sentence (defect 16.4 gave 500 for the deep header, 16.8 for 65 dimensions),
    except the torch file named .safetensors, which is a valid model (defect 16.10)."""
    models = tmp_path / "models"
    with app_client(models) as c:
        for name, (data, _) in corpus.items():
            r = c.post("/api/models/upload", files={"file": (name, data)})
            if name == "torch-zip.safetensors":
                assert r.status_code == 200, r.text
                continue
            assert 400 <= r.status_code < 500, (name, r.status_code, r.text)
            body = r.json()
            assert body["detail"].endswith(".") and body["code"], name
            assert "Traceback" not in body["detail"]
        assert c.get("/api/health").status_code == 200
    assert len(list(models.glob("*.safetensors"))) == 1
    assert not [p for p in models.iterdir() if p.name.startswith(".")]
