"""PyTorch state dicts (.safetensors and .pt) against torch itself, and hostile torch files."""
from __future__ import annotations

import pickle
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from safetensors.torch import save_file  # noqa: E402

from lstm_core import ModelError  # noqa: E402
from lstm_core.importers import import_model  # noqa: E402

TOL = 1e-5


def _save(sd: dict, path, how: str) -> None:
    if how == "safetensors":
        save_file({k: v.detach().contiguous() for k, v in sd.items()}, str(path))
    else:
        torch.save(sd, str(path))


def _torch_run(lstm: torch.nn.LSTM, x: np.ndarray):
    """torch's output (B, T, D*H_out), h_n and c_n as (B, L*D, .), whatever batch_first says."""
    xt = torch.from_numpy(x)
    with torch.no_grad():
        out, (h, c) = lstm(xt if lstm.batch_first else xt.transpose(0, 1))
    out = out if lstm.batch_first else out.transpose(0, 1)
    return out.numpy(), h.transpose(0, 1).numpy(), c.transpose(0, 1).numpy()


CONFIGS = [
    dict(num_layers=1),
    dict(num_layers=2, bidirectional=True),
    dict(num_layers=2, proj_size=3),
    dict(num_layers=3, bidirectional=True, proj_size=2, batch_first=True),
]


@pytest.mark.parametrize("how", ["safetensors", "pt"])
@pytest.mark.parametrize("kw", CONFIGS, ids=lambda kw: "-".join(f"{k}{v}" for k, v in kw.items()))
def test_nn_lstm_matches_torch(tmp_path, kw, how):
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(6, 5, **kw).eval()
    path = tmp_path / f"m.{how}"
    _save({f"rnn.{k}": v for k, v in lstm.state_dict().items()}, path, how)
    res = import_model(path)
    x = np.random.default_rng(2).standard_normal((3, 9, 6)).astype(np.float32)
    out, h, c = _torch_run(lstm, x)
    tr = res.model.lstm.trace(x)
    assert np.abs(tr.output - out).max() < TOL
    assert np.abs(tr.h_n - h).max() < TOL
    assert np.abs(tr.c_n - c).max() < TOL
    v = res.verification
    assert v["verified"] and v["passed"] and v["max"] < TOL
    assert v["framework"].startswith("torch")
    assert res.model.input_kind == "vector"


def test_language_model_with_prefix_vocab_and_decoder(tmp_path):
    torch.manual_seed(3)
    emb, lstm, fc = torch.nn.Embedding(6, 4), torch.nn.LSTM(4, 5, 2, batch_first=True), torch.nn.Linear(5, 6)
    sd = {**{f"encoder.{k}": v for k, v in emb.state_dict().items()},
          **{f"model.rnn.{k}": v for k, v in lstm.state_dict().items()},
          **{f"head.{k}": v for k, v in fc.state_dict().items()}}
    _save(sd, tmp_path / "lm.safetensors", "safetensors")
    (tmp_path / "vocab.txt").write_text("a\nb\nc\nd\ne\n \n")
    res = import_model(tmp_path / "lm.safetensors", vocab=tmp_path / "vocab.txt")
    m = res.model
    assert m.input_kind == "embedding" and m.tokenizer.kind == "char"
    tt = m.trace_text("abc ed")
    ids = torch.tensor([[0, 1, 2, 5, 4, 3]])
    with torch.no_grad():
        probs = torch.softmax(fc(lstm(emb(ids))[0]), -1)[0].numpy()
    assert list(tt.ids) == [0, 1, 2, 5, 4, 3]
    assert np.abs(tt.probs - probs).max() < TOL
    assert res.verification["max_abs_diff"]["probs"] < TOL
    assert "## Verification" in m.meta["card"] and m.meta["verification"]["passed"]


def test_lstm_cell_names(tmp_path):
    torch.manual_seed(4)
    cell = torch.nn.LSTMCell(3, 4)
    _save({f"cell.{k}": v for k, v in cell.state_dict().items()}, tmp_path / "c.pt", "pt")
    res = import_model(tmp_path / "c.pt")
    x = np.random.default_rng(5).standard_normal((6, 3)).astype(np.float32)
    h = c = torch.zeros(1, 4)
    hs = []
    with torch.no_grad():
        for t in range(6):
            h, c = cell(torch.from_numpy(x[t : t + 1]), (h, c))
            hs.append(h[0].numpy())
    assert np.abs(res.model.lstm.trace(x).output - np.stack(hs)).max() < TOL
    assert res.model.meta["provenance"]["import"]["module"] == "LSTMCell"


def test_two_lstms_need_a_mapping(tmp_path):
    a, b = torch.nn.LSTM(3, 4), torch.nn.LSTM(3, 2)
    _save({**{f"a.{k}": v for k, v in a.state_dict().items()}, **{f"b.{k}": v for k, v in b.state_dict().items()}},
          tmp_path / "two.safetensors", "safetensors")
    with pytest.raises(ModelError, match="--map lstm"):
        import_model(tmp_path / "two.safetensors")
    res = import_model(tmp_path / "two.safetensors", mapping={"lstm": "b"})
    assert res.model.lstm.config.hidden_size == 2
    assert any("a.weight_ih_l0" in n for n in res.notes)


