"""`python -m app import`: writes a verified model, or nothing at all with a sentence on stderr."""
from __future__ import annotations

import numpy as np
import pytest

from app.commands import main
from lstm_core import load_model

torch = pytest.importorskip("torch")
from safetensors.torch import save_file  # noqa: E402


@pytest.fixture()
def lm_file(tmp_path):
    """A small torch language model (embedding, LSTM, linear decoder) saved as safetensors, with a vocabulary."""
    torch.manual_seed(0)
    lstm = {f"lstm.{k}": v for k, v in torch.nn.LSTM(3, 5).state_dict().items()}
    sd = {"embedding.weight": torch.randn(4, 3), **lstm,
          "decoder.weight": torch.randn(4, 5), "decoder.bias": torch.randn(4)}
    save_file(sd, str(tmp_path / "lm.safetensors"))
    (tmp_path / "vocab.json").write_text('["a", "b", "c", " "]')
    return tmp_path / "lm.safetensors", tmp_path / "vocab.json"


def test_import_writes_a_model_that_traces(lm_file, tmp_path, capsys):
    src, vocab = lm_file
    out = tmp_path / "store" / "m.safetensors"
    assert main(["import", str(src), "--out", str(out), "--vocab", str(vocab), "--name", "My LM"]) == 0
    printed = capsys.readouterr().out
    assert "verified against torch" in printed and "ok" in printed
    m = load_model(out)
    assert m.name == "My LM" and m.meta["verification"]["passed"]
    assert m.trace_text("ab c").probs.shape == (4, 4)
    assert np.isfinite(m.meta["verification"]["max"])


@pytest.mark.parametrize("case", ["wrong-vocab", "bad-map", "truncated", "exists"])
def test_failures_write_nothing(lm_file, tmp_path, capsys, case):
    src, vocab = lm_file
    out = tmp_path / "store" / "m.safetensors"
    args = ["import", str(src), "--out", str(out)]
    if case == "wrong-vocab":
        vocab.write_text('["a", "b"]')
        args += ["--vocab", str(vocab)]
    elif case == "bad-map":
        args += ["--map", "lstm"]
    elif case == "truncated":
        src.write_bytes(src.read_bytes()[:100])
    else:
        out.parent.mkdir()
        out.write_bytes(b"keep")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    if case == "exists":
        assert out.read_bytes() == b"keep"
    else:
        assert not out.parent.exists() or not any(out.parent.iterdir())


def test_head_flags_write_a_classifier_with_labels(lm_file, tmp_path, capsys):
    src, vocab = lm_file
    (tmp_path / "labels.txt").write_text("w\nx\ny\nz\n")
    out = tmp_path / "c.safetensors"
    args = ["import", str(src), "--out", str(out), "--vocab", str(vocab), "--labels", str(tmp_path / "labels.txt"),
            "--head", "classifier", "--pool", "last"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "head: a sequence classifier (4 classes" in printed and "output[:, -1]" in printed
    m = load_model(out)
    assert (m.head.kind, m.head.labels, m.head.pool) == ("classifier", ("w", "x", "y", "z"), "last")
    assert main(["import", str(src), "--out", str(tmp_path / "n.safetensors"), "--vocab", str(vocab),
                 "--head", "next-token", "--labels", str(tmp_path / "labels.txt")]) == 2
    assert "labels are its vocabulary" in capsys.readouterr().err
