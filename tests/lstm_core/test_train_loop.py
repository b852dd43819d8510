"""The training loop: exact resume, clear stops on bad input and non-finite loss, Ctrl-C, a tiny end-to-end run."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app.commands import main
from lstm_core import ModelError, load_model
from lstm_core.tasks import TASKS, accuracy
from lstm_core.train.checkpoint import load_checkpoint, sidecar_path
from lstm_core.train.config import TrainConfig
from lstm_core.train.loop import TrainingError, train

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A small deterministic text file: pseudo-random words, 6,000 characters."""
    rng = np.random.default_rng(0)
    words = ["the", "cat", "sat", "on", "mat", "and", "dog", "ran", "far", "away"]
    text = " ".join(words[k] for k in rng.integers(len(words), size=1500))[:6000] + "\n"
    p = tmp_path / "corpus.txt"
    p.write_text(text, encoding="utf-8")
    return p


def _cfg(corpus: Path, **kw) -> TrainConfig:
    base = dict(corpus=str(corpus), hidden_size=8, num_layers=2, batch=4, seq_len=12, steps=14, lr=5e-3,
                dropout=0.2, checkpoint_every=0, seed=3, threads=1)
    return TrainConfig(**{**base, **kw})


def test_checkpoint_then_resume_equals_an_uninterrupted_run(corpus: Path, tmp_path: Path) -> None:
    cfg = _cfg(corpus, batch=16, seq_len=30)
    whole = train(cfg, tmp_path / "a.safetensors", progress=False, log=lambda s: None)
    first = train(cfg, tmp_path / "b.safetensors", stop_at=6, progress=False, log=lambda s: None)
    assert first.interrupted and first.step == 6
    rest = train(None, tmp_path / "b.safetensors", resume=tmp_path / "b.safetensors", progress=False,
                 log=lambda s: None)
    assert rest.step == whole.step == 14
    assert set(rest.params) == set(whole.params)
    for k in whole.params:
        assert np.array_equal(rest.params[k], whole.params[k]), k
    # the run crossed an epoch boundary after the resume, with dropout on: data order and masks both resumed
    from lstm_core.train.loop import make_source
    assert make_source(cfg).streams.steps_per_epoch < 14