def test_checkpoint_dict_and_float64(tmp_path):
    lstm = torch.nn.LSTM(3, 4).double()
    torch.save({"epoch": 3, "state_dict": lstm.state_dict()}, tmp_path / "ck.pth")
    res = import_model(tmp_path / "ck.pth")
    assert res.model.lstm.dtype == np.float64 and res.verification["max"] < 1e-10


def test_without_torch_safetensors_still_import_but_say_unverified(tmp_path, monkeypatch):
    _save(torch.nn.LSTM(3, 4).state_dict(), tmp_path / "m.safetensors", "safetensors")
    _save(torch.nn.LSTM(3, 4).state_dict(), tmp_path / "m.pt", "pt")
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    res = import_model(tmp_path / "m.safetensors")
    assert res.verification["verified"] is False and "torch is not installed" in res.verification["reason"]
    assert "Not verified" in res.model.meta["card"]
    with pytest.raises(ModelError, match="torch is not installed"):
        import_model(tmp_path / "m.pt")


class _Evil:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))  # unpickling would create the marker file


@pytest.mark.parametrize("container", ["pickle", "torch.save"])
def test_pickle_that_would_run_code_is_refused(tmp_path, container):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    payload = {"weight_ih_l0": torch.zeros(8, 1), "x": _Evil(str(marker))}
    if container == "pickle":
        path.write_bytes(pickle.dumps(payload, protocol=2))
    else:
        torch.save(payload, str(path))
    with pytest.raises(ModelError, match="weights_only"):
        import_model(path)
    assert not marker.exists()


def test_truncated_and_lying_safetensors(tmp_path):
    _save(torch.nn.LSTM(3, 4).state_dict(), tmp_path / "m.safetensors", "safetensors")
    raw = (tmp_path / "m.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(raw[: len(raw) - 40])
    with pytest.raises(ModelError, match="truncated"):
        import_model(tmp_path / "cut.safetensors")
    lying = (10**12).to_bytes(8, "little") + raw[8:]
    (tmp_path / "lie.safetensors").write_bytes(lying)
    with pytest.raises(ModelError, match="claims"):
        import_model(tmp_path / "lie.safetensors")
    (tmp_path / "cut.pt").write_bytes(b"PK\x03\x04" + b"\0" * 30)
    with pytest.raises(ModelError):
        import_model(tmp_path / "cut.pt")


def test_torch_zip_bomb_is_refused_before_torch_inflates_it(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "bomb.pt", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        z.writestr("archive/data/0", b"\0" * (64 << 20))
    with pytest.raises(ModelError, match="zip bomb"):
        import_model(tmp_path / "bomb.pt")


def test_vocabulary_of_the_wrong_length(tmp_path):
    sd = {"emb.weight": torch.randn(5, 3), **torch.nn.LSTM(3, 4).state_dict()}
    _save(sd, tmp_path / "m.safetensors", "safetensors")
    (tmp_path / "v.json").write_text('["a", "b", "c"]')
    with pytest.raises(ModelError, match="3 tokens but the model's embedding has 5 rows"):
        import_model(tmp_path / "m.safetensors", vocab=tmp_path / "v.json")


def test_not_an_lstm(tmp_path):
    _save(torch.nn.GRU(3, 4).state_dict(), tmp_path / "gru.safetensors", "safetensors")
    with pytest.raises(ModelError, match="not an LSTM"):
        import_model(tmp_path / "gru.safetensors")
    _save(torch.nn.Linear(3, 4).state_dict(), tmp_path / "lin.safetensors", "safetensors")
    with pytest.raises(ModelError, match="no LSTM weights"):
        import_model(tmp_path / "lin.safetensors")


def test_verification_catches_a_wrong_conversion(tmp_path):
    """The check can fail: a model that differs from the file's weights is reported, not passed."""
    from dataclasses import replace

    from lstm_core import LSTM, Model
    from lstm_core.importers.torch_state import from_state_dict
    from lstm_core.importers.verify import _diff, verify

    parts = from_state_dict(torch.nn.LSTM(3, 4, 2).state_dict())
    good = Model(parts.lstm, "vector")
    assert verify(parts, good)["passed"]
    swapped = dict(parts.lstm.params)  # f and g rows exchanged: the classic gate-order bug
    for k in ("weight_ih_l1", "weight_hh_l1", "bias_ih_l1"):
        w = swapped[k].copy()
        w[4:8], w[8:12] = swapped[k][8:12], swapped[k][4:8]
        swapped[k] = w
    bad = replace(good, lstm=LSTM(parts.lstm.config, swapped))
    record = verify(parts, bad)
    assert record["verified"] and not record["passed"] and record["max"] > 1e-3
    assert _diff(np.zeros((2, 3)), np.zeros((2, 4))) is None
