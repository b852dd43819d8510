"""`python -m app index`: exit codes, sentences, the census output and --shipped."""
from __future__ import annotations

import json

import numpy as np
import pytest

from app.commands import main
from lstm_core import save_model
from lstm_core.corpus import CorpusIndex
from tests.lstm_core.corpus_fixtures import python_like, tiny_model

SMALL = ["--window", "64", "--warmup", "8", "--tokens-chunk", "512", "--units-chunk", "4", "--workers", "1",
         "--no-progress"]


@pytest.fixture
def files(tmp_path):
    """A tiny model file and a 600-character corpus in tmp_path."""
    save_model(tiny_model(seed=5), tmp_path / "m.safetensors")
    (tmp_path / "c.txt").write_text(python_like(600, seed=5), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("argv, sentence", [
    ([], "give MODEL CORPUS --out DIR (or --shipped)"),
    (["m.safetensors", "c.txt"], "give MODEL CORPUS --out DIR"),
    (["m.safetensors", "--shipped"], "--shipped chooses the models"),
    (["m.safetensors", "c.txt", "--out", "ix", "--thresholds", "0.1,x"], "--thresholds must be numbers"),
    (["m.safetensors", "c.txt", "--out", "ix", "--quantities", "hq"], "quantities must be distinct letters"),
    (["m.safetensors", "bin.dat", "--out", "ix"], "looks binary"),
    (["nope.safetensors", "c.txt", "--out", "ix"], "nope.safetensors"),
])
def test_bad_input_exits_2_with_a_sentence(files, monkeypatch, capsys, argv, sentence):
    monkeypatch.chdir(files)
    (files / "bin.dat").write_bytes(bytes(range(256)))
    assert main(["index", *argv, *SMALL]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and sentence in err and "Traceback" not in err


def test_index_with_census(files, monkeypatch, capsys):
    monkeypatch.chdir(files)
    assert main(["index", "m.safetensors", "c.txt", "--out", "ix", "--census", "--regex", "def", *SMALL]) == 0
    out = capsys.readouterr()
    assert "ix: 600 tokens of c.txt by m" in out.err and "## Units found by the census" in out.out
    census = json.loads((files / "ix" / "census.json").read_text())
    names = [f["feature"] for f in census["features"]]
    assert "bracket_depth" in names and "regex def" in names
    assert census["units"] == {"c": 12, "h": 12} and census["tokens"] == 600
    assert CorpusIndex.open(files / "ix").manifest.corpus["tokens"] == 600


def test_shipped_indexes_held_out_text_and_writes_the_card_section(tmp_path, monkeypatch, capsys):
    models = tmp_path / "models"
    models.mkdir()
    (tmp_path / "corpus.txt").write_text(python_like(2000, seed=6), encoding="utf-8")
    lm = tiny_model(seed=6)
    lm.meta.update(name="lm", provenance={"data": {"corpus": str(tmp_path / "corpus.txt"), "val_fraction": 0.25}})
    save_model(lm, models / "lm.safetensors")
    (models / "lm.md").write_text("# lm\n\nA card.\n")
    save_model(tiny_model(seed=7), models / "task.safetensors")  # no provenance: no text to index
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # the second run finds the index complete and replaces the card's section
        assert main(["index", "--shipped", "--models", "models", "--census", *SMALL]) == 0
    err = capsys.readouterr().err
    assert "task: no held-out text" in err and "lm: indexing its last 25% of corpus.txt" in err
    ix = CorpusIndex.open(tmp_path / "var" / "indexes" / "lm")
    assert ix.text(0, ix.num_chars) == python_like(2000, seed=6)[1500:]
    card = (models / "lm.md").read_text()
    assert card.startswith("# lm\n\nA card.\n") and card.count("## Units found by the census") == 1
    assert json.loads((models / "lm.census.json").read_text())["corpus"] == "last 25% of corpus.txt"
    np.testing.assert_array_equal(ix.ids(0, 3), lm.encode(python_like(2000, seed=6)[1500:1503]).ids)