def test_checkpoint_is_a_native_model_with_an_optimizer_sidecar(corpus: Path, tmp_path: Path) -> None:
    ck = tmp_path / "c.safetensors"
    train(_cfg(corpus, checkpoint_every=5, steps=5), ck, progress=False, log=lambda s: None)
    model = load_model(ck)
    assert model.meta["provenance"]["checkpoint_step"] == 5
    assert sorted(model.lstm.params)[:2] == ["bias_hh_l0", "bias_hh_l1"]  # torch names, traceable
    model.trace_text("the cat")
    params, spec, tok, opt, step, state, cfg = load_checkpoint(ck)
    assert step == 5 and opt.t == 5 and set(opt.m) == set(params) and state[0][0].shape == (4, 8)
    assert sidecar_path(ck).read_bytes()[:8]  # a separate safetensors file, no pickle anywhere
    sidecar_path(ck).unlink()
    with pytest.raises(ModelError, match="resume needs both files"):
        load_checkpoint(ck)


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(corpus: Path, tmp_path: Path) -> None:
    ck = tmp_path / "nan.safetensors"
    with pytest.raises(TrainingError) as err:
        train(_cfg(corpus, lr=1e37, clip=0, checkpoint_every=1, steps=200, dropout=0), ck, progress=False)
    msg = str(err.value)
    assert re.search(r"the loss became (nan|inf)|the weights stopped being finite", msg), msg
    good = int(re.search(r"last good checkpoint is .* \(step (\d+)\)", msg).group(1))
    model = load_model(ck)  # validated on load: every weight finite
    assert model.meta["provenance"]["checkpoint_step"] == good >= 1


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"  \n\n ", "is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "looks binary"),
    (b"caf\xe9 au lait" * 50, "not UTF-8"),
    (b"hello world, too short", "shorter than one sequence"),
])
def test_bad_corpus_is_a_clear_error(tmp_path: Path, content: bytes, message: str, capsys) -> None:
    p = tmp_path / "bad.txt"
    p.write_bytes(content)
    with pytest.raises(ModelError, match=message):
        train(_cfg(p, seq_len=30, val_fraction=0.0), tmp_path / "x.safetensors", progress=False)
    rc = main(["train", str(p), "--out", str(tmp_path / "x.safetensors"), "--seq-len", "30", "--no-progress"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "error:" in err and message in err and "Traceback" not in err


def test_corpus_too_short_for_the_batch_names_the_fix(corpus: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="lower --batch or --seq-len"):
        train(_cfg(corpus, batch=64, seq_len=100), tmp_path / "x.safetensors", progress=False)


def test_ctrl_c_saves_a_checkpoint_and_exits_cleanly(corpus: Path, tmp_path: Path) -> None:
    out, ck = tmp_path / "m.safetensors", tmp_path / "m.ckpt.safetensors"
    cmd = [sys.executable, "-m", "app", "train", str(corpus), "--out", str(out), "--layers", "1", "--hidden", "8",
           "--batch", "4", "--seq-len", "12", "--steps", "1000000", "--checkpoint-every", "1", "--threads", "1"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 120
    while not ck.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert ck.exists(), proc.stderr.read() if proc.poll() is not None else "no checkpoint within 120 s"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted: checkpoint at step" in err and "--resume" in err
    step = load_model(ck).meta["provenance"]["checkpoint_step"]
    assert load_checkpoint(ck)[4] == step >= 1
    assert not out.exists()  # no half-trained final model pretends to be finished


@pytest.mark.slow
def test_tiny_counting_run_reaches_the_accuracy_bar(tmp_path: Path) -> None:
    out = tmp_path / "counter.safetensors"
    rc = main(["train", "--task", "counting", "--layers", "1", "--hidden", "4", "--batch", "32", "--lr", "1e-2",
               "--steps", "1500", "--eval-every", "100", "--target", "1.0", "--out", str(out), "--threads", "1",
               "--no-progress", "--checkpoint-every", "0"])
    assert rc == 0
    model = load_model(out)
    assert accuracy(model, TASKS["counting"], n=300) >= 0.99  # recomputed, not read from the card
    assert out.with_suffix(".md").read_text() == model.meta["card"]


def test_config_rejects_nonsense(corpus: Path) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        TrainConfig(corpus=str(corpus), task="counting")
    with pytest.raises(ValueError, match="dropout"):
        replace(_cfg(corpus), dropout=1.0)


def test_history_keeps_snapshots_that_end_at_the_final_weights_and_survive_a_resume(
        corpus: Path, tmp_path: Path) -> None:
    from lstm_core.train.history import read_manifest

    hist = tmp_path / "hist" / "run"
    cfg = _cfg(corpus, steps=10, history_every=4, history_dir=str(hist), dropout=0)
    part = train(cfg, tmp_path / "a.safetensors", stop_at=6, progress=False, log=lambda s: None)
    assert part.interrupted and [s["step"] for s in read_manifest(hist)["snapshots"]] == [4]
    done = train(None, tmp_path / "a.safetensors", resume=tmp_path / "a.safetensors", progress=False,
                 log=lambda s: None)
    manifest = read_manifest(hist)
    assert [s["step"] for s in manifest["snapshots"]] == [4, 8, 10]  # every 4 steps, and the last
    assert manifest["name"] == "run" and all("val_loss" in s["metrics"] for s in manifest["snapshots"])
    last = load_model(hist / manifest["snapshots"][-1]["file"])
    assert last.meta["provenance"]["history_step"] == 10
    for k, v in last.lstm.params.items():
        np.testing.assert_array_equal(v, done.params[f"lstm.{k}"])
    np.testing.assert_array_equal(last.decoder_weight, done.params["decoder.weight"])
    first = load_model(hist / "step-000004.safetensors")
    assert not np.array_equal(first.lstm.params["weight_hh_l0"], last.lstm.params["weight_hh_l0"])


def test_history_needs_a_directory() -> None:
    with pytest.raises(ValueError, match="history-dir"):
        TrainConfig(task="counting", history_every=5)
