"""Every kind of model file, damaged: only ModelError sentences come back, and the CLI answers in one line.

Each fixture is truncated at several points, has a byte flipped at several places, and loses one tensor
(a state-dict entry, an HDF5 dataset, an ONNX initializer). Importing must then either succeed (a flipped
byte inside a weight is still a weight) or raise ModelError; any other exception is a bug that would reach
the user as a traceback.
"""
from __future__ import annotations

import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
torch = pytest.importorskip("torch")
keras = pytest.importorskip("keras")
h5py = pytest.importorskip("h5py")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnxruntime.quantization import QuantType, quantize_dynamic  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402

from app.commands import main  # noqa: E402
from lstm_core import ModelError  # noqa: E402
from lstm_core.importers import import_model  # noqa: E402
from tests.lstm_core.test_import_keras_weights import keras2_lm, to_cudnn, write_keras2  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


class LM(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = torch.nn.Embedding(7, 3)
        self.rnn = torch.nn.LSTM(3, 4, num_layers=2, batch_first=True)
        self.fc = torch.nn.Linear(4, 7)

    def forward(self, ids):
        return self.fc(self.rnn(self.emb(ids))[0])


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """One small file of every kind the importers read, made with the real libraries."""
    d = tmp_path_factory.mktemp("fixtures")
    torch.manual_seed(0)
    lm = LM().eval()
    sd = {f"model.{k}": v.numpy() for k, v in lm.state_dict().items()}
    save_file(sd, str(d / "lm.safetensors"))
    torch.save(lm.state_dict(), d / "lm.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(lm, (torch.zeros(1, 5, dtype=torch.long),), str(d / "lm.onnx"), dynamo=False,
                          input_names=["ids"], dynamic_axes={"ids": {0: "b", 1: "t"}})
        quantize_dynamic(str(d / "lm.onnx"), str(d / "q.onnx"), weight_type=QuantType.QInt8, reduce_range=True)
    keras.utils.set_random_seed(0)
    km = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(7, 3),
                           keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True)),
                           keras.layers.Dense(7)])
    km.save(d / "k.keras")
    km.save(d / "k.h5")
    km.save_weights(d / "k.weights.h5")
    rng = np.random.default_rng(0)
    w = {"emb": rng.normal(size=(11, 3)).astype(np.float32),
         "l1": [rng.normal(size=s).astype(np.float32) for s in ((3, 20), (5, 20), (20,))],
         "l2": [rng.normal(size=s).astype(np.float32) for s in ((5, 20), (5, 20), (20,))],
         "dense": [rng.normal(size=(5, 11)).astype(np.float32), rng.normal(size=11).astype(np.float32)]}
    write_keras2(d / "k2.h5", keras2_lm(w), "2.2.4")
    write_keras2(d / "cudnn.h5", keras2_lm(w, cudnn=to_cudnn(*w["l2"], rng)), "2.3.1")
    return {p.name: p for p in d.iterdir()}


def truncations(raw: bytes) -> list[bytes]:
    return [raw[:n] for n in sorted({1, 9, len(raw) // 10, len(raw) // 2, len(raw) * 9 // 10, len(raw) - 1})]


def flips(raw: bytes) -> list[bytes]:
    out = []
    for at in (8, 20, len(raw) // 3, len(raw) // 2, len(raw) - 3):
        b = bytearray(raw)
        b[at] ^= 0xFF
        out.append(bytes(b))
    return out


def without_a_tensor(path: Path, dest: Path) -> None:
    """The same file with one tensor gone, rewritten by the library that made it."""
    name = path.name
    if name.endswith(".safetensors"):
        from safetensors.numpy import load_file

        t = load_file(str(path))
        t.pop("model.rnn.weight_hh_l0")
        save_file(t, str(dest))
    elif name.endswith(".pt"):
        t = torch.load(path, weights_only=True)
        t.pop("rnn.weight_hh_l0")
        torch.save(t, dest)
    elif name.endswith(".onnx"):
        m = onnx.load(str(path))
        big = max(m.graph.initializer, key=lambda t: np.prod(t.dims))
        m.graph.initializer.remove(big)
        onnx.save(m, str(dest))
    elif name.endswith(".keras"):
        with zipfile.ZipFile(path) as z, zipfile.ZipFile(dest, "w") as out:
            for item in z.namelist():
                data = z.read(item)
                if item == "model.weights.h5":
                    data = _drop_dataset(data, dest.parent)
                out.writestr(item, data)
    else:
        dest.write_bytes(_drop_dataset(path.read_bytes(), dest.parent))


def _drop_dataset(raw: bytes, tmp: Path) -> bytes:
    f = tmp / "drop.h5"
    f.write_bytes(raw)
    with h5py.File(f, "r+") as h:
        names = []
        h.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        del h[sorted(names)[len(names) // 2]]
    return f.read_bytes()


def _import_or_model_error(path: Path) -> str:
    try:
        import_model(path)
        return "imported"
    except ModelError as e:
        assert str(e) and "\n" not in str(e).strip(), repr(e)
        return "refused"


KINDS = ["lm.safetensors", "lm.pt", "lm.onnx", "q.onnx", "k.keras", "k.h5", "k.weights.h5", "k2.h5", "cudnn.h5"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_damaged_files_give_model_errors_only(files, tmp_path, kind):
    src = files[kind]
    raw = src.read_bytes()
    assert _import_or_model_error(src) == "imported"  # the undamaged file imports
    outcomes = []
    for k, data in enumerate(truncations(raw) + flips(raw)):
        p = tmp_path / f"m{k}{src.suffix}"
        p.write_bytes(data)
        outcomes.append(_import_or_model_error(p))
    gone = tmp_path / f"gone{''.join(src.suffixes)}"
    without_a_tensor(src, gone)
    assert _import_or_model_error(gone) == "refused"  # a missing tensor is never imported silently
    assert outcomes[:len(truncations(raw))].count("refused") >= len(truncations(raw)) - 1


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["lm.onnx", "k2.h5"])
def test_cli_exit_code_2_and_one_line(files, tmp_path, capsys, kind):
    raw = files[kind].read_bytes()
    for k, data in enumerate(truncations(raw)[2:]):
        p = tmp_path / f"t{k}{files[kind].suffix}"
        p.write_bytes(data)
        assert main(["import", str(p), "--out", str(tmp_path / f"o{k}.safetensors")]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in err


def test_an_importer_bug_is_exit_1_with_one_sentence(files, tmp_path):
    """A crash inside an importer (simulated) reaches the user as one sentence naming the file and type, exit 1."""
    script = ("import sys; import lstm_core.importers.torch_state as t\n"
              "def boom(*a, **k): raise KeyError('internal')\n"
              "t.from_state_dict = boom\n"
              "from app.commands import main\n"
              f"sys.exit(main(['import', {str(files['lm.safetensors'])!r}, '--out', {str(tmp_path / 'o.st')!r}]))\n")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stderr
    err = out.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "lm.safetensors" in err and "(KeyError)" in err and "Reporting a problem" in err
