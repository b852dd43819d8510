"""Building a corpus index: stored values, manifest, resuming after Ctrl-C, Dask, and bad input."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lstm_core import ModelError, save_model
from lstm_core.corpus import CorpusIndex, IndexSettings, build_index
from tests.conftest import ROOT
from tests.lstm_core.corpus_fixtures import SETTINGS, build_small, python_like, read_all, reference, tiny_model


@pytest.mark.parametrize("fixture", ["small", "small_bidi"])
def test_stored_values_are_the_per_window_traces_in_float16(fixture, request):
    b = request.getfixturevalue(fixture)
    assert b.index.num_tokens == len(b.text) and b.index.num_chars == len(b.text)
    for q, ref in b.ref.items():
        got = b.index.block(q, 0, b.index.num_tokens)
        assert got.dtype == np.float16 and got.shape == ref.shape
        np.testing.assert_array_equal(got, ref, err_msg=q)


def test_units_that_do_not_fill_the_last_unit_chunk(tmp_path):
    """12 units in chunks of 8: the shard is rounded up to whole chunks (zarr refuses a 12-wide one)."""
    s = IndexSettings(window=64, warmup=16, tokens_chunk=128, units_chunk=8, batch=2, quantities=("c", "h"),
                      mask_quantities=())
    b = build_small(tmp_path, tiny_model(seed=1, hidden=6), python_like(300, seed=1), s)
    for q in ("c", "h"):
        np.testing.assert_array_equal(b.index.block(q, 0, b.index.num_tokens), b.ref[q], err_msg=q)


def test_float32_storage_error_is_within_float16_rounding(tmp_path):
    model = tiny_model(seed=3, dtype=np.float32)
    b = build_small(tmp_path, model, python_like(700, seed=3))
    trace = reference(model, model.encode(b.text).ids, SETTINGS, dtype=np.float64)  # the explorer's float32 values
    for q in SETTINGS.quantities:
        stored = b.index.block(q, 0, b.index.num_tokens).astype(np.float64)
        half_ulp = np.spacing(np.abs(trace[q]).astype(np.float16)).astype(np.float64) / 2
        # float16 rounding, plus the float32 difference between the batched, piecewise trace and the explorer's
        assert (np.abs(stored - trace[q]) <= half_ulp + 2e-6).all(), q
        assert (stored == trace[q].astype(np.float16)).mean() > 0.99, q


def test_tokens_text_and_offsets(small):
    ix = small.index
    np.testing.assert_array_equal(ix.ids(0, ix.num_tokens), small.model.encode(small.text).ids)
    np.testing.assert_array_equal(ix.spans(5, 9), [[5, 6], [6, 7], [7, 8], [8, 9]])
    assert ix.text(0, ix.num_chars) == small.text
    assert ix.text(1000, 1010) == small.text[1000:1010]


def test_manifest_names_model_corpus_and_contexts(small):
    m = small.index.manifest
    assert m.model["sha256"] == hashlib.sha256(small.model_path.read_bytes()).hexdigest()
    assert m.corpus["sha256"] == hashlib.sha256(small.corpus_path.read_bytes()).hexdigest()
    assert (m.corpus["tokens"], m.corpus["chars"], m.corpus["name"]) == (3000, 3000, "corpus.txt")
    assert m.settings == SETTINGS and m.stage == "complete" and m.model["causal"]
    raw = small.index.group.attrs["gatescope_index"]
    assert raw["contexts"]["window"] == 64 and "zero state" in raw["contexts"]["definition"]
    assert small.index.geometry.traced_span(70) == (48, 128)


def test_text_read_in_small_pieces_keeps_words_characters_and_offsets(tmp_path, monkeypatch):
    """Pieces of 7 bytes: words, blank runs and multi-byte characters all straddle piece boundaries."""
    from lstm_core import LSTM, LSTMConfig, Model, Tokenizer
    from lstm_core.corpus import source

    monkeypatch.setattr(source, "PIECE_BYTES", 7)
    tok = Tokenizer("word", ("<unk>", "the", "cat", "sat", "."), "<unk>")
    model = Model(LSTM.random(LSTMConfig(5, 4), dtype=np.float64), "onehot", tok)
    text = "the cat           sat.\n中文 café\n" * 8
    b = build_small(tmp_path, model, text, IndexSettings(window=16, warmup=4, tokens_chunk=64, units_chunk=2))
    assert b.index.text(0, b.index.num_chars) == text
    spans = b.index.spans(0, b.index.num_tokens)
    assert [text[s:e] for s, e in spans] == tok.split(text)[0]
    np.testing.assert_array_equal(b.index.ids(0, b.index.num_tokens), tok.encode(text).ids)
    np.testing.assert_array_equal(b.index.block("h", 0, b.index.num_tokens), b.ref["h"])


def _cli(args: list[str], cwd: Path, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "app", "index", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_arrays_whose_codecs_the_shard_writer_does_not_write_go_through_zarr(small, tmp_path, monkeypatch):
    """Values and masks created with zstd (zarr's default codec): the build writes them through zarr and
    stores what the shard writer stores for blosc arrays."""
    from zarr.codecs import ZstdCodec

    from lstm_core.corpus import shards, store

    monkeypatch.setattr(store, "_blosc", lambda typesize, shuffle: ZstdCodec(level=1))
    b = build_small(tmp_path, small.model, small.text)
    assert shards.layout(b.path / "values" / "c") is None  # so the zarr path ran
    ours, theirs = read_all(b.path), read_all(small.path)
    assert ours.keys() == theirs.keys()
    for name, a in theirs.items():
        np.testing.assert_array_equal(ours[name], a, err_msg=name)


def test_interrupted_and_resumed_equals_one_build(tmp_path):
    """Ctrl-C (SIGINT to the whole process group, workers included) mid-build, then the same command again."""
    model = tiny_model(seed=4, dtype=np.float32)
    save_model(model, tmp_path / "m.safetensors")
    # 125 tasks: with numba warm a task takes milliseconds, and at 32 the build could finish between the third
    # task's mark and the signal (it did once in the whole suite: exit 0, not 130)
    (tmp_path / "c.txt").write_text(python_like(32_000, seed=4), encoding="utf-8")
    opts = ["--window", "64", "--warmup", "16", "--tokens-chunk", "256", "--units-chunk", "4", "--quantities", "ch",
            "--masks", "h", "--no-progress"]
    s = IndexSettings(window=64, warmup=16, tokens_chunk=256, units_chunk=4, quantities=("c", "h"),
                      mask_quantities=("h",))
    build_index(tmp_path / "m.safetensors", tmp_path / "c.txt", tmp_path / "whole", s, workers=1, progress=False)
    args = ["m.safetensors", "c.txt", "--out", "resumed", "--workers", "2", *opts]
    p = _cli(args, tmp_path, start_new_session=True)
    deadline, progress = time.time() + 600, tmp_path / "resumed" / "progress"
    while not progress.is_dir() or len(list(progress.iterdir())) < 3:
        assert time.time() < deadline and p.poll() is None, "the build ended before it could be interrupted"
        time.sleep(0.02)
    os.killpg(p.pid, signal.SIGINT)
    assert p.wait(600) == 130
    err = p.stderr.read()
    assert "interrupted" in err and "run the same command again" in err, err
    done = len(list((tmp_path / "resumed" / "progress").glob("*.done")))
    assert 3 <= done < 125, done  # 32,000 tokens / 256: some tasks written, not all
    with pytest.raises(ModelError, match="not finished"):
        CorpusIndex.open(tmp_path / "resumed")
    again = _cli(args, tmp_path)
    assert again.wait(600) == 0, again.stderr.read()
    a, b = read_all(tmp_path / "whole"), read_all(tmp_path / "resumed")
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_dask_local_cluster_build_equals_local_build(small, tmp_path):
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        r = build_index(small.model_path, small.corpus_path, tmp_path / "dask", SETTINGS, dask=client, progress=False)
    assert not r.interrupted and r.ran == r.tasks == 12
    a, b = read_all(small.path), read_all(tmp_path / "dask")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_rerunning_a_complete_index_does_nothing(small):
    r = build_index(small.model_path, small.corpus_path, small.path, SETTINGS, workers=1, progress=False)
    assert r.ran == 0 and r.manifest.stage == "complete"


@pytest.mark.parametrize("content, match", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "looks binary"),
    (b"", "is empty"),
    (b" \n\n\t ", "is empty"),
    (b"caf\xe9 au lait", "not UTF-8 text \\(bad byte at offset 3\\)"),
])
def test_bad_corpus_files_get_a_sentence(tmp_path, content, match):
    save_model(tiny_model(), tmp_path / "m.safetensors")
    (tmp_path / "c.txt").write_bytes(content)
    with pytest.raises(ModelError, match=match):
        build_index(tmp_path / "m.safetensors", tmp_path / "c.txt", tmp_path / "ix", SETTINGS, workers=1,
                    progress=False)


def test_resuming_with_another_model_or_settings_is_refused(small, tmp_path):
    other = tmp_path / "other.safetensors"
    save_model(tiny_model(seed=9), other)
    with pytest.raises(ModelError, match="built by another model"):
        build_index(other, small.corpus_path, small.path, SETTINGS, workers=1, progress=False)
    with pytest.raises(ModelError, match="other settings"):
        build_index(small.model_path, small.corpus_path, small.path, IndexSettings(window=32, tokens_chunk=256),
                    workers=1, progress=False)
    (tmp_path / "c2.txt").write_text("something else", encoding="utf-8")
    with pytest.raises(ModelError, match="another corpus"):
        build_index(small.model_path, tmp_path / "c2.txt", small.path, SETTINGS, workers=1, progress=False)
    with pytest.raises(ModelError, match="not by other.safetensors"):
        small.index.check_model(other)
    small.index.check_model(small.model_path)


def test_not_an_index_and_bad_settings(tmp_path, small):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("mine")
    with pytest.raises(ModelError, match="exists and is not a gatescope index"):
        build_index(small.model_path, small.corpus_path, tmp_path / "junk", SETTINGS, workers=1, progress=False)
    with pytest.raises(ModelError, match="is not a gatescope index"):
        CorpusIndex.open(tmp_path / "junk")
    with pytest.raises(ModelError, match="multiple of window"):
        IndexSettings(window=100, tokens_chunk=256)
    with pytest.raises(ModelError, match="pattern-search masks need"):
        IndexSettings(quantities=("i", "f"), mask_quantities=("h",))
    with pytest.raises(ModelError, match="thresholds must be increasing positive"):
        IndexSettings(thresholds=(0.5, 0.0))


def test_a_model_without_vocabulary_cannot_index_text(tmp_path):
    from lstm_core import LSTM, LSTMConfig, Model

    save_model(Model(LSTM.random(LSTMConfig(3, 2)), "vector"), tmp_path / "v.safetensors")
    (tmp_path / "c.txt").write_text("abc")
    with pytest.raises(ModelError, match="takes vectors, not text"):
        build_index(tmp_path / "v.safetensors", tmp_path / "c.txt", tmp_path / "ix", SETTINGS, progress=False)
