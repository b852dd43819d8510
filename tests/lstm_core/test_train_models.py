"""Every shipped model loads in the core and its card's claimed metric is recomputed here, independently.

The recomputation uses only the core's forward (`Model.trace_ids`), never the trainer's code.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from lstm_core import card_examples, load_model
from lstm_core.tasks import TASKS, accuracy
from tests.conftest import need_shared

MODELS = Path(__file__).resolve().parents[2] / "models"
TASK_MODELS = {"counter": "counting", "brackets": "brackets", "remember": "remember"}
MAX_BYTES = 8 * 1024 * 1024


def _check_card(path: Path):
    model = load_model(path)
    meta = model.meta
    assert {"name", "description", "provenance", "metrics", "card"} <= set(meta)
    # The .md is the card in the file's metadata, plus (for corpus models) the census section that
    # `python -m app index --shipped --census` appends: it stays out of the weights file.
    card = path.with_suffix(".md").read_text(encoding="utf-8")
    assert card.split("\n## Units found by the census\n")[0] == meta["card"]
    for section in ("## Data", "## Architecture", "## Metrics", "## Training", "## Reproduce"):
        assert section in meta["card"]
    assert f"{model.num_parameters:,} parameters" in meta["card"]
    assert meta["provenance"]["command"].startswith("python -m app train ")
    assert model.tokenizer.unk == "<unk>"  # anything typed has an id
    assert path.stat().st_size < MAX_BYTES
    # The page opens on these: each must be text the model knows, every character in its vocabulary.
    examples = card_examples(meta["card"])
    assert examples
    for text in examples:
        assert model.tokenizer.encode(text).oov == [], (path.stem, text)
    return model


@pytest.mark.parametrize("name", list(TASK_MODELS))
def test_tiny_task_model_reaches_its_claimed_held_out_accuracy(name: str) -> None:
    model = _check_card(MODELS / f"{name}.safetensors")
    assert model.lstm.config.hidden_size <= 16
    claimed = model.meta["metrics"]["accuracy"]
    assert claimed >= 0.99
    assert accuracy(model, TASKS[TASK_MODELS[name]], n=1000) == claimed


def _val_loss(model, ids: np.ndarray, chunk: int = 1000, group: int = 8) -> float:
    """Mean next-character cross-entropy, chunks of `chunk` characters each from a zero state.

    Chunks run through the core's batched `LSTM.trace` with per-sequence lengths, `group` at a time,
    on one BLAS thread: the products are small, and spare threads only spin on a shared machine.
    """
    from threadpoolctl import threadpool_limits

    pieces = [ids[k : k + chunk] for k in range(0, len(ids), chunk) if len(ids[k : k + chunk]) > 1]
    total, count = 0.0, 0
    with threadpool_limits(1, "blas"):
        for lo in range(0, len(pieces), group):
            grp = pieces[lo : lo + group]
            T = max(len(p) for p in grp) - 1
            x = np.zeros((len(grp), T, model.lstm.config.input_size), model.lstm.dtype)
            for b, p in enumerate(grp):
                x[b, : len(p) - 1] = model.inputs(p[:-1])
            probs = model.decode(model.lstm.trace(x, lengths=np.array([len(p) - 1 for p in grp])))  # (B, T, V)
            for b, p in enumerate(grp):
                n = len(p) - 1
                total -= float(np.log(probs[b, np.arange(n), p[1:]].astype(np.float64)).sum())
                count += n
    return total / count


@pytest.mark.slow
@pytest.mark.shared
def test_shakespeare_model_reaches_its_claimed_validation_loss() -> None:
    """Recomputes the whole validation loss (the last 10% of the file, 112 chunks) with the core's forward."""
    text = need_shared("data/tinyshakespeare.txt").read_text(encoding="utf-8")
    model = _check_card(MODELS / "shakespeare-char.safetensors")
    val = text[len(text) - int(round(len(text) * 0.1)) :]
    got = _val_loss(model, model.encode(val).ids)
    claimed = model.meta["metrics"]["val_loss"]
    assert abs(got - claimed) < 1e-3
    assert claimed <= 1.50


@pytest.mark.slow
def test_python_model_reaches_its_claimed_held_out_loss() -> None:
    model = _check_card(MODELS / "python-char.safetensors")
    data = model.meta["provenance"]["data"]
    if data["python"] != sys.version.split()[0]:
        pytest.skip(f"the card's held-out text is Python {data['python']}'s standard library; this is "
                    f"{sys.version.split()[0]}, whose sources differ")
    from lstm_core.train.pycorpus import corpus_text

    text = corpus_text(tuple(data["held_out_modules"]))
    assert set(data["held_out_modules"]).isdisjoint(data["train_modules"])
    assert abs(_val_loss(model, model.encode(text).ids) - model.meta["metrics"]["val_loss"]) < 1e-3
